package dialogue

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/consent"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// Post stores a message from the practice to the holder of its referral,
// or from the holder to the practice, and returns it with the stored
// Communication. The body is a Communication the dialogue accepts (acceptMessage).
func (s *Service) Post(ctx context.Context, c adapter.Caller, body []byte) (*adapter.Message, []byte, error) {
	res, err := s.parser.Parse(body, adapter.KindCommunication)
	if err != nil {
		return nil, nil, err
	}
	facts, err := fhir.CommunicationFrom(res)
	if err != nil {
		return nil, nil, err
	}
	f, err := acceptMessage(facts)
	if err != nil {
		return nil, nil, err
	}
	t, err := s.taskFor(ctx, c, f.Referral, f.Task)
	if err != nil {
		return nil, nil, err
	}
	fromPractice := c.Role == adapter.RolePractice
	if err := s.checkMessage(ctx, c, t, f, fromPractice); err != nil {
		return nil, nil, err
	}
	now := s.now().UTC()
	m := adapter.Message{ID: s.newID(), ReferralID: t.ReferralID, TaskID: t.ID, Practice: t.Practice, FromPractice: fromPractice,
		SenderOrg: c.Org, SenderRole: c.Role, By: c.Subject, InResponseTo: f.InResponseTo, Sent: now,
		Categories: f.Categories, SecurityLabels: f.Security}
	if !fromPractice {
		m.Approved = *f.Approved
	}
	stored, err := fhir.StampDialogue(res.Raw, m.ID, now, s.messageFill(c, t, fromPractice, now))
	if err != nil {
		return nil, nil, fmt.Errorf("dialogue: stamp message: %w", err)
	}
	if _, err := s.parser.Parse(stored, adapter.KindCommunication); err != nil {
		return nil, nil, fmt.Errorf("dialogue: stamped message is not valid: %w", err)
	}
	// The practice is told about a holder's message it may read; a
	// message it may not read is stored for the holders' own thread only.
	var ev *adapter.TaskEvent
	if !fromPractice && s.delivered(ctx, t, &m) {
		ev = event(s.root(ctx, t), now)
	}
	if err := s.store.SaveMessage(ctx, m, stored, ev); err != nil {
		return nil, nil, err
	}
	return &m, stored, nil
}

// sentSkew is how far ahead of the server's clock a message's sent may be:
// the sender's clock may run fast, but a message is not sent tomorrow.
const sentSkew = 5 * time.Minute

// checkMessage applies the dialogue's rules to a message p is sending on t.
func (s *Service) checkMessage(ctx context.Context, c adapter.Caller, t *adapter.Task, f message, fromPractice bool) error {
	if t.Owner == "" {
		return adapter.Errorf(adapter.ECONFLICT, "this referral is not with any service, so there is nobody to write to")
	}
	if t.ConsentHeld() {
		return adapter.Errorf(adapter.ECONFLICT, "this referral waits for the patient's consent: the service cannot see it yet")
	}
	if !fromPractice && f.Approved == nil {
		return adapter.Errorf(adapter.EREQUIRED, "a message to the practice must state whether the patient approved sharing it (extension %s)",
			fhir.ExtPatientApprovedSharing).At("Communication.extension")
	}
	if f.Subject != "" && f.Subject != t.Patient {
		return adapter.Errorf(adapter.EBUSINESSRULE, "subject must be the referral's patient").At("Communication.subject")
	}
	if !f.Sent.IsZero() && f.Sent.After(s.now().Add(sentSkew)) {
		return adapter.Errorf(adapter.EBUSINESSRULE, "sent is in the future: leave it out, and the server records when the message arrived").At("Communication.sent")
	}
	if f.Sender != "" && f.Sender != orgRef(c.Org) && (c.Person == "" || consent.PersonRef(f.Sender) != c.Person) {
		return adapter.Errorf(adapter.EBUSINESSRULE,
			"sender must be your own organisation, by ODS code, or you, the person your token names (its fhirUser)").At("Communication.sender")
	}
	allowed := []string{orgRef(t.Practice)}
	if fromPractice {
		allowed = []string{adapter.ServiceRef(t.Owner), orgRef(s.ownerOrg(t))}
	}
	for i, r := range f.Recipients {
		if !slices.Contains(allowed, r) {
			return adapter.Errorf(adapter.EBUSINESSRULE, "recipient must be the other party to this referral: %s", allowed[0]).
				At(fmt.Sprintf("Communication.recipient[%d]", i))
		}
	}
	if f.InResponseTo != "" {
		q, _, err := s.store.Message(ctx, f.InResponseTo)
		if err != nil && adapter.ErrorCode(err) != adapter.ENOTFOUND {
			return err
		}
		if err != nil || q.ReferralID != t.ReferralID || !s.readable(ctx, c, q) {
			return adapter.Errorf(adapter.EBUSINESSRULE, "inResponseTo must name a message of this referral's thread").At("Communication.inResponseTo[0]")
		}
	}
	return nil
}

// messageFill is what the server adds to a message: who sent it, to whom,
// on which Task and when, where the sender left those out.
func (s *Service) messageFill(c adapter.Caller, t *adapter.Task, fromPractice bool, now time.Time) fhir.Fill {
	svcName := ""
	if svc, ok := s.m.Service(t.Owner); ok {
		svcName = svc.Name
	}
	sender := fhir.OrgRef(c.Org, "")
	recipient := fhir.LiteralRef(adapter.ServiceRef(t.Owner), svcName)
	if !fromPractice {
		display := svcName
		if c.Name != "" {
			display = c.Name + ", " + svcName
		}
		sender, recipient = fhir.OrgRef(c.Org, display), fhir.OrgRef(t.Practice, "")
	}
	return fhir.Fill{Set: map[string]any{
		"sender": sender, "recipient": []any{recipient},
		"partOf": []any{fhir.LiteralRef("Task/"+t.ID, "")},
		"sent":   fhir.Instant(now),
	}}
}

// delivered reports whether a message will reach the practice, to decide
// whether the practice is told of it: its own always; a holder's only when
// the patient approved it and consent permits disclosing it to the
// practice. Each reader is decided again when it reads (sees).
func (s *Service) delivered(ctx context.Context, t *adapter.Task, m *adapter.Message) bool {
	if m.FromPractice {
		return true
	}
	if s.disc != nil {
		return s.disc.ToPractice(ctx, t, m.Disclosure())
	}
	return m.Approved
}

// sees reports whether c, a party to the message's Task t, may read
// message m: its own organisation's always; another's when the patient's
// approval (for the practice) and consent permit it to reach c (each
// decision audited by the Disclosure).
func (s *Service) sees(ctx context.Context, c adapter.Caller, t *adapter.Task, m *adapter.Message) bool {
	if m.SenderOrg == c.Org {
		return true
	}
	if c.Role == adapter.RolePractice && m.Practice != c.Org {
		return false
	}
	if m.Closure {
		// A closure summary always reaches the parties (issue 19); what
		// of it each may read, closureFor decides.
		return true
	}
	if s.disc != nil {
		return s.disc.Sees(ctx, c, t, m.Disclosure())
	}
	return c.Role != adapter.RolePractice || m.Approved
}

// readable reports whether c may read message m.
func (s *Service) readable(ctx context.Context, c adapter.Caller, m *adapter.Message) bool {
	t, err := s.visibleTask(ctx, c, m.TaskID, adapter.KindCommunication)
	return err == nil && s.sees(ctx, c, t, m)
}

// Read returns one message's Communication, if p may read it; not found
// otherwise (withheld, someone else's, or no such message alike).
func (s *Service) Read(ctx context.Context, c adapter.Caller, id string) ([]byte, error) {
	m, body, err := s.store.Message(ctx, id)
	if adapter.ErrorCode(err) == adapter.ENOTFOUND {
		return nil, adapter.NotFound(adapter.KindCommunication)
	}
	if err != nil {
		return nil, err
	}
	t, err := s.visibleTask(ctx, c, m.TaskID, adapter.KindCommunication)
	if err != nil {
		return nil, err
	}
	if !s.sees(ctx, c, t, m) {
		return nil, adapter.NotFound(adapter.KindCommunication)
	}
	if m.Closure {
		return s.closureFor(ctx, c, t, m, body)
	}
	return body, nil
}

// Thread returns the messages of a referral p may read, oldest first. A
// referral p is not a party to is not found.
func (s *Service) Thread(ctx context.Context, c adapter.Caller, referral string) ([]Entry, error) {
	tasks, err := s.store.TasksForReferral(ctx, referral)
	if err != nil {
		return nil, err
	}
	visible := map[string]*adapter.Task{}
	for _, t := range tasks {
		ok, err := s.canSee(ctx, c, t)
		if err != nil {
			return nil, err
		}
		if ok {
			visible[t.ID] = t
		}
	}
	if len(visible) == 0 {
		return nil, adapter.NotFound("referral")
	}
	msgs, bodies, err := s.store.Thread(ctx, referral, true)
	if err != nil {
		return nil, err
	}
	out := []Entry{}
	for i, m := range msgs {
		t, ok := visible[m.TaskID]
		if !ok || !s.sees(ctx, c, t, m) {
			continue
		}
		body := bodies[i]
		if m.Closure {
			if body, err = s.closureFor(ctx, c, t, m, body); err != nil {
				return nil, err
			}
		}
		out = append(out, Entry{ID: m.ID, Body: body})
	}
	return out, nil
}

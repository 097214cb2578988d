package dialogue

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// Closed sends the referring practice the closure summary of the
// referral Task t, which just ended (issue 19): a Communication on the
// referral's thread, category closure-summary, from the organisation that
// held it. Why and when it ended, who held it and the contact attempts are
// always there; the referral's outcomes (references) and the holder's
// summary are in the stored message, and each reader is shown them only
// where the disclosure decision lets it (see closureFor). The practice is
// told by a Task event, as for any Task change.
//
// A referral has one closure summary: sent again (a close retried after a
// failure), it is written only if it is not there yet, under the same id.
func (s *Service) Closed(ctx context.Context, c adapter.Caller, t *adapter.Task, note adapter.ClosureNote) error {
	if sent, err := s.closureSent(ctx, t); err != nil || sent {
		return err
	}
	outcomes, err := s.referralOutcomes(ctx, t.ReferralID)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	svcName, holder := t.Owner, s.ownerOrg(t)
	if svc, ok := s.m.Service(t.Owner); ok {
		svcName = svc.Name
	}
	m := adapter.Message{ID: ClosureID(t.ID), ReferralID: t.ReferralID, TaskID: t.ID, Practice: t.Practice, SenderOrg: holder,
		SenderRole: c.Role, By: c.Subject, Sent: now, Approved: note.SummaryApproved, Closure: true, HasSummary: note.Summary != ""}
	body, err := fhir.ClosureSummary(fhir.ClosureFacts{ID: m.ID, TaskID: t.ID, ReferralID: t.ReferralID, Patient: t.Patient,
		Practice: t.Practice, HolderOrg: holder, Text: closureText(t, svcName, note.Tally), Summary: note.Summary,
		Outcomes: outcomes, Sender: svcName, Sent: now})
	if err != nil {
		return err
	}
	if _, err := s.parser.Parse(body, adapter.KindCommunication); err != nil {
		return fmt.Errorf("dialogue: closure summary is not valid: %w", err)
	}
	err = s.store.SaveMessage(ctx, m, body, event(t, now))
	if adapter.ErrorCode(err) == adapter.ECONFLICT {
		return nil // written meanwhile under the same id (the close and the closure-summary job at once)
	}
	return err
}

// ClosureID is the id of the closure summary of the referral Task taskID:
// a name-based UUID, so that a summary sent twice is one message.
func ClosureID(taskID string) string {
	return uuid.NewSHA1(closureSpace, []byte(taskID)).String()
}

// closureSpace is the UUID namespace of closure summary ids.
var closureSpace = uuid.MustParse("6f1c3f0e-4a51-5d6b-9c2e-8a7d1b0c5e42")

// closureSent reports whether the Task's closure summary is on the thread.
func (s *Service) closureSent(ctx context.Context, t *adapter.Task) (bool, error) {
	msgs, _, err := s.store.Thread(ctx, t.ReferralID, false)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(msgs, func(m *adapter.Message) bool { return m.Closure && m.TaskID == t.ID }), nil
}

// referralOutcomes are the references of the outcomes recorded on a
// referral's Tasks (its own and its onward referrals'), oldest first.
func (s *Service) referralOutcomes(ctx context.Context, referral string) ([]string, error) {
	tasks, err := s.store.TasksForReferral(ctx, referral)
	if err != nil {
		return nil, err
	}
	var outs []*adapter.OutcomeRecord
	for _, t := range tasks {
		os, err := s.store.Outcomes(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		outs = append(outs, os...)
	}
	slices.SortStableFunc(outs, func(a, b *adapter.OutcomeRecord) int { return a.Recorded.Compare(b.Recorded) })
	refs := make([]string, len(outs))
	for i, o := range outs {
		refs[i] = o.Type + "/" + o.ID
	}
	return refs, nil
}

// closureText is what the practice is always told: why and when the
// referral ended, who held it, and how hard the service tried to reach the
// patient. Nothing the practice does not already see on the Task, but the
// number of attempts.
func closureText(t *adapter.Task, service string, tally adapter.ContactTally) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Closure summary: the referral ended on %s, %s", t.LastModified.UTC().Format("2 January 2006 at 15:04 UTC"), t.Status)
	if slices.Contains(endings, t.BusinessStatus.Code) {
		fmt.Fprintf(&b, " (%s)", t.BusinessStatus.Display)
	}
	if t.StatusReason != "" {
		fmt.Fprintf(&b, ": %s", t.StatusReason)
	}
	fmt.Fprintf(&b, ". Held by %s", service)
	if t.ClaimantName != "" {
		fmt.Fprintf(&b, "; named contact %s", t.ClaimantName)
		if t.ClaimantTitle != "" {
			fmt.Fprintf(&b, " (%s)", t.ClaimantTitle)
		}
	}
	fmt.Fprintf(&b, ". Contact attempts: %d", tally.Attempts)
	if tally.Attempts > 0 {
		fmt.Fprintf(&b, ", of which %d unsuccessful", tally.Unsuccessful)
		if tally.DidNotAttend > 0 {
			fmt.Fprintf(&b, " (%d did not attend)", tally.DidNotAttend)
		}
	}
	b.WriteString(".")
	return b.String()
}

// endings are the business statuses that say why a referral ended.
var endings = []string{adapter.BSNotContactable, adapter.BSPatientDeclined, adapter.BSProviderDecline, adapter.BSReturned}

// closureFor is a closure summary as the reader c may see it: whole to the
// organisation that held the referral; to anyone else (the practice)
// without the holder's summary unless the disclosure decision lets it
// through (the patient's approval, then consent, as for a message), and
// without each outcome the reader may not see (as at the outcome's URL).
func (s *Service) closureFor(ctx context.Context, c adapter.Caller, t *adapter.Task, m *adapter.Message, body []byte) ([]byte, error) {
	if m.SenderOrg == c.Org {
		return body, nil
	}
	keepSummary := m.HasSummary && s.decided(ctx, c, t, m.Disclosure())
	var failed error
	keepRef := func(ref string) bool {
		ok, err := s.outcomeSeen(ctx, c, ref)
		if err != nil && failed == nil {
			failed = err
		}
		return ok
	}
	out, err := fhir.ClosureFor(body, m.HasSummary, keepSummary, keepRef)
	if failed != nil {
		return nil, failed
	}
	return out, err
}

// decided is the disclosure decision about a record of another
// organisation for c (the patient's approval alone without one: tests of
// other things).
func (s *Service) decided(ctx context.Context, c adapter.Caller, t *adapter.Task, o *adapter.OutcomeRecord) bool {
	if s.disc != nil {
		return s.disc.Sees(ctx, c, t, o)
	}
	return c.Role != adapter.RolePractice || o.Approved
}

// outcomeSeen reports whether c may see the outcome ref names, exactly as
// at its own URL: its Task visible to c, and the disclosure decision.
func (s *Service) outcomeSeen(ctx context.Context, c adapter.Caller, ref string) (bool, error) {
	_, id, _ := strings.Cut(ref, "/")
	o, _, err := s.store.Outcome(ctx, id)
	if adapter.ErrorCode(err) == adapter.ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if c.Role == adapter.RolePractice && o.Practice != c.Org {
		return false, nil
	}
	t, err := s.visibleTask(ctx, c, o.TaskID, o.Type)
	if adapter.ErrorCode(err) == adapter.ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return s.decided(ctx, c, t, o), nil
}

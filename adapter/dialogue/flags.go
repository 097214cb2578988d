package dialogue

import (
	"context"
	"fmt"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// RaiseFlag stores a safeguarding concern a link worker or provider raised
// on a referral it holds, delivers it to the referring practice at once
// (Task event; the Task shows the alert), whatever the outcome-sharing
// consent says, and records the disclosure and its lawful basis in the
// audit trail.
func (s *Service) RaiseFlag(ctx context.Context, c adapter.Caller, body []byte) (*adapter.SafeguardingFlag, []byte, error) {
	if c.Role != adapter.RoleLinkWorker && c.Role != adapter.RoleProvider {
		return nil, nil, adapter.Errorf(adapter.EFORBIDDEN, "safeguarding concerns are raised by link workers and providers")
	}
	res, err := s.parser.Parse(body, adapter.KindFlag)
	if err != nil {
		return nil, nil, err
	}
	facts, err := fhir.FlagFrom(res)
	if err != nil {
		return nil, nil, err
	}
	f, err := acceptFlag(facts)
	if err != nil {
		return nil, nil, err
	}
	t, err := s.taskFor(ctx, c, f.Referral, f.Task)
	if err != nil {
		return nil, nil, err
	}
	if f.Subject != t.Patient {
		return nil, nil, adapter.Errorf(adapter.EBUSINESSRULE, "subject must be the referral's patient").At("Flag.subject")
	}
	if f.Author != "" && f.Author != orgRef(c.Org) {
		return nil, nil, adapter.Errorf(adapter.EBUSINESSRULE, "author must be your own organisation, by ODS code").At("Flag.author")
	}
	now := s.now().UTC()
	fl := adapter.SafeguardingFlag{ID: s.newID(), ReferralID: t.ReferralID, TaskID: t.ID, Practice: t.Practice,
		AuthorOrg: c.Org, AuthorRole: c.Role, By: c.Subject, Raised: now}
	display := ""
	if svc, ok := s.m.Service(t.Owner); ok {
		display = svc.Name
	}
	stored, err := fhir.StampDialogue(res.Raw, fl.ID, now, fhir.Fill{Set: map[string]any{
		"author": fhir.OrgRef(c.Org, display), "period.start": fhir.Instant(now)}})
	if err != nil {
		return nil, nil, fmt.Errorf("dialogue: stamp flag: %w", err)
	}
	if _, err := s.parser.Parse(stored, adapter.KindFlag); err != nil {
		return nil, nil, fmt.Errorf("dialogue: stamped flag is not valid: %w", err)
	}
	// The disclosure's audit record and the report counter are stored with
	// the Flag: a concern raised is a disclosure recorded and counted.
	with := adapter.FlagRecords{Disclosure: []adapter.AuditRecord{{Time: now, Subject: "referral-adapter", Role: "system", Org: t.Practice,
		Action: adapter.AuditExecute, Kind: adapter.AuditKindSafeguarding, Entity: fl.Reference(),
		Detail: fmt.Sprintf("disclosed to practice %s without regard to the outcome-sharing consent; raised by %s %s on Task/%s; lawful basis: %s",
			t.Practice, c.Role, c.Org, t.ID, adapter.LawfulBasisSafeguarding)}},
		Stats: []adapter.StatInc{{Day: adapter.StatsDay(now, s.loc), Practice: t.Practice, N: 1,
			Key: adapter.StatKey{Metric: adapter.MSafeguarding, Service: t.Owner, Area: t.Area, Need: t.Need}}}}
	if err := s.store.SaveFlag(ctx, fl, stored, event(s.root(ctx, t), now), with); err != nil {
		return nil, nil, err
	}
	return &fl, stored, nil
}

// ReadFlag returns a safeguarding Flag, to the practice it went to and to
// the parties to its Task; not found to anyone else.
func (s *Service) ReadFlag(ctx context.Context, c adapter.Caller, id string) ([]byte, error) {
	f, body, err := s.store.Flag(ctx, id)
	if adapter.ErrorCode(err) == adapter.ENOTFOUND {
		return nil, adapter.NotFound(adapter.KindFlag)
	}
	if err != nil {
		return nil, err
	}
	if _, err := s.visibleTask(ctx, c, f.TaskID, adapter.KindFlag); err != nil {
		return nil, err
	}
	return body, nil
}

// Flags returns a referral's safeguarding Flags p may read, oldest first;
// a referral p is not a party to is not found.
func (s *Service) Flags(ctx context.Context, c adapter.Caller, referral string) ([]Entry, error) {
	tasks, err := s.store.TasksForReferral(ctx, referral)
	if err != nil {
		return nil, err
	}
	visible := map[string]bool{}
	for _, t := range tasks {
		ok, err := s.canSee(ctx, c, t)
		if err != nil {
			return nil, err
		}
		visible[t.ID] = ok
	}
	if !slicesAny(visible) {
		return nil, adapter.NotFound("referral")
	}
	flags, bodies, err := s.store.Flags(ctx, referral, true)
	if err != nil {
		return nil, err
	}
	out := []Entry{}
	for i, f := range flags {
		if visible[f.TaskID] {
			out = append(out, Entry{ID: f.ID, Body: bodies[i]})
		}
	}
	return out, nil
}

// Alerts returns the safeguarding Flags a Task shows as alerts: on the
// referral's own Task every Flag of the referral (the practice follows that
// Task), on an onward referral's Task its own.
func (s *Service) Alerts(ctx context.Context, t *adapter.Task) ([]*adapter.SafeguardingFlag, error) {
	flags, _, err := s.store.Flags(ctx, t.ReferralID, false)
	if err != nil {
		return nil, err
	}
	var out []*adapter.SafeguardingFlag
	for _, f := range flags {
		if t.ID == t.ReferralID || f.TaskID == t.ID {
			out = append(out, f)
		}
	}
	return out, nil
}

func slicesAny(m map[string]bool) bool {
	for _, v := range m {
		if v {
			return true
		}
	}
	return false
}

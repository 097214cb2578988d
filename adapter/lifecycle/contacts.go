package lifecycle

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Contact attempts (issue 19).

// RecordContactAttempt records an attempt to reach the patient of a
// referral the caller's organisation holds. It is counted for the
// commissioners' report: every attempt, the referral's first attempt, and
// its first successful one (the time from referral to reaching the
// patient).
func (s *Service) RecordContactAttempt(ctx context.Context, c Caller, id string, a adapter.ContactAttempt) (*adapter.ContactAttempt, error) {
	if c.Role != adapter.RoleLinkWorker && c.Role != adapter.RoleProvider {
		return nil, adapter.Errorf(adapter.EFORBIDDEN, "contact attempts are recorded by link workers and providers")
	}
	if err := checkAttempt(a); err != nil {
		return nil, err
	}
	t, err := s.visible(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if t.Status.Terminal() {
		return nil, adapter.Errorf(adapter.ECONFLICT, "this referral has ended (%s): no more contact attempts can be recorded", t.Status)
	}
	now := s.now()
	a.ID, a.TaskID, a.At, a.By, a.Name, a.Org = s.newID(), t.ID, now, c.Subject, c.Name, c.Org
	n, firstReached, err := s.store.AddContactAttempt(ctx, a)
	if err != nil {
		return nil, err
	}
	if s.stats != nil {
		day := adapter.StatsDay(now, s.loc)
		var incs []adapter.StatInc
		for _, k := range adapter.ContactStats(t, now, n == 1, firstReached) {
			incs = append(incs, adapter.StatInc{Day: day, Key: k, Practice: t.Practice, N: 1})
		}
		_ = s.stats.Count(context.WithoutCancel(ctx), incs)
	}
	return &a, nil
}

// checkAttempt checks what a caller states of an attempt.
func checkAttempt(a adapter.ContactAttempt) error {
	switch {
	case !a.Result.Valid():
		return adapter.Errorf(adapter.ECODEINVALID, "result must be one of %s", list(adapter.ContactResults)).At("result")
	case !a.Channel.Valid():
		return adapter.Errorf(adapter.ECODEINVALID, "channel must be one of %s", list(adapter.ContactChannels)).At("channel")
	case utf8.RuneCountInString(a.Note) > adapter.MaxContactNote:
		return adapter.Errorf(adapter.EVALUE, "note is limited to %d characters", adapter.MaxContactNote).At("note")
	}
	return nil
}

func list[T ~string](vs []T) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return strings.Join(out, ", ")
}

// ContactAttempts lists the attempts to reach the patient of a referral
// the caller's organisation holds, oldest first, its did-not-attend steps
// among them.
func (s *Service) ContactAttempts(ctx context.Context, c Caller, id string) ([]adapter.ContactAttempt, error) {
	if c.Role != adapter.RoleLinkWorker && c.Role != adapter.RoleProvider {
		return nil, adapter.Errorf(adapter.EFORBIDDEN, "contact attempts are for the link workers and providers holding the referral")
	}
	if _, err := s.visible(ctx, c, id); err != nil {
		return nil, err
	}
	return s.attempts(ctx, id)
}

// attempts are a Task's recorded attempts and its did-not-attend steps,
// oldest first.
func (s *Service) attempts(ctx context.Context, id string) ([]adapter.ContactAttempt, error) {
	as, err := s.store.ContactAttempts(ctx, id)
	if err != nil {
		return nil, err
	}
	hist, err := s.store.History(ctx, id)
	if err != nil {
		return nil, err
	}
	as = append(as, adapter.DidNotAttend(id, hist)...)
	adapter.SortAttempts(as)
	return as, nil
}

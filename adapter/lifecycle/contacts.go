package lifecycle

import (
	"context"
	"strings"
	"time"
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
	if _, _, err := s.store.AddContactAttempt(ctx, a, s.attemptStats(t, now)); err != nil {
		return nil, err
	}
	return &a, nil
}

// attemptStats are the report counters an attempt on t at now adds to
// (none when the Service keeps no reports).
func (s *Service) attemptStats(t *adapter.Task, now time.Time) adapter.AttemptStats {
	if s.stats == nil {
		return adapter.AttemptStats{}
	}
	day := adapter.StatsDay(now, s.loc)
	inc := func(k adapter.StatKey) []adapter.StatInc {
		return []adapter.StatInc{{Day: day, Key: k, Practice: t.Practice, N: 1}}
	}
	every, first, reached := adapter.ContactStatKeys(t, now)
	return adapter.AttemptStats{Every: inc(every), First: inc(first), Reached: inc(reached)}
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

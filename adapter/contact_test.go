package adapter_test

import (
	"strings"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// The contact rule (issue 19): enough unsuccessful attempts, far enough
// apart; a reached patient does not count; the refusal says what is
// missing.
func TestContactRule(t *testing.T) {
	day := 24 * time.Hour
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	at := func(r adapter.ContactResult, d time.Duration) adapter.ContactAttempt {
		return adapter.ContactAttempt{Result: r, At: t0.Add(d)}
	}
	rule := adapter.ContactRule{Min: 3, Span: 7 * day}
	cases := []struct {
		name string
		as   []adapter.ContactAttempt
		want string // "" when allowed
	}{
		{"none", nil, "0 unsuccessful attempts recorded: 3 more needed, the last at least 7 days after the first"},
		{"one", []adapter.ContactAttempt{at(adapter.ContactNoAnswer, 0)}, "1 unsuccessful attempt recorded: 2 more needed, the last on or after 27 November 2026 10:00 UTC"},
		{"three in a day", []adapter.ContactAttempt{at(adapter.ContactNoAnswer, 0), at(adapter.ContactLeftMessage, time.Hour), at(adapter.ContactWrongNumber, 2*time.Hour)},
			"3 unsuccessful attempts recorded over 2 hours: 1 more needed, the last on or after 27 November 2026 10:00 UTC"},
		{"reached ones do not count", []adapter.ContactAttempt{at(adapter.ContactNoAnswer, 0), at(adapter.ContactReached, 3*day), at(adapter.ContactDeclined, 8*day), at(adapter.ContactNoAnswer, 8*day)},
			"2 unsuccessful attempts recorded over 8 days: 1 more needed"},
		{"enough, a did-not-attend among them, in any order", []adapter.ContactAttempt{at(adapter.ContactNoAnswer, 7*day), at(adapter.ContactDidNotAttend, 0), at(adapter.ContactNoAnswer, 3*day)}, ""},
	}
	for _, tc := range cases {
		err := rule.Check(tc.as)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.want != "" && (adapter.ErrorCode(err) != adapter.ECONFLICT || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want a conflict saying %q", tc.name, err, tc.want)
		}
	}
	if err := (adapter.ContactRule{}).Check(nil); err != nil {
		t.Errorf("the rule off: %v", err)
	}
}

func TestClosesForNonContact(t *testing.T) {
	for _, tc := range []struct {
		tr   adapter.Transition
		want bool
	}{
		{adapter.Transition{To: adapter.TaskFailed, BusinessStatus: adapter.BSNotContactable}, true},
		{adapter.Transition{To: adapter.TaskFailed}, true},
		{adapter.Transition{To: adapter.TaskOnHold, BusinessStatus: adapter.BSNotContactable}, false},
		{adapter.Transition{To: adapter.TaskRejected, BusinessStatus: adapter.BSProviderDecline, Reason: adapter.ReasonCouldNotContact}, true},
		{adapter.Transition{To: adapter.TaskRejected, BusinessStatus: adapter.BSProviderDecline, Reason: adapter.ReasonAtCapacity}, false},
		{adapter.Transition{To: adapter.TaskCancelled, BusinessStatus: adapter.BSPatientDeclined}, false},
		{adapter.Transition{To: adapter.TaskCompleted}, false},
	} {
		if got := adapter.ClosesForNonContact(tc.tr); got != tc.want {
			t.Errorf("%+v: %v, want %v", tc.tr, got, tc.want)
		}
	}
}

func TestTallyAndDidNotAttend(t *testing.T) {
	hist := []adapter.HistoryEntry{{BusinessStatus: adapter.BSContacted}, {BusinessStatus: adapter.BSDidNotAttend, By: adapter.Actor{Subject: "lw", Org: "U00001"}}}
	as := append(adapter.DidNotAttend("t1", hist), adapter.ContactAttempt{Result: adapter.ContactReached}, adapter.ContactAttempt{Result: adapter.ContactNoAnswer})
	if got := adapter.Tally(as); got != (adapter.ContactTally{Attempts: 3, Unsuccessful: 2, DidNotAttend: 1}) {
		t.Errorf("%+v", got)
	}
}

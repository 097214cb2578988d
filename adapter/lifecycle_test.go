package adapter_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
)

var allStatuses = []adapter.TaskStatus{adapter.TaskRequested, adapter.TaskAccepted, adapter.TaskRejected, adapter.TaskCancelled,
	adapter.TaskOnHold, adapter.TaskInProgress, adapter.TaskCompleted, adapter.TaskFailed, adapter.TaskEnteredInError}

// legal is the Gravity referral Task state machine exactly as issue 10
// states it.
var legal = map[adapter.TaskStatus][]adapter.TaskStatus{
	adapter.TaskRequested:  {adapter.TaskAccepted, adapter.TaskRejected, adapter.TaskCancelled},
	adapter.TaskAccepted:   {adapter.TaskInProgress, adapter.TaskOnHold, adapter.TaskCancelled, adapter.TaskCompleted, adapter.TaskFailed},
	adapter.TaskInProgress: {adapter.TaskOnHold, adapter.TaskCompleted, adapter.TaskFailed, adapter.TaskCancelled},
	adapter.TaskOnHold:     {adapter.TaskInProgress, adapter.TaskCancelled, adapter.TaskCompleted, adapter.TaskFailed},
}

// Every pair of statuses: legal ones apply, illegal ones are ECONFLICT
// naming the allowed next statuses and leave the Task untouched.
func TestEveryTransitionPair(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for _, from := range allStatuses {
		for _, to := range allStatuses {
			if from == to {
				continue
			}
			task := &adapter.Task{Status: from, Version: 3}
			_, err := task.Apply(adapter.Transition{To: to, Reason: "because", At: now})
			want := slices.Contains(legal[from], to)
			switch {
			case want && err != nil:
				t.Errorf("%s → %s refused: %v", from, to, err)
			case want && (task.Status != to || task.Version != 4 || !task.LastModified.Equal(now)):
				t.Errorf("%s → %s not applied: %+v", from, to, task)
			case !want && adapter.ErrorCode(err) != adapter.ECONFLICT:
				t.Errorf("%s → %s = %v, want ECONFLICT", from, to, err)
			case !want && (task.Status != from || task.Version != 3):
				t.Errorf("%s → %s changed the Task though refused", from, to)
			case !want:
				for _, next := range legal[from] {
					if !strings.Contains(adapter.ErrorMessage(err), string(next)) {
						t.Errorf("%s → %s: error does not name allowed %s: %v", from, to, next, err)
					}
				}
			}
		}
	}
}

func TestBusinessStatusRules(t *testing.T) {
	cases := []struct {
		name     string
		from     adapter.TaskStatus
		tr       adapter.Transition
		wantCode string // "" = accepted
	}{
		{"patient decline is neutral and needs no reason", adapter.TaskAccepted, adapter.Transition{To: adapter.TaskCancelled, BusinessStatus: adapter.BSPatientDeclined}, ""},
		{"patient decline must cancel", adapter.TaskAccepted, adapter.Transition{To: adapter.TaskFailed, BusinessStatus: adapter.BSPatientDeclined}, adapter.ECONFLICT},
		{"cancel without reason", adapter.TaskAccepted, adapter.Transition{To: adapter.TaskCancelled}, adapter.EREQUIRED},
		{"fail without reason", adapter.TaskInProgress, adapter.Transition{To: adapter.TaskFailed}, adapter.EREQUIRED},
		{"complete needs no reason", adapter.TaskInProgress, adapter.Transition{To: adapter.TaskCompleted}, ""},
		{"provider decline with coded reason", adapter.TaskRequested, adapter.Transition{To: adapter.TaskRejected, BusinessStatus: adapter.BSProviderDecline, Reason: adapter.ReasonAtCapacity}, ""},
		{"provider decline with uncoded reason", adapter.TaskRequested, adapter.Transition{To: adapter.TaskRejected, BusinessStatus: adapter.BSProviderDecline, Reason: "busy"}, adapter.EVALUE},
		{"return to clinician", adapter.TaskRequested, adapter.Transition{To: adapter.TaskRejected, BusinessStatus: adapter.BSReturned, Reason: adapter.ReasonRiskIdentified}, ""},
		{"return without reason", adapter.TaskAccepted, adapter.Transition{To: adapter.TaskCancelled, BusinessStatus: adapter.BSReturned}, adapter.EVALUE},
		{"contacted as a step", adapter.TaskAccepted, adapter.Transition{To: adapter.TaskAccepted, BusinessStatus: adapter.BSContacted}, ""},
		{"same status without a step", adapter.TaskAccepted, adapter.Transition{To: adapter.TaskAccepted}, adapter.ECONFLICT},
		{"system-only business status", adapter.TaskAccepted, adapter.Transition{To: adapter.TaskInProgress, BusinessStatus: adapter.BSRouted}, adapter.ECODEINVALID},
		{"unknown status", adapter.TaskAccepted, adapter.Transition{To: "done"}, adapter.ECODEINVALID},
		{"step on an ended Task", adapter.TaskCompleted, adapter.Transition{To: adapter.TaskCompleted, BusinessStatus: adapter.BSContacted}, adapter.ECONFLICT},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			task := &adapter.Task{Status: tc.from}
			h, err := task.Apply(tc.tr)
			if got := adapter.ErrorCode(err); got != tc.wantCode && !(tc.wantCode == "" && err == nil) {
				t.Fatalf("err = %v, want %q", err, tc.wantCode)
			}
			if tc.wantCode == "" && (h.From != string(tc.from) || h.To != string(tc.tr.To)) {
				t.Errorf("history %+v", h)
			}
			if tc.tr.BusinessStatus == adapter.BSPatientDeclined && tc.wantCode == "" && h.Counts() {
				t.Error("a patient's decline must not count as a failure")
			}
		})
	}
}

// A FHIR Task status the referral lifecycle does not use is a conflict
// naming the statuses that are allowed; a code that is no Task status at
// all is an invalid code.
func TestTransitionToAStatusOutsideTheLifecycle(t *testing.T) {
	for _, to := range []adapter.TaskStatus{"draft", "received", "ready"} {
		task := &adapter.Task{Status: adapter.TaskRequested}
		_, err := task.Apply(adapter.Transition{To: to})
		e, ok := err.(*adapter.Error)
		if !ok || e.Code != adapter.ECONFLICT || !strings.Contains(e.Message, "allowed: accepted, rejected, cancelled") {
			t.Errorf("%s: %v", to, err)
		}
	}
	task := &adapter.Task{Status: adapter.TaskRequested}
	if _, err := task.Apply(adapter.Transition{To: "finished"}); adapter.ErrorCode(err) != adapter.ECODEINVALID {
		t.Errorf("not a Task status: %v", err)
	}
}

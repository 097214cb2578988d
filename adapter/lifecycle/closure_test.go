package lifecycle_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/access"
	"github.com/social-prescribing/referral-adapter/adapter/lifecycle"
)

// closer records the closure summaries it is asked for and fails the
// first fail of them.
type closer struct {
	fail  int
	notes []adapter.ClosureNote
}

func (c *closer) Closed(_ context.Context, _ adapter.Caller, _ *adapter.Task, note adapter.ClosureNote) error {
	c.notes = append(c.notes, note)
	if len(c.notes) <= c.fail {
		return errors.New("the thread could not be written")
	}
	return nil
}

// A close whose closure summary could not be written ends the referral
// all the same and answers the error; sent again, it answers the Task as
// it stands and the summary goes (the dialogue writes it once). Only the
// ending the Task has is a retry: another status is refused as before.
func TestRetriedCloseSendsTheClosureSummary(t *testing.T) {
	_, st, m := setup(t, lifecycle.Config{Lease: time.Minute, ProviderDeadline: time.Hour})
	cl := &closer{fail: 1}
	svc := lifecycle.New(st, access.New(m, nil, st, m.Network.LinkWorker, false), m,
		lifecycle.Config{Lease: time.Minute, ProviderDeadline: time.Hour}, 0, lifecycle.WithClosure(cl))
	ctx := context.Background()
	id := seed(t, st, lw, 1, time.Now().Add(-time.Hour))[0]
	if _, err := svc.Claim(ctx, worker(1), lw); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Transition(ctx, worker(1), id, adapter.Transition{To: adapter.TaskAccepted}); err != nil {
		t.Fatal(err)
	}
	done := adapter.Transition{To: adapter.TaskCompleted, Summary: "Joined the walking group.", SummaryApproved: true}
	if _, err := svc.Transition(ctx, worker(1), id, done); err == nil {
		t.Fatal("a close whose summary failed answered no error")
	}
	if task, _ := st.Task(ctx, id); task.Status != adapter.TaskCompleted {
		t.Fatalf("the referral did not end: %s", task.Status)
	}
	task, err := svc.Transition(ctx, worker(2), id, done)
	if err != nil || task.Status != adapter.TaskCompleted {
		t.Fatalf("retried close: %v %v", task, err)
	}
	if len(cl.notes) != 2 || cl.notes[1].Summary != done.Summary || !cl.notes[1].SummaryApproved {
		t.Errorf("closure summaries asked for: %+v", cl.notes)
	}
	if _, err := svc.Transition(ctx, worker(1), id, adapter.Transition{To: adapter.TaskFailed, BusinessStatus: adapter.BSNotContactable}); err == nil {
		t.Error("another ending of an ended referral was accepted")
	}
	if len(cl.notes) != 2 {
		t.Errorf("%d closure summaries asked for, want 2", len(cl.notes))
	}
}

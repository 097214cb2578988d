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

// The closure summary an ending owes is stored with the ending: when the
// request that ended the referral cannot send it (here the thread cannot be
// written; in production, the adapter may stop just after the ending), the
// closure-summary job sends it once ClosureGrace has passed, with the
// holder's summary and approval as the ending recorded them, and then owes
// nothing more. A summary that fails again waits for the next run.
func TestClosureSummaryOwedIsSentByTheJob(t *testing.T) {
	_, st, m := setup(t, lifecycle.Config{Lease: time.Minute, ProviderDeadline: time.Hour})
	cl := &closer{fail: 1}
	clock := time.Now()
	svc := lifecycle.New(st, access.New(m, nil, st, m.Network.LinkWorker, false), m,
		lifecycle.Config{Lease: time.Minute, ProviderDeadline: time.Hour}, 0, lifecycle.WithClosure(cl),
		lifecycle.WithClock(func() time.Time { return clock }))
	ctx := context.Background()
	ids := seed(t, st, lw, 2, clock.Add(-time.Hour))
	for _, id := range ids {
		if _, err := svc.Claim(ctx, worker(1), lw); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Transition(ctx, worker(1), id, adapter.Transition{To: adapter.TaskAccepted}); err != nil {
			t.Fatal(err)
		}
	}
	done := adapter.Transition{To: adapter.TaskCompleted, Summary: "Joined the walking group.", SummaryApproved: true}
	if _, err := svc.Transition(ctx, worker(1), ids[0], done); err == nil {
		t.Fatal("a close whose summary failed answered no error")
	}
	// The other referral's summary goes with its close, and is owed no more.
	if _, err := svc.Transition(ctx, worker(1), ids[1], adapter.Transition{To: adapter.TaskCompleted}); err != nil {
		t.Fatal(err)
	}
	owed := func() []string {
		t.Helper()
		dues, err := st.ClosuresDue(ctx, clock.Add(time.Hour), 10)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range dues {
			out = append(out, d.TaskID)
		}
		return out
	}
	if got := owed(); len(got) != 1 || got[0] != ids[0] {
		t.Fatalf("owed after the closes: %v, want [%s]", got, ids[0])
	}
	// Within the grace the job leaves it to the request.
	if rep, err := svc.SendDueClosures(ctx, 0); err != nil || rep["sent"]+rep["failed"] != 0 {
		t.Fatalf("job within the grace: %v %v", rep, err)
	}
	clock = clock.Add(lifecycle.ClosureGrace + time.Second)
	cl.fail = 3 // the job's first try fails too
	if rep, err := svc.SendDueClosures(ctx, 0); err == nil || rep["failed"] != 1 {
		t.Fatalf("job whose summary fails: %v %v", rep, err)
	}
	if got := owed(); len(got) != 1 {
		t.Fatalf("a summary that failed again is no longer owed: %v", got)
	}
	clock = clock.Add(lifecycle.ClosureGrace + time.Second)
	if rep, err := svc.SendDueClosures(ctx, 0); err != nil || rep["sent"] != 1 {
		t.Fatalf("job: %v %v", rep, err)
	}
	last := cl.notes[len(cl.notes)-1]
	if last.Summary != done.Summary || !last.SummaryApproved {
		t.Errorf("the job sent %+v, not the summary the ending recorded", last)
	}
	if got := owed(); len(got) != 0 {
		t.Errorf("still owed after the job sent it: %v", got)
	}
	asked := len(cl.notes)
	if rep, err := svc.SendDueClosures(ctx, 0); err != nil || rep["sent"] != 0 || len(cl.notes) != asked {
		t.Errorf("a second run sent again: %v %v", rep, err)
	}
}

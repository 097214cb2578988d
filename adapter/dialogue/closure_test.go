package dialogue_test

import (
	"context"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/dialogue"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/adapter/redis"
	"github.com/social-prescribing/referral-adapter/adapter/routing"
	"github.com/social-prescribing/referral-adapter/internal/redistest"
	"github.com/social-prescribing/referral-adapter/mappings"
)

// staleThread is the store as a sender sees it when another wrote the
// closure summary just after it read the thread.
type staleThread struct{ *redis.Store }

func (staleThread) Thread(context.Context, string, bool) ([]*adapter.Message, [][]byte, error) {
	return nil, nil, nil
}

// The close and the closure-summary job may send one referral's summary
// at once: the one that finds it written meanwhile (under the same id)
// has done its job, and the thread holds one summary.
func TestClosureSummarySentTwiceAtOnce(t *testing.T) {
	m, err := routing.Load(mappings.Default, "mappings")
	if err != nil {
		t.Fatal(err)
	}
	p, err := fhir.NewParser()
	if err != nil {
		t.Fatal(err)
	}
	st := redis.New(redistest.Client(t), redistest.Namespace(t))
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	task := &adapter.Task{ID: "t1", ReferralID: "t1", Practice: "A81001", Patient: "Patient/p1", Owner: "riverside-link-workers",
		Status: adapter.TaskCompleted, Claimant: "lw1@U00001", ClaimantName: "Sam Okafor", AuthoredOn: now.Add(-time.Hour), LastModified: now, Version: 3}
	by := adapter.Caller{Actor: adapter.Actor{Subject: "lw1@U00001", Role: adapter.RoleLinkWorker, Org: "U00001"}}
	note := adapter.ClosureNote{Summary: "Joined the walking group.", SummaryApproved: true}
	ctx := context.Background()
	if err := dialogue.New(st, m, p, nil, nil, nil).Closed(ctx, by, task, note); err != nil {
		t.Fatal(err)
	}
	if err := dialogue.New(staleThread{st}, m, p, nil, nil, nil).Closed(ctx, by, task, note); err != nil {
		t.Errorf("the second sender, finding the summary written meanwhile: %v", err)
	}
	msgs, _, err := st.Thread(ctx, "t1", false)
	if err != nil || len(msgs) != 1 || !msgs[0].Closure {
		t.Errorf("thread: %d messages, %v", len(msgs), err)
	}
}

package lifecycle_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/access"
	"github.com/social-prescribing/referral-adapter/adapter/lifecycle"
	"github.com/social-prescribing/referral-adapter/adapter/redis"
	"github.com/social-prescribing/referral-adapter/adapter/routing"
	"github.com/social-prescribing/referral-adapter/internal/redistest"
	"github.com/social-prescribing/referral-adapter/mappings"
)

const lw = "riverside-link-workers"

func setup(t testing.TB, cfg lifecycle.Config) (*lifecycle.Service, *redis.Store, *routing.Mappings) {
	t.Helper()
	m, err := routing.Load(mappings.Default, "mappings")
	if err != nil {
		t.Fatal(err)
	}
	st := redis.New(redistest.Client(t), redistest.Namespace(t))
	// The claim mechanics on their own: these referrals carry no consents
	// (the consent door of claims is tested over HTTP).
	policy := access.New(m, nil, st, m.Network.LinkWorker, false)
	return lifecycle.New(st, policy, m, cfg, 0), st, m
}

// seed queues n referrals directly at a service, oldest first.
func seed(t testing.TB, st *redis.Store, service string, n int, authored time.Time) []string {
	t.Helper()
	ids := make([]string, n)
	const batch = 500
	for start := 0; start < n; start += batch {
		b := &adapter.IntakeBatch{}
		for i := start; i < min(n, start+batch); i++ {
			id := fmt.Sprintf("t%07d", i)
			ids[i] = id
			task := &adapter.Task{ID: id, ReferralID: id, Practice: "A81001", Patient: "Patient/p" + id, Status: adapter.TaskRequested,
				Priority: adapter.PriorityRoutine, AuthoredOn: authored.Add(time.Duration(i) * time.Millisecond),
				LastModified: authored, Version: 1}
			b.Items = append(b.Items, &adapter.Submission{Kind: adapter.KindServiceRequest, ID: id, JSON: []byte(`{}`), Task: task, Candidates: []string{service}})
		}
		if err := st.Intake(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

func worker(i int) lifecycle.Caller {
	return lifecycle.Caller{Actor: adapter.Actor{Subject: fmt.Sprintf("lw%d@U00001", i), Role: "link-worker", Org: "U00001"}, Name: fmt.Sprintf("Worker %d", i)}
}

// 1,000 queued referrals and 20 concurrent claimers on real Redis: every
// referral is claimed exactly once.
func TestConcurrentClaimsExactlyOnce(t *testing.T) {
	svc, st, _ := setup(t, lifecycle.Config{Lease: time.Minute, ProviderDeadline: time.Hour})
	ids := seed(t, st, lw, 1000, time.Now().Add(-time.Hour))
	claimed := claimAll(t, svc, 20, nil)
	if len(claimed) != len(ids) {
		t.Fatalf("claimed %d distinct referrals of %d", len(claimed), len(ids))
	}
	for id, n := range claimed {
		if n != 1 {
			t.Errorf("%s claimed %d times", id, n)
		}
	}
}

// claimAll runs claimers until the queue is empty and counts claims per
// id. abandon, when set, says whether a claimer vanishes with a claim.
func claimAll(t *testing.T, svc *lifecycle.Service, workers int, abandon func(id string) bool) map[string]int {
	var mu sync.Mutex
	counts := map[string]int{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				res, err := svc.Claim(context.Background(), worker(w), lw)
				if err != nil {
					t.Error(err)
					return
				}
				if res == nil {
					return
				}
				mu.Lock()
				counts[res.Task.ID]++
				mu.Unlock()
				if abandon != nil && abandon(res.Task.ID) {
					continue // the laptop closed: no accept, no renew
				}
				if _, err := svc.Transition(context.Background(), worker(w), res.Task.ID, adapter.Transition{To: adapter.TaskAccepted}); err != nil {
					t.Errorf("accept %s: %v", res.Task.ID, err)
				}
			}
		}()
	}
	wg.Wait()
	return counts
}

// Claimers that vanish mid-lease: every abandoned referral returns to the
// queue when its lease expires and is claimed again; none is lost.
func TestAbandonedLeasesReturnAndNoneIsLost(t *testing.T) {
	svc, st, _ := setup(t, lifecycle.Config{Lease: 15 * time.Minute, ProviderDeadline: time.Hour})
	// A clock the test moves, so a slow machine cannot let leases lapse
	// during the first pass.
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	svc.SetClock(func() time.Time { return time.Unix(0, clock.Load()) })
	ids := seed(t, st, lw, 300, time.Now().Add(-time.Hour))
	abandoned := map[string]bool{}
	var mu sync.Mutex
	first := claimAll(t, svc, 10, func(id string) bool {
		mu.Lock()
		defer mu.Unlock()
		if len(abandoned) < 60 && !abandoned[id] {
			abandoned[id] = true
			return true
		}
		return false
	})
	if len(first) != len(ids) {
		t.Fatalf("first pass claimed %d of %d", len(first), len(ids))
	}
	clock.Add(int64(16 * time.Minute)) // let the 15-minute leases lapse
	second := claimAll(t, svc, 10, nil)
	if len(second) != len(abandoned) {
		t.Fatalf("after expiry %d came back, want the %d abandoned", len(second), len(abandoned))
	}
	for id := range second {
		if !abandoned[id] {
			t.Errorf("%s came back though it was accepted", id)
		}
	}
	for _, id := range ids {
		task, err := st.Task(context.Background(), id)
		if err != nil || task.Status != adapter.TaskAccepted {
			t.Fatalf("%s ends %v %v: lost", id, task, err)
		}
	}
}

func TestLeaseRenewalAndSweep(t *testing.T) {
	svc, st, _ := setup(t, lifecycle.Config{Lease: 15 * time.Minute, ProviderDeadline: time.Hour})
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	svc.SetClock(func() time.Time { return time.Unix(0, clock.Load()) })
	seed(t, st, lw, 2, time.Now().Add(-time.Hour))
	a, b := worker(1), worker(2)
	res, err := svc.Claim(context.Background(), a, lw)
	if err != nil || res == nil {
		t.Fatal(res, err)
	}
	if _, err := svc.Renew(context.Background(), b, res.Task.ID); adapter.ErrorCode(err) != adapter.ECONFLICT {
		t.Errorf("someone else's renew = %v", err)
	}
	if _, err := svc.Transition(context.Background(), b, res.Task.ID, adapter.Transition{To: adapter.TaskAccepted}); adapter.ErrorCode(err) != adapter.ECONFLICT {
		t.Errorf("accepting another worker's leased referral = %v", err)
	}
	clock.Add(int64(time.Minute))
	renewed, err := svc.Renew(context.Background(), a, res.Task.ID)
	if err != nil || !renewed.LeaseExpires.After(res.LeaseExpires) {
		t.Fatalf("renew = %v %v", renewed, err)
	}
	clock.Add(int64(16 * time.Minute)) // past the renewed lease
	rep, err := svc.SweepLeases(context.Background(), 0)
	if err != nil || rep["returned"] != 1 {
		t.Fatalf("sweep = %v %v", rep, err)
	}
	if _, err := svc.Renew(context.Background(), a, res.Task.ID); adapter.ErrorCode(err) != adapter.ECONFLICT {
		t.Errorf("renewing an expired lease = %v", err)
	}
	task, _ := st.Task(context.Background(), res.Task.ID)
	if task.Claimant != "" || task.BusinessStatus.Code == adapter.BSClaimed {
		t.Errorf("swept Task still claimed: %+v", task)
	}
}

func TestQueueOrderPriorityThenDue(t *testing.T) {
	svc, st, _ := setup(t, lifecycle.Config{Lease: time.Minute, ProviderDeadline: time.Hour})
	now := time.Now()
	b := &adapter.IntakeBatch{}
	for i, p := range []adapter.Priority{adapter.PriorityRoutine, adapter.PriorityUrgent, adapter.PriorityRoutine, adapter.PriorityStat} {
		id := fmt.Sprintf("o%d", i)
		b.Items = append(b.Items, &adapter.Submission{Kind: adapter.KindServiceRequest, ID: id, JSON: []byte(`{}`), Candidates: []string{lw},
			Task: &adapter.Task{ID: id, ReferralID: id, Status: adapter.TaskRequested, Priority: p, Version: 1,
				AuthoredOn: now, FirstContactDue: now.Add(time.Duration(10-i) * time.Hour)}})
	}
	if err := st.Intake(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		res, _ := svc.Claim(context.Background(), worker(1), lw)
		if res == nil {
			break
		}
		got = append(got, res.Task.ID)
	}
	want := []string{"o3", "o1", "o2", "o0"} // stat, urgent, then routine by due time
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("order %v, want %v", got, want)
	}
}

func TestProvidersAndStrangersCannotUseLinkWorkerQueue(t *testing.T) {
	svc, st, _ := setup(t, lifecycle.Config{Lease: time.Minute, ProviderDeadline: time.Hour})
	seed(t, st, lw, 1, time.Now())
	strangers := []lifecycle.Caller{
		{Actor: adapter.Actor{Subject: "p", Role: "provider", Org: "X1V01"}},
		{Actor: adapter.Actor{Subject: "l", Role: "link-worker", Org: "U99999"}},
	}
	for _, c := range strangers {
		if _, err := svc.Claim(context.Background(), c, lw); adapter.ErrorCode(err) != adapter.ENOTFOUND {
			t.Errorf("%s of %s claiming = %v, want not found", c.Role, c.Org, err)
		}
	}
}

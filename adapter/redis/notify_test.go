package redis_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/redis"
	"github.com/social-prescribing/referral-adapter/internal/redistest"
)

func newStore(t *testing.T) *redis.Store {
	t.Helper()
	return redis.New(redistest.Client(t), redistest.Namespace(t))
}

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func subscription(id, practice string, st adapter.SubscriptionStatus) *adapter.Subscription {
	return &adapter.Subscription{ID: id, Practice: practice, Status: st, Topic: "topic", Endpoint: "https://ehr.example/n",
		Headers: []string{"Authorization: Bearer x"}, Reason: "r", Created: t0, Updated: t0, Version: 1,
		Filter: adapter.TaskFilter{Statuses: []adapter.TaskStatus{adapter.TaskAccepted, adapter.TaskCompleted}}}
}

func TestSubscriptionStore(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	a := subscription("s1", "A81001", adapter.SubscriptionRequested)
	if err := s.CreateSubscription(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSubscription(ctx, subscription("s2", "B82002", adapter.SubscriptionOff)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Subscription(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Practice != "A81001" || got.Endpoint != a.Endpoint || len(got.Headers) != 1 || len(got.Filter.Statuses) != 2 ||
		!got.Created.Equal(t0) || got.Version != 1 || got.Status != adapter.SubscriptionRequested {
		t.Errorf("read back %+v", got)
	}
	list, err := s.SubscriptionsFor(ctx, "A81001")
	if err != nil || len(list) != 1 || list[0].ID != "s1" {
		t.Errorf("SubscriptionsFor = %v, %v", list, err)
	}
	ok, err := s.SetSubscriptionStatus(ctx, "s1", adapter.SubscriptionRequested, adapter.SubscriptionActive, "", t0)
	if err != nil || !ok {
		t.Fatalf("set status: %v %v", ok, err)
	}
	if ok, _ := s.SetSubscriptionStatus(ctx, "s1", adapter.SubscriptionRequested, adapter.SubscriptionError, "x", t0); ok {
		t.Error("compare-and-set moved a Subscription that was no longer requested")
	}
	if got, _ := s.Subscription(ctx, "s1"); got.Status != adapter.SubscriptionActive || got.Version != 2 {
		t.Errorf("after status change: %+v", got)
	}
	if err := s.DeleteSubscription(ctx, "B82002", "s1"); adapter.ErrorCode(err) != adapter.ENOTFOUND {
		t.Errorf("another practice deleted s1: %v", err)
	}
	if err := s.DeleteSubscription(ctx, "A81001", "s1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Subscription(ctx, "s1"); adapter.ErrorCode(err) != adapter.ENOTFOUND {
		t.Errorf("deleted Subscription still readable: %v", err)
	}
}

func TestTriggersFanOutOnceWithEventNumbers(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if err := s.EnsureNotifyGroup(ctx); err != nil {
		t.Fatal(err)
	}
	sub := subscription("s1", "A81001", adapter.SubscriptionRequested)
	if err := s.CreateSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	for _, task := range []string{"t1", "t2"} {
		if err := s.PublishTaskEvent(ctx, adapter.TaskEvent{TaskID: task, ReferralID: task, Practice: "A81001", Status: adapter.TaskAccepted, Time: t0}); err != nil {
			t.Fatal(err)
		}
	}
	trigs, err := s.ReadTriggers(ctx, "c1", 10, 0)
	if err != nil || len(trigs) != 3 {
		t.Fatalf("triggers = %v, %v", trigs, err)
	}
	if trigs[0].Type != adapter.NotifyHandshake || trigs[0].Subscription != "s1" || trigs[1].Event.TaskID != "t1" || trigs[2].Event.Status != adapter.TaskAccepted {
		t.Errorf("triggers = %+v", trigs)
	}
	var numbers []int64
	for _, tr := range trigs {
		ds, err := s.FanOut(ctx, tr, []*adapter.Subscription{sub}, t0, t0.Add(time.Minute), "claim")
		if err != nil || len(ds) != 1 {
			t.Fatalf("fan-out = %v, %v", ds, err)
		}
		numbers = append(numbers, ds[0].Event.Number)
		if ds[0].Practice != "A81001" || ds[0].Claim != "claim" {
			t.Errorf("delivery = %+v", ds[0])
		}
	}
	if numbers[0] != 0 || numbers[1] != 1 || numbers[2] != 2 {
		t.Errorf("event numbers = %v, want handshake 0 then 1, 2", numbers)
	}
	if got, _ := s.Subscription(ctx, "s1"); got.Events != 2 {
		t.Errorf("events since start = %d", got.Events)
	}
	// Everything was acknowledged: another consumer finds nothing, new or stale.
	if again, _ := s.ReadTriggers(ctx, "c2", 10, 0); len(again) != 0 {
		t.Errorf("re-read %v", again)
	}
	if stale, _ := s.ClaimStaleTriggers(ctx, "c2", 0, 10); len(stale) != 0 {
		t.Errorf("stale %v", stale)
	}
	if n, _ := s.PendingDeliveries(ctx); n != 3 {
		t.Errorf("pending deliveries = %d", n)
	}
}

func TestStaleTriggerIsClaimedByAnotherConsumer(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	_ = s.EnsureNotifyGroup(ctx)
	_ = s.PublishTaskEvent(ctx, adapter.TaskEvent{TaskID: "t1", Practice: "A81001", Status: adapter.TaskAccepted, Time: t0})
	if trigs, _ := s.ReadTriggers(ctx, "dies", 10, 0); len(trigs) != 1 {
		t.Fatal("not read")
	}
	if stale, _ := s.ClaimStaleTriggers(ctx, "other", time.Hour, 10); len(stale) != 0 {
		t.Errorf("claimed before it was idle long enough: %v", stale)
	}
	stale, err := s.ClaimStaleTriggers(ctx, "other", 0, 10)
	if err != nil || len(stale) != 1 || stale[0].Event.TaskID != "t1" {
		t.Fatalf("stale = %v, %v", stale, err)
	}
}

func TestDeleteSubscriptionBeforeFanOutSkipsIt(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	_ = s.EnsureNotifyGroup(ctx)
	sub := subscription("s1", "A81001", adapter.SubscriptionActive)
	_ = s.CreateSubscription(ctx, sub)
	_ = s.PublishTaskEvent(ctx, adapter.TaskEvent{TaskID: "t1", Practice: "A81001", Status: adapter.TaskAccepted, Time: t0})
	trigs, _ := s.ReadTriggers(ctx, "c", 10, 0)
	_ = s.DeleteSubscription(ctx, "A81001", "s1")
	ds, err := s.FanOut(ctx, trigs[0], []*adapter.Subscription{sub}, t0, t0.Add(time.Minute), "c")
	if err != nil || len(ds) != 0 {
		t.Errorf("fan-out to a deleted Subscription: %v %v", ds, err)
	}
}

func TestClaimSettleAndFence(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	_ = s.EnsureNotifyGroup(ctx)
	sub := subscription("s1", "A81001", adapter.SubscriptionActive)
	_ = s.CreateSubscription(ctx, sub)
	_ = s.PublishTaskEvent(ctx, adapter.TaskEvent{TaskID: "t1", Practice: "A81001", Status: adapter.TaskAccepted, Time: t0})
	trigs, _ := s.ReadTriggers(ctx, "c", 10, 0)
	ds, _ := s.FanOut(ctx, trigs[0], []*adapter.Subscription{sub}, t0, t0.Add(time.Minute), "first")
	d := ds[0]

	lease, ok, err := s.Acquire(ctx, "notification-retry", time.Minute)
	if err != nil || !ok {
		t.Fatal(err)
	}
	defer func() { _ = lease.Release(ctx) }()
	// Still claimed by the fan-out: not due.
	if got, _ := s.ClaimDue(ctx, "notification-retry", lease.Fence(), t0.Add(30*time.Second), t0.Add(2*time.Minute), 10, "r"); len(got) != 0 {
		t.Errorf("claimed a delivery another dispatcher holds: %v", got)
	}
	d.Attempts, d.LastError = 1, "http-500"
	if ok, err := s.RetryAt(ctx, d, t0.Add(30*time.Second)); err != nil || !ok {
		t.Fatalf("retry: %v %v", ok, err)
	}
	if _, err := s.ClaimDue(ctx, "notification-retry", lease.Fence()-1, t0.Add(time.Minute), t0.Add(2*time.Minute), 10, "r"); !errors.Is(err, redis.ErrStaleFence) {
		t.Errorf("stale fence: %v", err)
	}
	got, err := s.ClaimDue(ctx, "notification-retry", lease.Fence(), t0.Add(time.Minute), t0.Add(2*time.Minute), 10, "r")
	if err != nil || len(got) != 1 || got[0].Attempts != 1 || got[0].LastError != "http-500" || got[0].Event.Number != 1 {
		t.Fatalf("claimed %+v, %v", got, err)
	}
	// The fan-out's claim is gone: its holder can no longer settle.
	if ok, _ := s.Delivered(ctx, d); ok {
		t.Error("a lost claim settled the delivery")
	}
	dl := adapter.DeadLetter{Delivery: got[0].ID, Subscription: "s1", Practice: "A81001", Attempts: 2, LastError: "http-500", DeadAt: t0}
	if ok, err := s.DeadLetter(ctx, got[0], dl); err != nil || !ok {
		t.Fatalf("dead letter: %v %v", ok, err)
	}
	dead, err := s.DeadLetters(ctx, 10)
	if err != nil || len(dead) != 1 || dead[0].Delivery != got[0].ID || dead[0].Attempts != 2 {
		t.Errorf("dead letters = %+v, %v", dead, err)
	}
	if n, _ := s.PendingDeliveries(ctx); n != 0 {
		t.Errorf("pending after dead letter = %d", n)
	}
}

// A trigger taken over by another consumer is fanned out once: whoever
// comes second finds it acknowledged and writes nothing.
func TestTriggerFannedOutOnceAfterTakeOver(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	_ = s.EnsureNotifyGroup(ctx)
	sub := subscription("s1", "A81001", adapter.SubscriptionActive)
	_ = s.CreateSubscription(ctx, sub)
	_ = s.PublishTaskEvent(ctx, adapter.TaskEvent{TaskID: "t1", Practice: "A81001", Status: adapter.TaskAccepted, Time: t0})
	slow, _ := s.ReadTriggers(ctx, "slow", 10, 0)
	taken, _ := s.ClaimStaleTriggers(ctx, "other", 0, 10)
	if len(slow) != 1 || len(taken) != 1 {
		t.Fatalf("read %v, taken over %v", slow, taken)
	}
	first, err := s.FanOut(ctx, taken[0], []*adapter.Subscription{sub}, t0, t0.Add(time.Minute), "other")
	if err != nil || len(first) != 1 {
		t.Fatalf("first fan-out = %v, %v", first, err)
	}
	if ok, _ := s.Delivered(ctx, first[0]); !ok {
		t.Fatal("not settled")
	}
	second, err := s.FanOut(ctx, slow[0], []*adapter.Subscription{sub}, t0, t0.Add(time.Minute), "slow")
	if err != nil || len(second) != 0 {
		t.Errorf("second fan-out = %v, %v", second, err)
	}
	if got, _ := s.Subscription(ctx, "s1"); got.Events != 1 {
		t.Errorf("events counted %d times", got.Events)
	}
}

func TestAcknowledgedTriggersAreNotPending(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	_ = s.EnsureNotifyGroup(ctx)
	for _, id := range []string{"t1", "t2", "t3"} {
		_ = s.PublishTaskEvent(ctx, adapter.TaskEvent{TaskID: id, Practice: "A81001", Status: adapter.TaskAccepted, Time: t0})
	}
	trigs, err := s.ReadTriggers(ctx, "d1", 10, 0)
	if err != nil || len(trigs) != 3 {
		t.Fatalf("read %v, %v", trigs, err)
	}
	if err := s.Acknowledge(ctx, trigs[0].ID, trigs[2].ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Acknowledge(ctx); err != nil {
		t.Errorf("acknowledging none: %v", err)
	}
	left, err := s.ClaimStaleTriggers(ctx, "other", 0, 10)
	if err != nil || len(left) != 1 || left[0].Event.TaskID != "t2" {
		t.Errorf("pending after acknowledging t1 and t3: %+v, %v", left, err)
	}
}

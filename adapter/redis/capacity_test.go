package redis

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/internal/redistest"
)

var (
	t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	// names of the test services, as the directory would give them.
	testNames = map[string]string{"a": "Service A", "b": "Service B", "lw": "Link Workers"}
)

func testRouting(now time.Time) *adapter.Routing {
	return &adapter.Routing{Now: now, StaleAfter: 7 * 24 * time.Hour, LinkWorker: "lw", Names: testNames, Gate: adapter.OpenGate}
}

// The capacity contract runs against every store implementation: a real
// Redis server, and miniredis (the embedded development store), whose Lua
// must behave the same.
func TestCapacityContract(t *testing.T) {
	redistest.RunContract(t, New, map[string]func(*testing.T, *Store){
		"reserves at the first service with room":          testReservesFirstWithRoom,
		"skips each unavailable service with its reason":   testSkipReasons,
		"the last resort passed by takes it, and says so":  testLastResortPassedBy,
		"never over-allocates the last slot":               testLastSlot,
		"waitlists with position and estimate":             testWaitlist,
		"a waitlist step waitlists at a full service":      testWaitlistStep,
		"keeps over-capacity referrals with link workers":  testOverCapacity,
		"routes to the first candidate without routing":    testNoRoutingBackwardCompatible,
		"seeds only services with no capacity":             testSeed,
		"updates capacity atomically and logs who":         testUpdateCapacity,
		"releases a slot once":                             testReleaseSlot,
		"promotes the waitlist head while there is room":   testPromote,
		"re-routes the waiting referrals of a closure":     testReroute,
		"routes only where the consent gate lets it":       testConsentGateRouting,
		"moves waiting referrals only where the gate lets": testConsentGateMoves,
		"refuses to move referrals without a gate":         testNoGate,
	})
}

// setCap records a service's capacity as a provider would.
func setCap(t *testing.T, s *Store, svc string, st adapter.CapacityStatus, max, weekly int, verified time.Time) {
	t.Helper()
	_, err := s.UpdateCapacity(context.Background(), svc, adapter.Capacity{}, adapter.CapacityChange{By: "test", At: verified},
		func(c *adapter.Capacity) error {
			c.Status, c.MaxOpen, c.WeeklyIntake = st, max, weekly
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
}

// place submits one referral whose Task is routed along the steps.
func place(t *testing.T, s *Store, r *adapter.Routing, id string, steps ...adapter.RouteStep) *adapter.Submission {
	t.Helper()
	sub := &adapter.Submission{Kind: adapter.KindServiceRequest, ID: id, JSON: []byte(`{}`), Route: steps,
		Task: &adapter.Task{ID: id, ReferralID: id, Practice: "A81001", Status: adapter.TaskRequested,
			Priority: adapter.PriorityRoutine, AuthoredOn: r.Now, LastModified: r.Now, Version: 1, Route: steps}}
	if err := s.Intake(context.Background(), &adapter.IntakeBatch{Practice: "A81001", Now: r.Now, Routing: r,
		Items: []*adapter.Submission{sub}}); err != nil {
		t.Fatal(err)
	}
	if sub.Placement == nil {
		t.Fatal("no placement returned")
	}
	return sub
}

func svc(id string) adapter.RouteStep { return adapter.RouteStep{Service: id} }

var waitlistStep = adapter.RouteStep{Waitlist: true}

func reserved(t *testing.T, s *Store, id string) int {
	t.Helper()
	c, err := s.Capacity(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c.Reserved
}

func queued(t *testing.T, s *Store, svc string) []string {
	t.Helper()
	ids, err := s.c.ZRange(context.Background(), s.k.queue(svc), 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// checkTask checks the stored Task says what the placement says, in the
// domain's words.
func checkTask(t *testing.T, s *Store, r *adapter.Routing, sub *adapter.Submission) *adapter.Task {
	t.Helper()
	got, err := s.Task(context.Background(), sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	p := sub.Placement
	if got.Owner != p.Owner || got.BusinessStatus.Code != p.BusinessStatusCode() {
		t.Errorf("Task owner %q bs %q; placement %+v", got.Owner, got.BusinessStatus.Code, p)
	}
	if want := p.Reason(r); got.StatusReason != want {
		t.Errorf("statusReason %q, want %q", got.StatusReason, want)
	}
	if (got.Reserved != "") != p.Reserved || (p.Reserved && got.Reserved != p.Owner) {
		t.Errorf("rsv %q, placement reserved=%v at %q", got.Reserved, p.Reserved, p.Owner)
	}
	return got
}

func testReservesFirstWithRoom(t *testing.T, s *Store) {
	r := testRouting(t0)
	setCap(t, s, "a", adapter.CapacityOpen, 2, 0, t0)
	sub := place(t, s, r, "t1", svc("a"), svc("b"), svc("lw"))
	p := sub.Placement
	if p.Owner != "a" || p.Outcome != adapter.OutcomeRouted || !p.Reserved || len(p.Skipped) != 0 {
		t.Fatalf("placement %+v", p)
	}
	task := checkTask(t, s, r, sub)
	if task.StatusReason != "Routed to Service A" {
		t.Errorf("statusReason %q", task.StatusReason)
	}
	if reserved(t, s, "a") != 1 || !slices.Equal(queued(t, s, "a"), []string{"t1"}) {
		t.Errorf("reserved %d, queue %v", reserved(t, s, "a"), queued(t, s, "a"))
	}
	if len(task.Route) != 3 || task.Route[2].Service != "lw" {
		t.Errorf("route not kept on the Task: %+v", task.Route)
	}
}

// testLastResortPassedBy: a patient outside every service's area, the
// link workers included, still reaches the link workers (never bounced),
// and the reason does not name the service it went to as one passed by.
func testLastResortPassedBy(t *testing.T, s *Store) {
	r := testRouting(t0)
	setCap(t, s, "lw", adapter.CapacityOpen, 5, 0, t0)
	sub := place(t, s, r, "far", adapter.RouteStep{Service: "lw", Skip: adapter.SkipIneligibleArea})
	if p := sub.Placement; p.Owner != "lw" || p.Outcome != adapter.OutcomeRouted {
		t.Fatalf("placement %+v", p)
	}
	task := checkTask(t, s, r, sub)
	if want := "Routed to Link Workers, the last resort, although it does not cover the patient's area"; task.StatusReason != want {
		t.Errorf("statusReason %q, want %q", task.StatusReason, want)
	}
}

func testSkipReasons(t *testing.T, s *Store) {
	r := testRouting(t0)
	setCap(t, s, "b", adapter.CapacityOpen, 0, 0, t0)
	cases := []struct {
		reason adapter.SkipReason
		set    func()
		step   adapter.RouteStep
	}{
		{adapter.SkipPaused, func() { setCap(t, s, "a", adapter.CapacityPaused, 5, 0, t0) }, svc("a")},
		{adapter.SkipClosed, func() { setCap(t, s, "a", adapter.CapacityClosed, 5, 0, t0) }, svc("a")},
		{adapter.SkipStale, func() { setCap(t, s, "a", adapter.CapacityOpen, 5, 0, t0.Add(-8*24*time.Hour)) }, svc("a")},
		{adapter.SkipAtCapacity, func() { setCap(t, s, "a", adapter.CapacityOpen, 0, 0, t0); fill(t, s, "a") }, svc("a")},
		{adapter.SkipIneligibleAge, func() { setCap(t, s, "a", adapter.CapacityOpen, 0, 0, t0) },
			adapter.RouteStep{Service: "a", Skip: adapter.SkipIneligibleAge}},
		{adapter.SkipIneligibleArea, func() { setCap(t, s, "a", adapter.CapacityOpen, 0, 0, t0) },
			adapter.RouteStep{Service: "a", Skip: adapter.SkipIneligibleArea}},
	}
	for i, c := range cases {
		c.set()
		before := reserved(t, s, "a")
		sub := place(t, s, r, fmt.Sprintf("skip-%d", i), c.step, svc("b"), svc("lw"))
		p := sub.Placement
		if p.Owner != "b" || p.Outcome != adapter.OutcomeRouted || len(p.Skipped) != 1 ||
			p.Skipped[0] != (adapter.Skip{Service: "a", Reason: c.reason}) {
			t.Errorf("%s: placement %+v", c.reason, p)
			continue
		}
		task := checkTask(t, s, r, sub)
		if want := "Routed to Service B because Service A " + c.reason.Phrase(); task.StatusReason != want {
			t.Errorf("%s: statusReason %q", c.reason, task.StatusReason)
		}
		if reserved(t, s, "a") != before {
			t.Errorf("%s: a skipped service's count changed", c.reason)
		}
	}
}

// fill makes a service full: maxOpen equal to what it holds (at least one).
func fill(t *testing.T, s *Store, id string) {
	t.Helper()
	n := reserved(t, s, id)
	if n == 0 {
		place(t, s, testRouting(t0), "filler-"+id, svc(id))
		n = 1
	}
	setCap(t, s, id, adapter.CapacityOpen, n, 0, t0)
}

func testLastSlot(t *testing.T, s *Store) {
	r := testRouting(t0)
	setCap(t, s, "a", adapter.CapacityOpen, 1, 0, t0)
	first := place(t, s, r, "t1", svc("a"), svc("lw"))
	second := place(t, s, r, "t2", svc("a"), svc("lw"))
	if first.Placement.Owner != "a" || second.Placement.Owner != "lw" {
		t.Fatalf("owners %q, %q", first.Placement.Owner, second.Placement.Owner)
	}
	if p := second.Placement; p.Outcome != adapter.OutcomeRedirected || !p.Reserved ||
		p.Skipped[0].Reason != adapter.SkipAtCapacity {
		t.Errorf("second placement %+v", p)
	}
	task := checkTask(t, s, r, second)
	if task.StatusReason != "Redirected to link workers because Service A is at capacity" ||
		task.BusinessStatus.Code != adapter.BSRedirected {
		t.Errorf("Task says %q (%s)", task.StatusReason, task.BusinessStatus.Code)
	}
	if reserved(t, s, "a") != 1 || reserved(t, s, "lw") != 1 {
		t.Errorf("reserved a=%d lw=%d", reserved(t, s, "a"), reserved(t, s, "lw"))
	}
}

func testWaitlist(t *testing.T, s *Store) {
	r := testRouting(t0)
	setCap(t, s, "a", adapter.CapacityWaitlist, 10, 2, t0)
	setCap(t, s, "lw", adapter.CapacityOpen, 1, 0, t0)
	place(t, s, r, "fills-lw", svc("lw"))
	for i, want := range []struct{ pos, days int }{{1, 4}, {2, 7}, {3, 11}} {
		r := testRouting(t0.Add(time.Duration(i) * time.Minute))
		sub := place(t, s, r, fmt.Sprintf("w%d", i+1), svc("a"), svc("lw"))
		p := sub.Placement
		if p.Owner != "a" || p.Outcome != adapter.OutcomeWaitlisted || p.Position != want.pos || p.WaitDays != want.days || p.Reserved {
			t.Fatalf("waitlist %d: %+v", i+1, p)
		}
		task := checkTask(t, s, r, sub)
		wantReason := fmt.Sprintf("Waitlisted at Service A, position %d, estimated wait %d days", want.pos, want.days)
		if task.StatusReason != wantReason || task.BusinessStatus.Code != adapter.BSWaitlisted {
			t.Errorf("Task says %q (%s)", task.StatusReason, task.BusinessStatus.Code)
		}
	}
	ids, err := s.Waitlist(context.Background(), "a")
	if err != nil || !slices.Equal(ids, []string{"w1", "w2", "w3"}) {
		t.Errorf("waitlist %v %v", ids, err)
	}
	if len(queued(t, s, "a")) != 0 || reserved(t, s, "a") != 0 {
		t.Errorf("a waitlisted referral was queued or holds a slot")
	}
	c, _ := s.Capacity(context.Background(), "a")
	if c.Waiting != 3 {
		t.Errorf("waiting = %d", c.Waiting)
	}

	setCap(t, s, "b", adapter.CapacityWaitlist, 10, 0, t0)
	sub := place(t, s, r, "no-estimate", svc("b"), svc("lw"))
	if sub.Placement.WaitDays != 0 || checkTask(t, s, r, sub).StatusReason !=
		"Waitlisted at Service B, position 1 (the service gives no estimated wait)" {
		t.Errorf("no-estimate placement %+v", sub.Placement)
	}
}

func testWaitlistStep(t *testing.T, s *Store) {
	r := testRouting(t0)
	setCap(t, s, "a", adapter.CapacityOpen, 1, 0, t0)
	place(t, s, r, "t1", svc("a"))
	sub := place(t, s, r, "t2", svc("a"), waitlistStep, svc("lw"))
	if p := sub.Placement; p.Owner != "a" || p.Outcome != adapter.OutcomeWaitlisted || p.Position != 1 {
		t.Fatalf("placement %+v", p)
	}
	// A paused service keeps no waitlist: the step passes to the next.
	setCap(t, s, "b", adapter.CapacityPaused, 0, 0, t0)
	sub = place(t, s, r, "t3", svc("b"), waitlistStep, svc("lw"))
	if p := sub.Placement; p.Owner != "lw" || p.Outcome != adapter.OutcomeRedirected {
		t.Fatalf("placement %+v", p)
	}
}

func testOverCapacity(t *testing.T, s *Store) {
	r := testRouting(t0)
	setCap(t, s, "a", adapter.CapacityClosed, 0, 0, t0)
	setCap(t, s, "lw", adapter.CapacityOpen, 1, 0, t0)
	place(t, s, r, "fills-lw", svc("lw"))
	sub := place(t, s, r, "t1", svc("a"), svc("lw"))
	p := sub.Placement
	if p.Owner != "lw" || !p.OverCapacity || p.OverReason != adapter.SkipAtCapacity || p.Reserved {
		t.Fatalf("placement %+v", p)
	}
	task := checkTask(t, s, r, sub)
	if task.BusinessStatus.Code != adapter.BSOverCapacity ||
		task.StatusReason != "Placed with Link Workers, which is at capacity, because no other service could take the referral" {
		t.Errorf("Task says %q (%s)", task.StatusReason, task.BusinessStatus.Code)
	}
	if !slices.Contains(queued(t, s, "lw"), "t1") || reserved(t, s, "lw") != 1 {
		t.Errorf("over-capacity referral not queued with the link workers, or a slot was taken")
	}
}

func testNoRoutingBackwardCompatible(t *testing.T, s *Store) {
	setCap(t, s, "a", adapter.CapacityClosed, 0, 0, t0)
	sub := &adapter.Submission{Kind: adapter.KindServiceRequest, ID: "old", JSON: []byte(`{}`), Candidates: []string{"a", "lw"},
		Task: &adapter.Task{ID: "old", Status: adapter.TaskRequested, AuthoredOn: t0, Version: 1}}
	if err := s.Intake(context.Background(), &adapter.IntakeBatch{Practice: "A81001", Now: t0, Items: []*adapter.Submission{sub}}); err != nil {
		t.Fatal(err)
	}
	if sub.Task.Owner != "a" || sub.Placement != nil || !slices.Equal(queued(t, s, "a"), []string{"old"}) {
		t.Errorf("owner %q placement %v", sub.Task.Owner, sub.Placement)
	}
}

func testSeed(t *testing.T, s *Store) {
	ctx := context.Background()
	n, err := s.SeedCapacity(ctx, []adapter.Capacity{{Service: "a", MaxOpen: 5}, {Service: "b", MaxOpen: 0}}, t0)
	if err != nil || n != 2 {
		t.Fatalf("seeded %d, %v", n, err)
	}
	setCap(t, s, "a", adapter.CapacityPaused, 9, 3, t0.Add(time.Hour))
	n, err = s.SeedCapacity(ctx, []adapter.Capacity{{Service: "a", MaxOpen: 5}, {Service: "b", MaxOpen: 7}, {Service: "c", MaxOpen: 1}}, t0.Add(2*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("re-seed seeded %d, %v", n, err)
	}
	m, err := s.Capacities(ctx, []string{"a", "b", "c"})
	if err != nil {
		t.Fatal(err)
	}
	if a := m["a"]; a.Status != adapter.CapacityPaused || a.MaxOpen != 9 || a.WeeklyIntake != 3 {
		t.Errorf("seeding overwrote a live value: %+v", a)
	}
	if b := m["b"]; b.Status != adapter.CapacityOpen || b.MaxOpen != 0 || !b.LastVerified.Equal(t0) {
		t.Errorf("b = %+v", b)
	}
	if c := m["c"]; c.MaxOpen != 1 || !c.LastVerified.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("c = %+v", c)
	}
}

func testUpdateCapacity(t *testing.T, s *Store) {
	ctx := context.Background()
	ch := adapter.CapacityChange{By: "provider@X1V01", Role: "provider", Org: "X1V01", At: t0}
	c, err := s.UpdateCapacity(ctx, "a", adapter.Capacity{MaxOpen: 12}, ch, func(c *adapter.Capacity) error {
		if c.Status != adapter.CapacityOpen || c.MaxOpen != 12 {
			t.Errorf("update started from %+v, want the seed", c)
		}
		c.Status = adapter.CapacityWaitlist
		return nil
	})
	if err != nil || c.Status != adapter.CapacityWaitlist || c.MaxOpen != 12 || !c.LastVerified.Equal(t0) {
		t.Fatalf("update = %+v, %v", c, err)
	}
	refused := adapter.Errorf(adapter.EINVALID, "no")
	if _, err := s.UpdateCapacity(ctx, "a", adapter.Capacity{}, ch, func(c *adapter.Capacity) error {
		c.Status = adapter.CapacityClosed
		return refused
	}); err != refused {
		t.Fatalf("fn error = %v", err)
	}
	if got, _ := s.Capacity(ctx, "a"); got.Status != adapter.CapacityWaitlist {
		t.Errorf("a refused update was written: %+v", got)
	}
	log, err := s.CapacityLog(ctx, 0)
	if err != nil || len(log) != 1 {
		t.Fatalf("log = %+v, %v", log, err)
	}
	if e := log[0]; e.Service != "a" || e.Status != adapter.CapacityWaitlist || e.MaxOpen != 12 || e.Change != ch {
		t.Errorf("log entry %+v", e)
	}
}

func testReleaseSlot(t *testing.T, s *Store) {
	ctx := context.Background()
	setCap(t, s, "a", adapter.CapacityOpen, 2, 0, t0)
	place(t, s, testRouting(t0), "t1", svc("a"))
	for i, want := range []bool{true, false} {
		ok, err := s.ReleaseSlot(ctx, "t1")
		if err != nil || ok != want {
			t.Fatalf("release %d = %v, %v", i+1, ok, err)
		}
	}
	if n := reserved(t, s, "a"); n != 0 {
		t.Errorf("reserved = %d", n)
	}
	if task, _ := s.Task(ctx, "t1"); task.Reserved != "" {
		t.Errorf("rsv still %q", task.Reserved)
	}
	// The count never goes below zero, even if it was reset meanwhile.
	place(t, s, testRouting(t0), "t2", svc("a"))
	s.c.HSet(ctx, s.k.capacity("a"), cReserved, 0)
	if ok, _ := s.ReleaseSlot(ctx, "t2"); !ok || reserved(t, s, "a") != 0 {
		t.Errorf("released %v, reserved %d", ok, reserved(t, s, "a"))
	}
	if ok, err := s.ReleaseSlot(ctx, "no-such-task"); ok || err != nil {
		t.Errorf("unknown Task: %v, %v", ok, err)
	}
}

func testPromote(t *testing.T, s *Store) {
	ctx := context.Background()
	r := testRouting(t0)
	setCap(t, s, "a", adapter.CapacityWaitlist, 2, 0, t0)
	for i := range 4 {
		place(t, s, testRouting(t0.Add(time.Duration(i)*time.Second)), fmt.Sprintf("w%d", i+1), svc("a"))
	}
	s.c.HSet(ctx, s.k.task("w1"), fStatus, string(adapter.TaskCancelled)) // ended while waiting
	if ids, err := s.PromoteWaitlist(ctx, "a", r, 10); err != nil || len(ids) != 0 {
		t.Fatalf("promoted %v, %v while the service takes waitlist only", ids, err)
	}
	setCap(t, s, "a", adapter.CapacityOpen, 2, 0, t0)
	ids, err := s.PromoteWaitlist(ctx, "a", r, 10)
	if err != nil || !slices.Equal(ids, []string{"w2", "w3"}) {
		t.Fatalf("promoted %v, %v", ids, err)
	}
	if reserved(t, s, "a") != 2 || !slices.Equal(queued(t, s, "a"), []string{"w2", "w3"}) {
		t.Errorf("reserved %d queue %v", reserved(t, s, "a"), queued(t, s, "a"))
	}
	left, _ := s.Waitlist(ctx, "a")
	if !slices.Equal(left, []string{"w4"}) {
		t.Errorf("waitlist left %v, want the cancelled one dropped and w4 waiting", left)
	}
	task, _ := s.Task(ctx, "w2")
	if task.Reserved != "a" || task.BusinessStatus.Code != adapter.BSRouted || task.Version != 2 ||
		task.StatusReason != "Routed to Service A from its waitlist" {
		t.Errorf("promoted Task %+v", task)
	}
}

func testReroute(t *testing.T, s *Store) {
	ctx := context.Background()
	r := testRouting(t0)
	setCap(t, s, "a", adapter.CapacityOpen, 2, 0, t0)
	setCap(t, s, "b", adapter.CapacityOpen, 1, 0, t0)
	route := []adapter.RouteStep{svc("a"), svc("b"), svc("lw")}
	place(t, s, r, "q1", route...)
	place(t, s, r, "q2", route...)
	// q2 was claimed: it left the queue and was accepted.
	s.c.ZRem(ctx, s.k.queue("a"), "q2")
	s.c.HSet(ctx, s.k.task("q2"), fStatus, string(adapter.TaskAccepted))
	setCap(t, s, "a", adapter.CapacityWaitlist, 2, 0, t0)
	place(t, s, r, "w1", route[:1]...) // a's waitlist: a only, then the link workers
	place(t, s, r, "q3", route...)     // a is waitlist-only: b takes it
	setCap(t, s, "a", adapter.CapacityClosed, 2, 0, t0)

	moved, err := s.RerouteWaiting(ctx, "a", r)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]adapter.Placement{}
	for _, m := range moved {
		got[m.TaskID] = m.Placement
	}
	if len(got) != 2 {
		t.Fatalf("re-routed %v, want q1 (queued) and w1 (waitlisted)", got)
	}
	if p := got["q1"]; p.Owner != "lw" || p.Skipped[0] != (adapter.Skip{Service: "a", Reason: adapter.SkipClosed}) ||
		p.Skipped[1].Reason != adapter.SkipAtCapacity {
		t.Errorf("q1 placement %+v (b is full with q3)", p)
	}
	if p := got["w1"]; p.Owner != "lw" || !p.Reserved {
		t.Errorf("w1 placement %+v", p)
	}
	q1, _ := s.Task(ctx, "q1")
	if q1.StatusReason != "Service A closed. Redirected to link workers because Service B is at capacity" ||
		q1.Version != 2 || q1.Reserved != "lw" {
		t.Errorf("q1 = %+v", q1)
	}
	if reserved(t, s, "a") != 1 { // q2, claimed, keeps its slot
		t.Errorf("a reserved = %d", reserved(t, s, "a"))
	}
	if q2, _ := s.Task(ctx, "q2"); q2.Owner != "a" || q2.Version != 1 {
		t.Errorf("claimed Task was moved: %+v", q2)
	}
	if len(queued(t, s, "a")) != 0 {
		t.Errorf("a's queue = %v", queued(t, s, "a"))
	}
	if wl, _ := s.Waitlist(ctx, "a"); len(wl) != 0 {
		t.Errorf("a's waitlist = %v", wl)
	}
	if lw := queued(t, s, "lw"); !slices.Contains(lw, "q1") || !slices.Contains(lw, "w1") {
		t.Errorf("link-worker queue = %v", lw)
	}
}

// gateDenying is a consent gate that does not let any referral go to the
// given services: it marks them as access.Policy.Gate would, with a last
// resort when the link workers are among them.
func gateDenying(denied ...string) adapter.ConsentGate {
	return func(_ context.Context, t *adapter.Task, steps []adapter.RouteStep) ([]adapter.RouteStep, bool, error) {
		out, first := []adapter.RouteStep{}, ""
		for _, st := range steps {
			if st.Service != "" && st.Skip == "" && slices.Contains(denied, st.Service) {
				st.Skip = adapter.SkipNoConsent
			}
			if st.Service != "" && st.Skip == "" && first == "" {
				first = st.Service
			}
			out = append(out, st)
		}
		if !slices.Contains(denied, "lw") {
			return out, true, nil
		}
		if first == "" {
			return out, false, nil
		}
		return append(out, adapter.RouteStep{Service: first, LastResort: true}), true, nil
	}
}

// Routing passes a service the consent does not cover by, saying so, and
// that is no lack of capacity; with the link workers not covered either, a
// referral no covered service can take waits on the last resort's
// waitlist instead of going to the link workers.
func testConsentGateRouting(t *testing.T, s *Store) {
	r := testRouting(t0)
	setCap(t, s, "a", adapter.CapacityOpen, 5, 0, t0)
	setCap(t, s, "b", adapter.CapacityOpen, 1, 0, t0)
	sub := place(t, s, r, "c1", adapter.RouteStep{Service: "a", Skip: adapter.SkipNoConsent}, svc("b"), svc("lw"))
	if p := sub.Placement; p.Owner != "b" || p.Outcome != adapter.OutcomeRouted || !p.Reserved ||
		p.Skipped[0] != (adapter.Skip{Service: "a", Reason: adapter.SkipNoConsent}) {
		t.Fatalf("placement %+v", p)
	}
	task := checkTask(t, s, r, sub)
	if task.StatusReason != "Routed to Service B because Service A is not one the patient's consent allows the referral to be shared with" {
		t.Errorf("statusReason %q", task.StatusReason)
	}
	if slices.Contains(queued(t, s, "a"), "c1") || reserved(t, s, "a") != 0 {
		t.Error("the service the consent does not cover holds the referral")
	}
	// b is full now; the link workers are not covered: b's waitlist.
	sub = place(t, s, r, "c2", adapter.RouteStep{Service: "a", Skip: adapter.SkipNoConsent}, svc("b"),
		adapter.RouteStep{Service: "lw", Skip: adapter.SkipNoConsent}, adapter.RouteStep{Service: "b", LastResort: true})
	if p := sub.Placement; p.Owner != "b" || p.Outcome != adapter.OutcomeWaitlisted || p.Reserved || p.Position != 1 {
		t.Fatalf("last-resort placement %+v", p)
	}
	if len(queued(t, s, "lw")) != 0 {
		t.Errorf("the link workers got a referral the consent does not let them have: %v", queued(t, s, "lw"))
	}
	// What is stored for later re-routing is never the last resort, which
	// is decided afresh each time from the consent as it is then.
	if got, _ := s.Task(context.Background(), "c2"); slices.ContainsFunc(got.Route, func(st adapter.RouteStep) bool { return st.LastResort }) {
		t.Errorf("the stored route keeps the last resort: %+v", got.Route)
	}
}

// Waitlist promotion and re-routing ask the gate for each referral they
// move: one the consent no longer lets go to the service stays where it
// is; a re-routed one passes the services the consent does not cover; one
// with nowhere covered left waits for consent.
func testConsentGateMoves(t *testing.T, s *Store) {
	ctx := context.Background()
	setCap(t, s, "a", adapter.CapacityWaitlist, 5, 0, t0)
	place(t, s, testRouting(t0), "w1", svc("a"), waitlistStep, svc("b"), svc("lw"))
	place(t, s, testRouting(t0.Add(time.Second)), "w2", svc("a"), waitlistStep, svc("b"), svc("lw"))
	setCap(t, s, "a", adapter.CapacityOpen, 5, 0, t0)
	r := testRouting(t0)
	r.Gate = func(ctx context.Context, t *adapter.Task, steps []adapter.RouteStep) ([]adapter.RouteStep, bool, error) {
		if t.ID == "w1" {
			return gateDenying("a")(ctx, t, steps)
		}
		return steps, true, nil
	}
	ids, err := s.PromoteWaitlist(ctx, "a", r, 10)
	if err != nil || !slices.Equal(ids, []string{"w2"}) {
		t.Fatalf("promoted %v, %v; want w2 only", ids, err)
	}
	if wl, _ := s.Waitlist(ctx, "a"); !slices.Equal(wl, []string{"w1"}) {
		t.Errorf("waitlist %v: w1 stays", wl)
	}

	// a closes: w2 (queued) and w1 (waitlisted) are re-routed. b is not
	// covered for either; the link workers are not covered for w1, which
	// has nowhere else: it waits for consent.
	setCap(t, s, "b", adapter.CapacityOpen, 5, 0, t0)
	setCap(t, s, "a", adapter.CapacityClosed, 5, 0, t0)
	r.Gate = func(ctx context.Context, t *adapter.Task, steps []adapter.RouteStep) ([]adapter.RouteStep, bool, error) {
		if t.ID == "w1" {
			return gateDenying("b", "lw")(ctx, t, steps)
		}
		return gateDenying("b")(ctx, t, steps)
	}
	moved, err := s.RerouteWaiting(ctx, "a", r)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]adapter.Rerouted{}
	for _, m := range moved {
		got[m.TaskID] = m
	}
	if m := got["w2"]; m.Held || m.Placement.Owner != "lw" || !slices.Contains(m.Placement.Skipped, adapter.Skip{Service: "b", Reason: adapter.SkipNoConsent}) {
		t.Errorf("w2 re-routed %+v", m)
	}
	if m := got["w1"]; !m.Held {
		t.Errorf("w1 re-routed %+v, want held for consent", m)
	}
	w1, _ := s.Task(ctx, "w1")
	if !w1.ConsentHeld() || w1.BusinessStatus.Code != adapter.BSAwaitingConsent || w1.Reserved != "" || w1.HeldFrom != adapter.TaskRequested ||
		w1.StatusReason != "Service A closed. "+adapter.ReasonFormats.HeldNoConsent {
		t.Errorf("w1 = %+v", w1)
	}
	if held, _ := s.ConsentHolds(ctx, t0.Add(time.Hour), 10); len(held) != 1 || held[0].ID != "w1" {
		t.Errorf("consent holds %v", held)
	}
	if len(queued(t, s, "b")) != 0 {
		t.Errorf("b got a referral the consent does not let it have: %v", queued(t, s, "b"))
	}
}

func testNoGate(t *testing.T, s *Store) {
	r := testRouting(t0)
	r.Gate = nil
	setCap(t, s, "a", adapter.CapacityWaitlist, 5, 0, t0)
	place(t, s, testRouting(t0), "w1", svc("a"))
	setCap(t, s, "a", adapter.CapacityOpen, 5, 0, t0)
	if _, err := s.PromoteWaitlist(context.Background(), "a", r, 10); err == nil {
		t.Error("promoted without a consent gate")
	}
	if _, err := s.RerouteWaiting(context.Background(), "a", r); err == nil {
		t.Error("re-routed without a consent gate")
	}
}

package intake_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/capacity"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/adapter/intake"
	"github.com/social-prescribing/referral-adapter/adapter/redis"
	"github.com/social-prescribing/referral-adapter/adapter/routing"
	"github.com/social-prescribing/referral-adapter/internal/redistest"
)

// env is the intake service wired as in production over a real Redis,
// with the test network of testdata/capacity (tiny: 10 places, then
// second: 40, then the link workers: 20), capacity seeded.
type env struct {
	in    *intake.Service
	store *redis.Store
	caps  *capacity.Service
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	m, err := routing.Load(os.DirFS("testdata/capacity"), "testdata/capacity")
	if err != nil {
		tb.Fatal(err)
	}
	p, err := fhir.NewParser()
	if err != nil {
		tb.Fatal(err)
	}
	store := redis.New(redistest.Client(tb), redistest.Namespace(tb))
	caps := capacity.New(store, m, adapter.OpenGate, capacity.DefaultConfig()) // these tests are about capacity, not consent
	if _, err := caps.Seed(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return &env{in: intake.New(p, store, m, withoutConsent()), store: store, caps: caps}
}

const practice = "A81001"

// serviceRequest is a money-worries referral with a unique identifier.
func serviceRequest(n int, subject map[string]any) []byte {
	if subject == nil {
		subject = map[string]any{"type": "Patient", "identifier": map[string]any{
			"system": adapter.SystemNHSNumber, "value": adapter.SyntheticNHSNumber(n)}}
	}
	b, _ := json.Marshal(map[string]any{
		"resourceType": "ServiceRequest", "status": "active", "intent": "order",
		"identifier": []any{map[string]any{"system": "https://test.example/Id/referral", "value": fmt.Sprintf("R-%06d", n)}},
		"subject":    subject,
		"reasonCode": []any{map[string]any{"coding": []any{map[string]any{"system": adapter.SystemICD10, "code": "Z59.6"}}}},
	})
	return b
}

// A hundred simultaneous referrals at a service with ten free places: ten
// are placed there, the other ninety follow the fallbacks (forty to the
// second service, twenty with slots at the link workers, thirty more with
// the link workers flagged over capacity), and none is lost or placed twice.
func TestConcurrentReferralsNeverOverAllocate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const n = 100
	results := make([]*intake.Result, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i], errs[i] = e.in.CreateServiceRequest(ctx, intake.Caller{Actor: adapter.Actor{Org: practice, Role: adapter.RolePractice}}, serviceRequest(i, nil), adapter.Identifier{})
		}()
	}
	close(start)
	wg.Wait()

	owners := map[string]int{}
	codes := map[string]int{}
	for i, r := range results {
		if errs[i] != nil {
			t.Fatalf("referral %d: %v", i, errs[i])
		}
		if r.Placement == nil || r.Task.Owner != r.Placement.Owner {
			t.Fatalf("referral %d: placement %+v, Task owner %q", i, r.Placement, r.Task.Owner)
		}
		owners[r.Placement.Owner]++
		codes[r.Task.BusinessStatus.Code]++
	}
	if owners["tiny"] != 10 || owners["second"] != 40 || owners["lw"] != 50 {
		t.Errorf("owners = %v, want tiny 10, second 40, lw 50", owners)
	}
	if codes[adapter.BSRouted] != 50 || codes[adapter.BSRedirected] != 20 || codes[adapter.BSOverCapacity] != 30 {
		t.Errorf("business statuses = %v", codes)
	}
	checkStoreAgrees(t, e, results)
}

// checkStoreAgrees checks every referral's Task is in exactly one queue, the
// one of its owner, and each service's reserved count equals the Tasks
// holding a slot there.
func checkStoreAgrees(t *testing.T, e *env, results []*intake.Result) {
	t.Helper()
	ctx := context.Background()
	seen := map[string]string{}
	for _, svc := range []string{"tiny", "second", "lw"} {
		ids, err := e.store.QueuedTaskIDs(ctx, svc)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if other, dup := seen[id]; dup {
				t.Errorf("Task %s queued at %s and %s", id, other, svc)
			}
			seen[id] = svc
		}
	}
	holding := map[string]int{}
	for _, r := range results {
		task, err := e.store.Task(ctx, r.ID)
		if err != nil {
			t.Fatalf("Task %s lost: %v", r.ID, err)
		}
		if seen[r.ID] != task.Owner {
			t.Errorf("Task %s owned by %s but queued at %q", r.ID, task.Owner, seen[r.ID])
		}
		if task.Reserved != "" {
			holding[task.Reserved]++
		}
	}
	if len(seen) != len(results) {
		t.Errorf("%d Tasks queued, want %d", len(seen), len(results))
	}
	views, err := e.caps.Directory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for svc, want := range map[string]int{"tiny": 10, "second": 40, "lw": 20} {
		if views[svc].Reserved != want || holding[svc] != want {
			t.Errorf("%s: reserved %d, Tasks holding a slot %d, want %d", svc, views[svc].Reserved, holding[svc], want)
		}
	}
}

// transaction is a Bundle creating a Patient and a referral about them.
func transaction(n int, patient map[string]any) []byte {
	patient["resourceType"] = "Patient"
	var sr map[string]any
	_ = json.Unmarshal(serviceRequest(n, map[string]any{"reference": "urn:uuid:00000000-0000-4000-8000-000000000001"}), &sr)
	b, _ := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
		map[string]any{"fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000001", "resource": patient,
			"request": map[string]any{"method": "POST", "url": "Patient"}},
		map[string]any{"fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000002", "resource": sr,
			"request": map[string]any{"method": "POST", "url": "ServiceRequest"}},
	}})
	return b
}

// Eligibility comes from the Patient sent with the referral: age from
// birthDate (skipped only when every possible birth date is outside the
// range) and area from the home postcode's district; unknown never excludes.
func TestEligibilityFromThePatient(t *testing.T) {
	e := newEnv(t)
	p, _ := fhir.NewParser()
	year := time.Now().Year()
	cases := []struct {
		name    string
		patient map[string]any
		skip    adapter.SkipReason
	}{
		{"too young", map[string]any{"birthDate": fmt.Sprintf("%d-01-01", year-10)}, adapter.SkipIneligibleAge},
		{"too old", map[string]any{"birthDate": fmt.Sprintf("%d", year-70)}, adapter.SkipIneligibleAge},
		{"year could be 18", map[string]any{"birthDate": fmt.Sprintf("%d", year-18)}, ""},
		{"outside the area", map[string]any{"address": []any{map[string]any{"use": "home", "postalCode": "LS9 2AB"}}}, adapter.SkipIneligibleArea},
		{"home address counts", map[string]any{"address": []any{
			map[string]any{"use": "work", "postalCode": "LS9 2AB"}, map[string]any{"use": "home", "postalCode": "ls6 1aa"}}}, ""},
		{"nothing known", map[string]any{}, ""},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			entries, err := p.Transaction(transaction(1000+i, c.patient))
			if err != nil {
				t.Fatal(err)
			}
			in := []intake.Entry{{Tx: &entries[0]}, {Tx: &entries[1]}}
			rs, err := e.in.Transact(context.Background(), intake.Caller{Actor: adapter.Actor{Org: practice, Role: adapter.RolePractice}}, in)
			if err != nil {
				t.Fatal(err)
			}
			pl := rs[1].Placement
			if c.skip == "" {
				if pl.Owner != "tiny" || len(pl.Skipped) != 0 {
					t.Errorf("placement %+v, want tiny", pl)
				}
				return
			}
			if pl.Owner != "second" || len(pl.Skipped) != 1 || pl.Skipped[0] != (adapter.Skip{Service: "tiny", Reason: c.skip}) {
				t.Errorf("placement %+v, want second after tiny %s", pl, c.skip)
			}
			if want := "Routed to Second Advice because Tiny Advice " + c.skip.Phrase(); rs[1].Task.StatusReason != want {
				t.Errorf("statusReason %q", rs[1].Task.StatusReason)
			}
		})
	}
}

// Closing a service re-routes the referrals waiting there by the same
// rules, each Task saying why; a referral already claimed stays.
func TestClosureReroutesWaitingReferrals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var ids []string
	for i := range 3 {
		r, err := e.in.CreateServiceRequest(ctx, intake.Caller{Actor: adapter.Actor{Org: practice, Role: adapter.RolePractice}}, serviceRequest(i, nil), adapter.Identifier{})
		if err != nil || r.Task.Owner != "tiny" {
			t.Fatalf("referral %d: %v, %+v", i, err, r)
		}
		ids = append(ids, r.ID)
	}
	res, err := e.caps.Update(ctx, "tiny", capacity.Update{Status: adapter.CapacityClosed, MaxOpen: 10},
		adapter.CapacityChange{By: "provider@X9V01", Role: "provider", Org: "X9V01"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rerouted) != 3 || res.Reserved != 0 || res.Gravity != adapter.GravityNoCapacity {
		t.Fatalf("update result: %+v", res)
	}
	for _, id := range ids {
		task, err := e.store.Task(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if task.Owner != "second" || task.Reserved != "second" || task.Version != 2 ||
			task.StatusReason != "Tiny Advice closed. Routed to Second Advice" {
			t.Errorf("Task %s after closure: owner %s rsv %s v%d %q", id, task.Owner, task.Reserved, task.Version, task.StatusReason)
		}
	}
	// New referrals now skip the closed service.
	r, err := e.in.CreateServiceRequest(ctx, intake.Caller{Actor: adapter.Actor{Org: practice, Role: adapter.RolePractice}}, serviceRequest(9, nil), adapter.Identifier{})
	if err != nil || r.Placement.Owner != "second" || r.Placement.Skipped[0].Reason != adapter.SkipClosed {
		t.Errorf("after closure: %v %+v", err, r.Placement)
	}
}

// When a waitlist-only service opens with room, the head of its waitlist
// moves into its queue with a slot each, in order; the rest keep waiting.
func TestOpeningPromotesTheWaitlist(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	set := func(svc string, st adapter.CapacityStatus, max int) *capacity.UpdateResult {
		t.Helper()
		res, err := e.caps.Update(ctx, svc, capacity.Update{Status: st, MaxOpen: max}, adapter.CapacityChange{By: "test"})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	set("tiny", adapter.CapacityWaitlist, 10)
	set("second", adapter.CapacityPaused, 40)
	set("lw", adapter.CapacityPaused, 20)
	var ids []string
	for i := range 3 {
		r, err := e.in.CreateServiceRequest(ctx, intake.Caller{Actor: adapter.Actor{Org: practice, Role: adapter.RolePractice}}, serviceRequest(i, nil), adapter.Identifier{})
		if err != nil || r.Placement.Outcome != adapter.OutcomeWaitlisted || r.Placement.Position != i+1 {
			t.Fatalf("referral %d: %v %+v", i, err, r.Placement)
		}
		ids = append(ids, r.ID)
	}
	res := set("tiny", adapter.CapacityOpen, 2)
	if len(res.Promoted) != 2 || res.Promoted[0] != ids[0] || res.Promoted[1] != ids[1] || res.Waiting != 1 || res.Reserved != 2 {
		t.Fatalf("promoted %v, capacity %+v", res.Promoted, res.Capacity)
	}
	queued, _ := e.store.QueuedTaskIDs(ctx, "tiny")
	if len(queued) != 2 {
		t.Errorf("queue %v", queued)
	}
	task, _ := e.store.Task(ctx, ids[0])
	if task.StatusReason != "Routed to Tiny Advice from its waitlist" || task.Reserved != "tiny" {
		t.Errorf("promoted Task %+v", task)
	}
	// A slot frees up: the job promotes the next.
	if ok, err := e.store.ReleaseSlot(ctx, ids[0]); !ok || err != nil {
		t.Fatalf("release %v %v", ok, err)
	}
	if moved, err := e.caps.Promote(ctx, "tiny"); err != nil || len(moved) != 1 || moved[0] != ids[2] {
		t.Errorf("promote after release = %v, %v", moved, err)
	}
}

// BenchmarkIntakeRouting measures referrals per second through the whole
// intake (parse, validate, route by rule and eligibility, place by
// capacity in Redis) with clients contending for the same ten places.
func BenchmarkIntakeRouting(b *testing.B) {
	e := newEnv(b)
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = serviceRequest(i, nil)
	}
	var next atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			if _, err := e.in.CreateServiceRequest(context.Background(), intake.Caller{Actor: adapter.Actor{Org: practice, Role: adapter.RolePractice}}, bodies[i], adapter.Identifier{}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "referrals/s")
}

// The report counters the intake script adds with each referral (issue
// 22) are those Go derives from where it was placed: placed at the first
// service, then redirected for lack of capacity to the second and to the
// link workers, some over capacity.
func TestIntakeScriptCountsAsPlaced(t *testing.T) {
	e := newEnv(t)
	m, err := routing.Load(os.DirFS("testdata/capacity"), "testdata/capacity")
	if err != nil {
		t.Fatal(err)
	}
	p, err := fhir.NewParser()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	in := intake.New(p, e.store, m, withoutConsent(), intake.WithStats(e.store), intake.WithClock(func() time.Time { return now }))
	ctx := context.Background()
	day := adapter.StatsDay(now, adapter.London())
	want, wantPractice := map[adapter.StatKey]int64{}, map[string]int64{}
	for i := range 80 {
		r, err := in.CreateServiceRequest(ctx, intake.Caller{Actor: adapter.Actor{Org: practice, Role: adapter.RolePractice}}, serviceRequest(i, nil), adapter.Identifier{})
		if err != nil {
			t.Fatal(err)
		}
		for _, inc := range intake.ReferralStats(r.Task, r.Placement, day) {
			want[inc.Key] += inc.N
			if inc.Practice != "" && inc.Key.PracticeCounted() {
				wantPractice[inc.Key.Metric] += inc.N
			}
		}
	}
	redirected := 0
	for k := range want {
		if k.Metric == adapter.MRedirected {
			redirected++
		}
	}
	if redirected < 2 {
		t.Fatalf("no redirection counted in %v: the test does not exercise placement", want)
	}
	var month []string // every day of December 2026: read from the month's roll-up
	for d := 1; d <= 31; d++ {
		month = append(month, fmt.Sprintf("2026-12-%02d", d))
	}
	for _, days := range [][]string{{day}, month} {
		got, err := e.store.DayStats(ctx, days)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("counters over %d days:\n got %v\nwant %v", len(days), got, want)
		}
	}
	got, err := e.store.PracticeStats(ctx, practice, []string{day})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(wantPractice) {
		t.Errorf("practice counters:\n got %v\nwant %v", got, wantPractice)
	}
}

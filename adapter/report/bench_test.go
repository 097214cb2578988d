package report_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/redis"
	"github.com/social-prescribing/referral-adapter/adapter/report"
	"github.com/social-prescribing/referral-adapter/adapter/routing"
	"github.com/social-prescribing/referral-adapter/internal/redistest"
	"github.com/social-prescribing/referral-adapter/mappings"
)

// BenchmarkCapacityReport measures a one-year capacity report with 1k and
// 1M referrals in history. Reports read per-day counters, and the
// service keeps settled months and days in memory once read, so the
// history's size changes the counts, not the work: the two should take
// about the same time. Reports the mean and p99 of b.N reports; the first
// report of each (cold) is printed too.
func BenchmarkCapacityReport(b *testing.B) {
	m, err := routing.Load(mappings.Default, "mappings")
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1_000, 1_000_000} {
		b.Run(fmt.Sprintf("history=%d", n), func(b *testing.B) {
			st := redis.New(redistest.Client(b), redistest.Namespace(b))
			st.KeepSettledStats(time.Now) // as the service runs
			end := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
			seedHistory(b, st, m, n, end)
			svc := report.New(st, st, m)
			days, _ := report.Days(end.AddDate(-1, 0, 1), end)
			t0 := time.Now()
			if _, err := svc.Capacity(context.Background(), days, []string{"LS6", "LS7"}); err != nil {
				b.Fatal(err)
			}
			cold := time.Since(t0)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				t := time.Now()
				if _, err := svc.Capacity(context.Background(), days, []string{"LS6", "LS7"}); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/report")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(cold.Microseconds())/1000, "ms/cold-report")
		})
	}
}

// seedHistory records the counters n referrals over the year before end
// would have left: received, placed, contacted with a wait, completed;
// their reach (referrer role, practice, age band, sex at each stage) and
// practice engagement (issue 20); and, for up to 2,000 of them, a pair of
// scores of each wellbeing measure, through the store as outcomes are.
func seedHistory(b *testing.B, st *redis.Store, m *routing.Mappings, n int, end time.Time) {
	r := rand.New(rand.NewPCG(1, 2))
	services := m.Services()
	areas := []string{"LS4", "LS5", "LS6", "LS7", "LS8"}
	needs := []string{"debt-and-benefits", "housing", "loneliness", "employment", "general"}
	sources := []adapter.ReferralSource{adapter.SourceGP, adapter.SourceNurse, adapter.SourceCareNavigator, adapter.SourceSelf, adapter.SourceOtherAgency, adapter.SourceUnknown}
	practices := []string{"A81001", "B82002", "C83003", "D84004", "E85005"}
	bands, sexes := adapter.AgeBands(), adapter.Sexes()
	counts := map[adapter.StatInc]int64{}
	for range n {
		at := end.AddDate(0, 0, -r.IntN(365))
		day := at.Format(time.DateOnly)
		k := adapter.StatKey{Service: services[r.IntN(len(services))].ID, Area: areas[r.IntN(len(areas))], Need: needs[r.IntN(len(needs))]}
		for _, metric := range []string{adapter.MReceived, adapter.MPlaced, adapter.MContacted, adapter.MTimeToContact + ":" + adapter.Bucket(time.Duration(r.IntN(200))*time.Hour), adapter.MCompleted} {
			k.Metric = metric
			counts[adapter.StatInc{Day: day, Key: k}]++
		}
		t := &adapter.Task{Area: k.Area, Practice: practices[r.IntN(len(practices))], Source: sources[r.IntN(len(sources))],
			AgeBand: bands[r.IntN(len(bands))], Sex: sexes[r.IntN(len(sexes))], AuthoredOn: at}
		for _, stage := range adapter.ReachStages {
			for _, rk := range adapter.ReachKeys(t, stage) {
				counts[adapter.StatInc{Day: day, Key: rk}]++
			}
		}
		counts[adapter.StatInc{Day: day, Key: adapter.EngageKey(t, adapter.EngageReferred)}]++
		counts[adapter.StatInc{Day: day, Key: adapter.EngageKey(t, adapter.EngageFeedback)}]++
	}
	seedWellbeing(b, st, r, min(n, 2_000), services, areas, end)
	var batch []adapter.StatInc
	for in, c := range counts {
		in.N = c
		if batch = append(batch, in); len(batch) == 5000 {
			if err := st.Count(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := st.Count(context.Background(), batch); err != nil {
		b.Fatal(err)
	}
}

// seedWellbeing records n referrals, each with a first and a latest score
// of every wellbeing measure dated over the year before end.
func seedWellbeing(b *testing.B, st *redis.Store, r *rand.Rand, n int, services []*adapter.Service, areas []string, end time.Time) {
	ctx := context.Background()
	batch := &adapter.IntakeBatch{Practice: "A81001", Now: end}
	for i := range n {
		id := fmt.Sprintf("wb-%d", i)
		batch.Items = append(batch.Items, &adapter.Submission{Kind: adapter.KindServiceRequest, ID: id,
			Identifier: adapter.Identifier{System: "https://x/ref", Value: id}, JSON: []byte(`{"resourceType":"ServiceRequest"}`),
			Task: &adapter.Task{ID: id, ReferralID: id, Practice: "A81001", Status: adapter.TaskAccepted, Version: 1,
				Owner: services[r.IntN(len(services))].ID, Area: areas[r.IntN(len(areas))], AuthoredOn: end, LastModified: end}})
		if len(batch.Items) == 100 || i == n-1 {
			if err := st.Intake(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch.Items = batch.Items[:0]
		}
	}
	for i := range n {
		for _, m := range adapter.WellbeingMeasures {
			first := end.AddDate(0, 0, -365+r.IntN(200))
			for j, at := range []time.Time{first, first.AddDate(0, 0, 1+r.IntN(160))} {
				o := adapter.OutcomeRecord{ID: fmt.Sprintf("wb-%d-%s-%d", i, m.Key, j), TaskID: fmt.Sprintf("wb-%d", i), Type: "Observation",
					Score: &adapter.WellbeingScore{Measure: m.Key, Value: m.Min + float64(r.IntN(int(m.Max-m.Min)+1)), At: at}}
				if err := st.SaveOutcome(ctx, o, []byte(`{}`)); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}

package report_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/mapping"
	"github.com/social-prescribing/referral-adapter/adapter/redis"
	"github.com/social-prescribing/referral-adapter/adapter/report"
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
	m, err := mapping.Load(mappings.Default, "mappings")
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
// would have left: received, placed, contacted with a wait, completed.
func seedHistory(b *testing.B, st *redis.Store, m *mapping.Mappings, n int, end time.Time) {
	r := rand.New(rand.NewPCG(1, 2))
	services := m.Services()
	areas := []string{"LS4", "LS5", "LS6", "LS7", "LS8"}
	needs := []string{"debt-and-benefits", "housing", "loneliness", "employment", "general"}
	counts := map[adapter.StatInc]int64{}
	for range n {
		day := end.AddDate(0, 0, -r.IntN(365)).Format(time.DateOnly)
		k := adapter.StatKey{Service: services[r.IntN(len(services))].ID, Area: areas[r.IntN(len(areas))], Need: needs[r.IntN(len(needs))]}
		for _, metric := range []string{adapter.MReceived, adapter.MPlaced, adapter.MContacted, adapter.MTimeToContact + ":" + adapter.Bucket(time.Duration(r.IntN(200))*time.Hour), adapter.MCompleted} {
			k.Metric = metric
			counts[adapter.StatInc{Day: day, Key: k}]++
		}
	}
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

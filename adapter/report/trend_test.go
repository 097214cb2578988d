package report

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/routing"
	"github.com/social-prescribing/referral-adapter/mappings"
)

// dayStore is an in-memory Store: counters per day.
type dayStore map[string]map[adapter.StatKey]int64

func (d dayStore) DayStats(_ context.Context, days []string) (map[adapter.StatKey]int64, error) {
	out := map[adapter.StatKey]int64{}
	for _, day := range days {
		for k, n := range d[day] {
			out[k] += n
		}
	}
	return out, nil
}

func (d dayStore) PracticeStats(context.Context, string, []string) (map[string]int64, error) {
	return nil, nil
}

func (d dayStore) DayStatsMatching(ctx context.Context, days []string, prefix string) (map[adapter.StatKey]int64, error) {
	all, _ := d.DayStats(ctx, days)
	for k := range all {
		if !strings.HasPrefix(k.Metric, prefix) {
			delete(all, k)
		}
	}
	return all, nil
}

// WellbeingStats reads the same counters: the wellbeing ones among them.
func (d dayStore) WellbeingStats(ctx context.Context, days []string) (map[adapter.StatKey]int64, error) {
	return d.DayStats(ctx, days)
}

func (d dayStore) add(day string, k adapter.StatKey, n int64) {
	if d[day] == nil {
		d[day] = map[adapter.StatKey]int64{}
	}
	d[day][k] += n
}

func TestTrendBuckets(t *testing.T) {
	span := func(from string, n int) []string {
		start, _ := time.Parse(time.DateOnly, from)
		days, err := Days(start, start.AddDate(0, 0, n-1))
		if err != nil {
			t.Fatal(err)
		}
		return days
	}
	cases := []struct {
		days    []string
		step    string
		buckets int
		last    string // first day of the last bucket
	}{
		{span("2026-11-01", 1), "day", 1, "2026-11-01"},
		{span("2026-11-01", 30), "day", 30, "2026-11-30"},
		{span("2026-10-01", 62), "day", 62, "2026-12-01"},
		{span("2026-10-01", 63), "week", 9, "2026-11-26"}, // 8 full weeks and one of 7 days
		{span("2026-01-01", 365), "month", 12, "2026-12-01"},
		{span("2025-12-15", 500), "month", 17, "2027-04-01"}, // partial first and last months
	}
	for _, c := range cases {
		step, b := TrendBuckets(c.days)
		if step != c.step || len(b) != c.buckets || b[len(b)-1][0] != c.last {
			t.Errorf("%d days from %s: %s × %d, last from %s; want %s × %d from %s",
				len(c.days), c.days[0], step, len(b), b[len(b)-1][0], c.step, c.buckets, c.last)
		}
		n := 0
		for _, bucket := range b {
			n += len(bucket)
		}
		if n != len(c.days) {
			t.Errorf("%d days in buckets, want %d", n, len(c.days))
		}
	}
}

func TestTrendSeriesAreScopedAndSuppressed(t *testing.T) {
	m, err := routing.Load(mappings.Default, "mappings")
	if err != nil {
		t.Fatal(err)
	}
	st := dayStore{}
	k := func(metric, area string) adapter.StatKey {
		return adapter.StatKey{Metric: metric, Service: "money-advice", Area: area, Need: "debt-and-benefits"}
	}
	st.add("2026-11-01", k(adapter.MReceived, "LS6"), 12)
	st.add("2026-11-02", k(adapter.MReceived, "LS6"), 3) // small: "<5", and 12 hidden with it
	st.add("2026-11-03", k(adapter.MReceived, "LS6"), 20)
	st.add("2026-11-03", k(adapter.MReceived, "LS9"), 40) // another area: never counted for LS6
	st.add("2026-11-01", k(adapter.MPlaced, "LS6"), 9)
	st.add("2026-11-03", k(adapter.MPlaced, "LS6"), 8)
	for _, day := range []string{"2026-11-01", "2026-11-03"} {
		st.add(day, adapter.StatKey{Metric: MSnapMax, Service: "money-advice"}, 60)
		st.add(day, adapter.StatKey{Metric: MSnapReserved, Service: "money-advice"}, 15)
		st.add(day, adapter.StatKey{Metric: MSnapMax, Service: "befriending"}, 40)
		st.add(day, adapter.StatKey{Metric: MSnapReserved, Service: "befriending"}, 35)
	}
	svc := New(st, nil, m)
	days := []string{"2026-11-01", "2026-11-02", "2026-11-03"}
	tr, err := svc.Trend(context.Background(), days, []string{"LS6"})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Step != "day" || len(tr.Points) != 3 {
		t.Fatalf("trend %+v", tr)
	}
	got := func(c Count) string { return fmt.Sprintf("%d/%v", c.N, c.Suppressed) }
	p := tr.Points
	if got(p[0].Received) != "12/true" || got(p[1].Received) != "3/true" || got(p[2].Received) != "20/false" {
		t.Errorf("received %s %s %s", got(p[0].Received), got(p[1].Received), got(p[2].Received))
	}
	if p[1].Received.String() != "<5" || p[0].Received.String() != "suppressed" {
		t.Errorf("received shown as %s, %s", p[1].Received, p[0].Received)
	}
	if got(p[0].Placed) != "9/false" || got(p[1].Placed) != "0/false" || got(p[2].Placed) != "8/false" {
		t.Errorf("placed %s %s %s", got(p[0].Placed), got(p[1].Placed), got(p[2].Placed))
	}
	// (15+35)/(60+40) on the days with snapshots, none on the day without.
	if p[0].Utilisation == nil || *p[0].Utilisation != 0.5 || p[1].Utilisation != nil {
		t.Errorf("utilisation %v %v", p[0].Utilisation, p[1].Utilisation)
	}
	all, _ := svc.Trend(context.Background(), days, nil)
	if all.Points[2].Received.N != 60 {
		t.Errorf("all areas on day 3: %d, want 60", all.Points[2].Received.N)
	}
}

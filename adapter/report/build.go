package report

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/routing"
)

// Store reads the counters.
type Store interface {
	DayStats(ctx context.Context, days []string) (map[adapter.StatKey]int64, error)
	PracticeStats(ctx context.Context, practice string, days []string) (map[string]int64, error)
	// DayStatsMatching is DayStats of the counters whose metric starts
	// with prefix only.
	DayStatsMatching(ctx context.Context, days []string, prefix string) (map[adapter.StatKey]int64, error)
	// WellbeingStats sums the wellbeing pair counters (issue 20), kept on
	// the day of each pair's latest score, of the given days. The map may
	// be shared: it is only read.
	WellbeingStats(ctx context.Context, days []string) (map[adapter.StatKey]int64, error)
}

// CapacityNow is each service's live capacity.
type CapacityNow interface {
	Capacities(ctx context.Context, ids []string) (map[string]adapter.Capacity, error)
}

// Snapshot metrics, written daily by the snapshot job: sums over the
// period divided by the number of snapshots give averages.
const (
	MSnapMax      = "snap-max"
	MSnapReserved = "snap-reserved"
	MSnapCount    = "snap-count"
)

// Service builds reports.
type Service struct {
	store Store
	caps  CapacityNow
	m     *routing.Mappings
	loc   *time.Location
	now   func() time.Time // the clock the counters are written by
}

// New returns a report Service.
func New(s Store, caps CapacityNow, m *routing.Mappings) *Service {
	return &Service{store: s, caps: caps, m: m, loc: adapter.London(), now: time.Now}
}

// SetClock replaces the clock (tests and the demo, whose counters are
// written on their own clock).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// MaxDays bounds a report's period.
const MaxDays = 731

// Days lists the Europe/London days from..to inclusive.
func Days(from, to time.Time) ([]string, error) {
	if to.Before(from) {
		return nil, adapter.Errorf(adapter.EVALUE, "from must not be after to").At("from")
	}
	var out []string
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(time.DateOnly))
		if len(out) > MaxDays {
			return nil, adapter.Errorf(adapter.EVALUE, "a report covers at most %d days", MaxDays).At("to")
		}
	}
	return out, nil
}

// Capacity builds the capacity report over days for the given areas (all
// areas when empty: admin).
func (s *Service) Capacity(ctx context.Context, days []string, areas []string) (*Report, error) {
	// Every read at once: each is a round trip at most (settled counters
	// are kept in memory), so the report waits for the slowest only.
	var (
		stats, wbStats map[adapter.StatKey]int64
		now            map[string]adapter.Capacity
		eng            engagementReads
	)
	err := parallel(
		func() (err error) { stats, err = s.store.DayStats(ctx, days); return err },
		func() (err error) { now, err = s.caps.Capacities(ctx, s.m.ServiceIDs()); return err },
		func() (err error) { wbStats, err = s.store.WellbeingStats(ctx, days); return err },
		func() (err error) {
			eng.previous, err = s.store.DayStatsMatching(ctx, previousDays(days), practiceReferred)
			return err
		},
		func() (err error) {
			eng.since, err = s.store.DayStatsMatching(ctx, s.engagementSpan(days), adapter.MEngage+":")
			return err
		},
	)
	if err != nil {
		return nil, err
	}
	inArea := func(k adapter.StatKey) bool { return len(areas) == 0 || slices.Contains(areas, k.Area) }
	wb := wbCounters(wbStats)
	r := &Report{Period: [2]string{days[0], days[len(days)-1]}, Areas: areas,
		Suppression: "counts from 1 to 4 are shown as \"<5\"; one further cell per group is hidden when needed so they cannot be recovered from totals; wellbeing change is given for 5 or more pairs of scores"}
	for _, svc := range s.m.Services() {
		keep := func(k adapter.StatKey) bool { return k.Service == svc.ID && inArea(k) }
		f, hist := accumulate(stats, keep)
		f.Wellbeing = wellbeing(wb, keep)
		r.Services = append(r.Services, ServiceRow{Service: svc.ID, Name: svc.Name, Figures: finish(f, hist),
			Capacity: capacityRow(now[svc.ID], stats, svc.ID)})
	}
	reach := reachByArea(stats)
	for _, a := range areaList(stats, areas) {
		keep := func(k adapter.StatKey) bool { return k.Area == a }
		f, hist := accumulate(stats, keep)
		f.Wellbeing = wellbeing(wb, keep)
		row := AreaRow{Area: a, Figures: finish(f, hist), Reach: reach[a].reach(s.m)}
		if a == adapter.AreaUnknown {
			row.Label = UnknownAreaLabel
		}
		r.ByArea = append(r.ByArea, row)
	}
	r.UnmetDemand = unmet(stats, inArea)
	r.SafetyScreens = SafetyScreens{ByPractice: safetyRows(stats, inArea, true), ByReferrerRole: safetyRows(stats, inArea, false)}
	r.PracticeEngagement = s.engagement(stats, eng, days, areas)
	return r, nil
}

func capacityRow(c adapter.Capacity, stats map[adapter.StatKey]int64, svc string) Capacity {
	row := Capacity{Status: string(c.Status), MaxOpen: c.MaxOpen, Reserved: c.Reserved, Waitlist: Count{N: int64(c.Waiting)}}
	if row.Status == "" {
		row.Status = "open"
	}
	if c.MaxOpen > 0 {
		row.UtilisationNow = round2(float64(c.Reserved) / float64(c.MaxOpen))
	}
	if c.WeeklyIntake > 0 && c.Waiting > 0 {
		row.EstimatedWaitDays = (c.Waiting*7 + c.WeeklyIntake - 1) / c.WeeklyIntake
	}
	maxSum, resSum := stats[adapter.StatKey{Metric: MSnapMax, Service: svc}], stats[adapter.StatKey{Metric: MSnapReserved, Service: svc}]
	if maxSum > 0 {
		row.UtilisationPeriod = round2(float64(resSum) / float64(maxSum))
	}
	suppress(&row.Waitlist)
	return row
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

func areaList(stats map[adapter.StatKey]int64, areas []string) []string {
	if len(areas) > 0 {
		return slices.Sorted(slices.Values(areas))
	}
	seen := map[string]bool{}
	for k := range stats {
		if k.Area != "" {
			seen[k.Area] = true
		}
	}
	return sortedKeys(seen)
}

// unmet counts, by need and area, the referrals a service could not take
// for lack of capacity.
func unmet(stats map[adapter.StatKey]int64, keep func(adapter.StatKey) bool) []Unmet {
	sums := map[[2]string]int64{}
	for k, n := range stats {
		if k.Metric == adapter.MRedirected && keep(k) {
			sums[[2]string{k.Need, k.Area}] += n
		}
	}
	out := make([]Unmet, 0, len(sums))
	for k, n := range sums {
		u := Unmet{Need: k[0], Area: k[1], Count: Count{N: n}}
		suppress(&u.Count)
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b Unmet) int {
		if a.Need != b.Need {
			if a.Need < b.Need {
				return -1
			}
			return 1
		}
		if a.Area < b.Area {
			return -1
		}
		if a.Area > b.Area {
			return 1
		}
		return 0
	})
	return out
}

// parallel runs the reads at once and returns the first error.
func parallel(reads ...func() error) error {
	errs := make([]error, len(reads))
	var wg sync.WaitGroup
	for i, read := range reads {
		wg.Go(func() { errs[i] = read() })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

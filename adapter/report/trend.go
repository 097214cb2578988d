package report

import (
	"context"
	"slices"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Trend is how demand moved over a report's period, bucket by bucket: per
// day for periods of up to TrendDailyMaxDays days, per 7 days up to
// TrendWeeklyMaxDays, per calendar month beyond.
type Trend struct {
	Step   string       `json:"step"` // "day", "week" or "month"
	Points []TrendPoint `json:"points"`
}

// TrendPoint is one bucket: its first and last day, the referrals received,
// placed, redirected for capacity and first contacted in it (for the areas
// asked for), and the average caseload utilisation over every service's
// daily snapshots in it (nil when no snapshot was taken).
type TrendPoint struct {
	From        string   `json:"from"`
	To          string   `json:"to"`
	Received    Count    `json:"received"`
	Placed      Count    `json:"placed"`
	Redirected  Count    `json:"redirectedForCapacity"`
	Contacted   Count    `json:"contacted"`
	Utilisation *float64 `json:"utilisation,omitempty"`
}

// Bucket sizes of a trend.
const (
	TrendDailyMaxDays  = 62
	TrendWeeklyMaxDays = 183
)

// TrendBuckets splits days (consecutive, in order) into the trend's
// buckets and names their step.
func TrendBuckets(days []string) (string, [][]string) {
	var out [][]string
	switch {
	case len(days) <= TrendDailyMaxDays:
		for _, d := range days {
			out = append(out, []string{d})
		}
		return "day", out
	case len(days) <= TrendWeeklyMaxDays:
		for c := range slices.Chunk(days, 7) {
			out = append(out, c)
		}
		return "week", out
	}
	for _, d := range days {
		if n := len(out); n > 0 && out[n-1][0][:7] == d[:7] {
			out[n-1] = append(out[n-1], d)
			continue
		}
		out = append(out, []string{d})
	}
	return "month", out
}

// Trend builds the trend over days for the given areas (all when empty).
// Each series is suppressed as one group, like a report row, so a small
// bucket is shown as "<5" and cannot be recovered from the period's total.
func (s *Service) Trend(ctx context.Context, days []string, areas []string) (*Trend, error) {
	step, buckets := TrendBuckets(days)
	t := &Trend{Step: step, Points: make([]TrendPoint, len(buckets))}
	inArea := func(k adapter.StatKey) bool { return len(areas) == 0 || slices.Contains(areas, k.Area) }
	for i, b := range buckets {
		stats, err := s.store.DayStats(ctx, b)
		if err != nil {
			return nil, err
		}
		p := TrendPoint{From: b[0], To: b[len(b)-1]}
		var snapMax, snapReserved int64
		for k, n := range stats {
			switch k.Metric {
			case MSnapMax:
				snapMax += n
				continue
			case MSnapReserved:
				snapReserved += n
				continue
			}
			if !inArea(k) {
				continue
			}
			switch k.Metric {
			case adapter.MReceived:
				p.Received.N += n
			case adapter.MPlaced:
				p.Placed.N += n
			case adapter.MRedirected:
				p.Redirected.N += n
			case adapter.MContacted:
				p.Contacted.N += n
			}
		}
		if snapMax > 0 {
			u := round2(float64(snapReserved) / float64(snapMax))
			p.Utilisation = &u
		}
		t.Points[i] = p
	}
	for _, series := range []func(*TrendPoint) *Count{
		func(p *TrendPoint) *Count { return &p.Received },
		func(p *TrendPoint) *Count { return &p.Placed },
		func(p *TrendPoint) *Count { return &p.Redirected },
		func(p *TrendPoint) *Count { return &p.Contacted },
	} {
		cells := make([]*Count, len(t.Points))
		for i := range t.Points {
			cells[i] = series(&t.Points[i])
		}
		suppress(cells...)
	}
	return t, nil
}

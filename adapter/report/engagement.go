package report

import (
	"slices"
	"strings"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Engagement is one practice's referring over the period, an early
// warning for commissioners (issue 20): how many referrals it made, how
// that compares with the period before, its referrals per month, and how
// many of them got any feedback from the service.
type Engagement struct {
	Practice string `json:"practice"`
	Name     string `json:"name,omitempty"` // from the practice table
	Area     string `json:"area,omitempty"` // from the practice table
	// Referrals in the period's days, and in as many days before them.
	Referrals      Count `json:"referrals"`
	PreviousPeriod Count `json:"previousPeriodReferrals"`
	// FellByHalf: the practice made at least 5 referrals in the previous
	// period and at most half as many in this one.
	FellByHalf bool `json:"fellByHalf"`
	// Months are the calendar months the period touches, whole, each with
	// the referrals received in it and how many of those got feedback
	// (whenever it came); WithFeedback, WithoutFeedback and FeedbackShare
	// are over those months.
	Months          []EngagementMonth `json:"referralsPerMonth"`
	WithFeedback    Count             `json:"withFeedback"`
	WithoutFeedback Count             `json:"withoutFeedback"`
	FeedbackShare   *float64          `json:"feedbackShare,omitempty"`
}

// EngagementMonth is one month of a practice's referrals.
type EngagementMonth struct {
	Month        string `json:"month"` // YYYY-MM
	Referrals    Count  `json:"referrals"`
	WithFeedback Count  `json:"withFeedback"`
}

// engagementReads are the counters practice engagement reads beyond the
// period's: the practices' referrals in the period before, and the
// engagement counters from the first month of the period until today.
type engagementReads struct {
	previous, since map[adapter.StatKey]int64
}

// practiceReferred prefixes the reach counters of referrals per practice.
const practiceReferred = adapter.MReach + ":" + adapter.StageReferred + ":" + adapter.DimPractice + ":"

// previousDays are as many days as days, just before them.
func previousDays(days []string) []string {
	first, err := time.Parse(time.DateOnly, days[0])
	if err != nil {
		return nil
	}
	out := make([]string, len(days))
	for i := range days {
		out[i] = first.AddDate(0, 0, i-len(days)).Format(time.DateOnly)
	}
	return out
}

// engagementSpan is every day from the first of the period's first month
// until today (or the period's end, if later): the days on which feedback
// for the period's referrals can have been counted.
func (s *Service) engagementSpan(days []string) []string {
	first, err := time.Parse(time.DateOnly, days[0][:7]+"-01")
	if err != nil {
		return nil
	}
	last := max(days[len(days)-1], adapter.StatsDay(s.now(), s.loc))
	var span []string
	for d := first; ; d = d.AddDate(0, 0, 1) {
		day := d.Format(time.DateOnly)
		if day > last {
			return span
		}
		span = append(span, day)
	}
}

// engagement builds the practice engagement rows for the areas (all when
// empty) from the period's counters and the engagement reads.
func (s *Service) engagement(stats map[adapter.StatKey]int64, reads engagementReads, days, areas []string) []Engagement {
	inArea := func(k adapter.StatKey) bool { return len(areas) == 0 || slices.Contains(areas, k.Area) }
	months := monthsOf(days)
	rows := map[string]*Engagement{}
	row := func(p string) *Engagement {
		if r := rows[p]; r != nil {
			return r
		}
		r := &Engagement{Practice: p, Months: make([]EngagementMonth, len(months))}
		for i, m := range months {
			r.Months[i].Month = m
		}
		if pr, ok := s.m.Practice(p); ok {
			r.Name, r.Area = pr.Name, pr.Area
		}
		rows[p] = r
		return r
	}
	for k, n := range stats {
		if p, ok := strings.CutPrefix(k.Metric, practiceReferred); ok && inArea(k) {
			row(p).Referrals.N += n
		}
	}
	for k, n := range reads.previous {
		if p, ok := strings.CutPrefix(k.Metric, practiceReferred); ok && inArea(k) {
			row(p).PreviousPeriod.N += n
		}
	}
	for k, n := range reads.since {
		sub, ok := strings.CutPrefix(k.Metric, adapter.MEngage+":")
		if !ok || !inArea(k) {
			continue
		}
		kind, month, p, ok := adapter.SplitEngageMetric(sub)
		i := slices.Index(months, month)
		if !ok || i < 0 {
			continue
		}
		switch kind {
		case adapter.EngageReferred:
			row(p).Months[i].Referrals.N += n
		case adapter.EngageFeedback:
			row(p).Months[i].WithFeedback.N += n
		}
	}
	// The network's practices in these areas appear even with nothing to
	// count: a practice that stopped referring is what to look for.
	for _, p := range s.m.Practices() {
		if len(areas) == 0 || slices.Contains(areas, p.Area) {
			row(p.ODS)
		}
	}
	out := make([]Engagement, 0, len(rows))
	for _, p := range sortedKeys(rows) {
		r := rows[p]
		var referred, feedback int64
		cells := make([]*Count, len(r.Months))
		for i := range r.Months {
			referred += r.Months[i].Referrals.N
			feedback += min(r.Months[i].WithFeedback.N, r.Months[i].Referrals.N)
			cells[i] = &r.Months[i].Referrals
		}
		r.WithFeedback, r.WithoutFeedback = Count{N: feedback}, Count{N: referred - feedback}
		r.FellByHalf = r.PreviousPeriod.N >= Threshold && 2*r.Referrals.N <= r.PreviousPeriod.N
		suppress(cells...)
		feedbackCells := make([]*Count, len(r.Months))
		for i := range r.Months {
			feedbackCells[i] = &r.Months[i].WithFeedback
		}
		suppress(feedbackCells...)
		suppress(&r.Referrals)
		suppress(&r.PreviousPeriod)
		suppress(&r.WithFeedback, &r.WithoutFeedback)
		if referred > 0 && !r.WithFeedback.Suppressed && !r.WithoutFeedback.Suppressed {
			share := round2(float64(feedback) / float64(referred))
			r.FeedbackShare = &share
		}
		out = append(out, *r)
	}
	return out
}

// monthsOf lists the calendar months (YYYY-MM) days touch, in order.
func monthsOf(days []string) []string {
	var out []string
	for _, d := range days {
		if m := d[:7]; len(out) == 0 || out[len(out)-1] != m {
			out = append(out, m)
		}
	}
	return out
}

package report

import (
	"math"
	"strings"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// WellbeingRow is one measure's change for a service or an area (issue
// 20): referrals with a pair of scores (first and latest by the
// Observation's own date, the pair counted on the latest's day), the mean
// first score, latest score and change, and how many improved, stayed the
// same or worsened by the measure's meaningful change. With fewer than 5
// pairs only "paired" is shown ("<5"), no figures.
type WellbeingRow struct {
	Measure      string   `json:"measure"`
	Paired       Count    `json:"paired"`
	MeanBaseline *float64 `json:"meanBaseline,omitempty"`
	MeanFollowUp *float64 `json:"meanFollowUp,omitempty"`
	MeanChange   *float64 `json:"meanChange,omitempty"`
	Improved     *Count   `json:"improved,omitempty"`
	NoChange     *Count   `json:"noChange,omitempty"`
	Worsened     *Count   `json:"worsened,omitempty"`
	// MeaningfulChange is the smallest change counted as improved or
	// worsened; for a measure where lower is better a fall improves.
	MeaningfulChange float64 `json:"meaningfulChange"`
	LowerIsBetter    bool    `json:"lowerIsBetter,omitempty"`
}

// wbCounter is one wellbeing counter read: its key, kind and measure.
type wbCounter struct {
	key           adapter.StatKey
	kind, measure string
	n             int64
}

// wbCounters reads the wellbeing counters' kinds and measures once, for
// the rows of every service and area.
func wbCounters(wb map[adapter.StatKey]int64) []wbCounter {
	out := make([]wbCounter, 0, len(wb))
	for k, n := range wb {
		sub, ok := strings.CutPrefix(k.Metric, adapter.MWellbeing+":")
		if !ok || n == 0 {
			continue
		}
		if kind, measure, ok := strings.Cut(sub, ":"); ok {
			out = append(out, wbCounter{key: k, kind: kind, measure: measure, n: n})
		}
	}
	return out
}

// wellbeing sums the wellbeing counters keep accepts into one row per
// measure, in adapter.WellbeingMeasures order.
func wellbeing(wb []wbCounter, keep func(adapter.StatKey) bool) []WellbeingRow {
	sums := map[string]map[string]int64{} // measure → kind → sum
	for _, c := range wb {
		if !keep(c.key) {
			continue
		}
		if sums[c.measure] == nil {
			sums[c.measure] = map[string]int64{}
		}
		sums[c.measure][c.kind] += c.n
	}
	out := make([]WellbeingRow, 0, len(adapter.WellbeingMeasures))
	for _, m := range adapter.WellbeingMeasures {
		s := sums[m.Key]
		paired := s[adapter.WBPaired]
		r := WellbeingRow{Measure: m.Key, Paired: Count{N: paired}, MeaningfulChange: m.Meaningful, LowerIsBetter: m.LowerIsBetter}
		suppress(&r.Paired)
		if paired > 0 && !r.Paired.Suppressed {
			mean := func(hundredths int64) *float64 {
				v := math.Round(float64(hundredths)/float64(paired)) / 100
				return &v
			}
			r.MeanBaseline = mean(s[adapter.WBBaseline])
			r.MeanFollowUp = mean(s[adapter.WBBaseline] + s[adapter.WBChange])
			r.MeanChange = mean(s[adapter.WBChange])
			improved, worsened := s[adapter.WBImproved], s[adapter.WBWorsened]
			r.Improved, r.Worsened = &Count{N: improved}, &Count{N: worsened}
			r.NoChange = &Count{N: paired - improved - worsened}
			suppress(r.Improved, r.NoChange, r.Worsened)
		}
		out = append(out, r)
	}
	return out
}

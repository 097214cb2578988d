package adapter

import (
	"slices"
	"time"
)

// Wellbeing change (issue 20): did people get better? A referral with at
// least two scores of the same measure has a pair: its first and its
// latest score by the Observation's own date (effective time, else
// issued), whenever they were recorded. Pairs are counted anonymously per
// service and area, on the day of the latest score; a later score moves
// the pair. Counted whether or not the patient approved sharing the score
// with the GP: nothing about the person leaves the adapter.

// SystemWellbeingMeasure is the adapter's code system for wellbeing
// measures (fixtures/README.md says why it is not LOINC or SNOMED CT).
const SystemWellbeingMeasure = "https://social-prescribing.github.io/referral-adapter/CodeSystem/wellbeing-measure"

// WellbeingMeasure is one scale whose change reports show.
type WellbeingMeasure struct {
	Key      string // in reports: swemwbs, ons4-life-satisfaction, ...
	Code     string // in SystemWellbeingMeasure
	Display  string
	Min, Max float64 // the scale's range; a score outside it is refused
	// Meaningful is the smallest change counted as improved or worsened;
	// a smaller one is no change.
	Meaningful float64
	// LowerIsBetter for ONS4 anxiety: a fall is an improvement.
	LowerIsBetter bool
}

// WellbeingMeasures are the measures reported, in report order: the
// Short Warwick-Edinburgh Mental Wellbeing Scale total, and each item of
// the ONS personal wellbeing questions (ONS4).
var WellbeingMeasures = []WellbeingMeasure{
	{Key: "swemwbs", Code: "swemwbs-total", Display: "SWEMWBS total score (7 to 35)", Min: 7, Max: 35, Meaningful: 3},
	{Key: "ons4-life-satisfaction", Code: "ons4-life-satisfaction", Display: "ONS4: Overall, how satisfied are you with your life nowadays? (0 to 10)", Min: 0, Max: 10, Meaningful: 1},
	{Key: "ons4-worthwhile", Code: "ons4-worthwhile", Display: "ONS4: Overall, to what extent do you feel that the things you do in your life are worthwhile? (0 to 10)", Min: 0, Max: 10, Meaningful: 1},
	{Key: "ons4-happiness", Code: "ons4-happiness", Display: "ONS4: Overall, how happy did you feel yesterday? (0 to 10)", Min: 0, Max: 10, Meaningful: 1},
	{Key: "ons4-anxiety", Code: "ons4-anxiety", Display: "ONS4: Overall, how anxious did you feel yesterday? (0 to 10, lower is better)", Min: 0, Max: 10, Meaningful: 1, LowerIsBetter: true},
}

// MeasureOf finds the wellbeing measure among an Observation's codes.
func MeasureOf(codes []Coding) (WellbeingMeasure, bool) {
	for _, c := range codes {
		if c.System != SystemWellbeingMeasure {
			continue
		}
		if i := slices.IndexFunc(WellbeingMeasures, func(m WellbeingMeasure) bool { return m.Code == c.Code }); i >= 0 {
			return WellbeingMeasures[i], true
		}
	}
	return WellbeingMeasure{}, false
}

// Measure returns the measure with the given report key.
func Measure(key string) (WellbeingMeasure, bool) {
	i := slices.IndexFunc(WellbeingMeasures, func(m WellbeingMeasure) bool { return m.Key == key })
	if i < 0 {
		return WellbeingMeasure{}, false
	}
	return WellbeingMeasures[i], true
}

// Direction is 1 when a higher score is better, -1 when a lower one is.
func (m WellbeingMeasure) Direction() int {
	if m.LowerIsBetter {
		return -1
	}
	return 1
}

// WellbeingScore is one recorded score: the measure's report key, the
// value, and the Observation's own date.
type WellbeingScore struct {
	Measure string
	Value   float64
	At      time.Time
}

// Wellbeing counter kinds, kept per measure, service and area on the day
// of each pair's latest score: pairs, the sums of change and of baseline
// (in hundredths of a point), and the pairs that improved or worsened by
// at least the measure's meaningful change.
const (
	MWellbeing = "wb"
	WBPaired   = "paired"
	WBChange   = "change"
	WBBaseline = "base"
	WBImproved = "improved"
	WBWorsened = "worsened"
)

// WellbeingMetric names a wellbeing counter: "wb:" + kind + ":" + measure.
func WellbeingMetric(kind, measure string) string { return MWellbeing + ":" + kind + ":" + measure }

package adapter

import (
	"strings"
	"time"
)

// Reach (issue 20): who is referred and who gets support. Each referral
// is counted by who referred it (the referral source), the referring
// practice, the patient's age band and sex, at each stage of the funnel
// (referred, contacted, support started, completed), and the practice
// also by whether the referral got any feedback. Counters per area only,
// never per person: a commissioner sees aggregates, suppressed like every
// other figure.

// AreaUnknown is the area of a referral that came with no postcode and
// from a practice the practice table does not list (issue 20). Reports
// show it, labelled, to admins and to the network's commissioners.
const AreaUnknown = "unknown"

// Reach stages, dimensions and the value of an unknown one.
const (
	StageReferred  = "referred"
	StageContacted = "contacted"
	StageSupport   = "support"
	StageCompleted = "completed"

	DimSource   = "source"
	DimPractice = "practice"
	DimAgeBand  = "age"
	DimSex      = "sex"

	ReachUnknown = "unknown"
)

// ReachStages are the funnel stages reach is counted at, in order.
var ReachStages = []string{StageReferred, StageContacted, StageSupport, StageCompleted}

// MReach is the metric prefix of the reach counters:
// "reach:" + stage + ":" + dimension + ":" + value.
const MReach = "reach"

// ReachMetric names the reach counter of one stage, dimension and value.
func ReachMetric(stage, dim, value string) string {
	return MReach + ":" + stage + ":" + dim + ":" + statPart(value)
}

// SplitReachMetric reads a reach counter's stage, dimension and value
// from the part of its metric after "reach:"; ok is false for anything
// else.
func SplitReachMetric(sub string) (stage, dim, value string, ok bool) {
	p := strings.SplitN(sub, ":", 3)
	if len(p) != 3 {
		return "", "", "", false
	}
	return p[0], p[1], p[2], true
}

// ReachKeys are the counters of a referral reaching a stage: one per
// dimension, in the referral's area (service and need are left empty:
// reach is reported per area).
func ReachKeys(t *Task, stage string) []StatKey {
	k := func(dim, v string) StatKey {
		if v == "" {
			v = ReachUnknown
		}
		return StatKey{Metric: ReachMetric(stage, dim, v), Area: t.Area}
	}
	return []StatKey{k(DimSource, string(t.Source)), k(DimPractice, t.Practice), k(DimAgeBand, t.AgeBand), k(DimSex, t.Sex)}
}

// Practice engagement (issue 20): per practice, the referrals it made and
// how many of them got any feedback, both counted under the month the
// referral was received in (Europe/London), whenever the feedback came.
// So a period's months show the share of their referrals that got
// feedback, without rewriting the counters of a day gone by.
const (
	MEngage        = "engage"
	EngageReferred = "referred"
	// EngageFeedback counts a referral that got any feedback from the
	// service: its Task moved on from requested by anyone but the
	// practice (accepted, declined, cancelled by the service), or it was
	// stopped at intake with a reason (a safety screen, a duplicate).
	EngageFeedback = "feedback"
)

// EngageMetric names an engagement counter: "engage:" + kind + ":" +
// received month (YYYY-MM) + ":" + practice ODS code.
func EngageMetric(kind, month, practice string) string {
	return MEngage + ":" + kind + ":" + month + ":" + statPart(practice)
}

// SplitEngageMetric reads the kind, received month and practice from the
// part of an engagement metric after "engage:".
func SplitEngageMetric(sub string) (kind, month, practice string, ok bool) {
	p := strings.SplitN(sub, ":", 3)
	if len(p) != 3 || len(p[1]) != len("2006-01") {
		return "", "", "", false
	}
	return p[0], p[1], p[2], true
}

// EngageKey is the engagement counter of a referral (kind referred or
// feedback), in its area, under the month it was received in.
func EngageKey(t *Task, kind string) StatKey {
	return StatKey{Metric: EngageMetric(kind, t.AuthoredOn.In(london).Format("2006-01"), t.Practice), Area: t.Area}
}

// ArrivalMetric reports whether a counter counts a referral's arrival
// (received, by source, reach and engagement referred): counted once,
// when the referral arrives, and not again when a consent or sign-off hold
// releases it.
func ArrivalMetric(metric string) bool {
	return metric == MReceived || strings.HasPrefix(metric, MSource+":") ||
		strings.HasPrefix(metric, MReach+":"+StageReferred+":") || strings.HasPrefix(metric, MEngage+":"+EngageReferred+":")
}

// PracticeCounted reports whether a counter is also kept in the practice's
// own counters (the practice's feedback report). Reach and engagement
// counters are not: they are the commissioners' breakdowns.
func (k StatKey) PracticeCounted() bool {
	return !strings.HasPrefix(k.Metric, MReach+":") && !strings.HasPrefix(k.Metric, MEngage+":")
}

// Age bands of the reach breakdown, by the lower bound of each.
var ageBands = []struct {
	from int
	name string
}{
	{0, "0-17"}, {18, "18-24"}, {25, "25-34"}, {35, "35-44"}, {45, "45-54"}, {55, "55-64"}, {65, "65-74"}, {75, "75-84"}, {85, "85+"},
}

// AgeBands lists the age band names in order (then "unknown").
func AgeBands() []string {
	out := make([]string, 0, len(ageBands)+1)
	for _, b := range ageBands {
		out = append(out, b.name)
	}
	return append(out, ReachUnknown)
}

// AgeBand is the patient's age band at t, "" when not known: no birth
// date, or one whose precision (a year) leaves the band in doubt.
func AgeBand(f PatientFacts, t time.Time) string {
	if f.BornEarliest.IsZero() || f.BornLatest.IsZero() {
		return ""
	}
	oldest, youngest := bandOf(ageAt(f.BornEarliest, t)), bandOf(ageAt(f.BornLatest, t))
	if oldest != youngest {
		return ""
	}
	return oldest
}

func bandOf(age int) string {
	if age < 0 {
		return ""
	}
	name := ""
	for _, b := range ageBands {
		if age >= b.from {
			name = b.name
		}
	}
	return name
}

// ageAt is the age in whole years on t of someone born on born.
func ageAt(born, t time.Time) int {
	y1, m1, d1 := born.Date()
	y2, m2, d2 := t.Date()
	age := y2 - y1
	if m2 < m1 || m2 == m1 && d2 < d1 {
		age--
	}
	return age
}

// Sexes lists the values of the sex breakdown: the Patient's
// administrative gender (FHIR Patient.gender), then unknown.
func Sexes() []string { return []string{"female", "male", "other", ReachUnknown} }

// SexOf is the reach value of a Patient.gender code, "" when not given.
func SexOf(gender string) string {
	switch gender {
	case "female", "male", "other":
		return gender
	}
	return ""
}

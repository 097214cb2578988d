package adapter

import (
	"strings"
	"time"
)

// Statistics are counters kept per day as referrals move, so a report
// reads O(days × services) counters and never scans referral history.

// Metric names.
const (
	MReceived         = "received"
	MPlaced           = "placed"
	MWaitlisted       = "waitlisted"
	MRedirected       = "redirected-capacity" // unmet at the first choice because of capacity
	MClinicalRedirect = "clinical-redirect"
	MOutOfRemit       = "out-of-remit"
	MContacted        = "contacted"
	MEngaged          = "engaged"
	MSupportStarted   = "support-started"
	MCompleted        = "completed"
	MDeclinedPatient  = "declined-by-patient"
	MDeclinedProvider = "declined-by-provider" // + ":" + reason
	MReturned         = "returned-to-clinician"
	MFailed           = "failed"
	MCancelled        = "cancelled"
	MSLABreach        = "sla-breach"
	MTimeToContact    = "ttfc"   // + ":" + bucket
	MTimeToSupport    = "ttss"   // + ":" + bucket
	MSource           = "source" // + ":" + referral source
	// MSafeguarding counts safeguarding concerns raised (issue 9): the only
	// way a safeguarding Flag appears in a report, as an anonymous count.
	MSafeguarding = "safeguarding-concern"
	// Contact attempts (issue 19): every attempt, the referrals with at
	// least one (their first), and the time from referral to the first
	// attempt that reached the patient (+ ":" + bucket).
	MContactAttempt   = "contact-attempt"
	MContactAttempted = "contact-attempted"
	MTimeToReach      = "ttr"
)

// SafetyMetric is the counter of a referral a safety screen stopped (kind
// MClinicalRedirect or MOutOfRemit) with who referred it: kind, referral
// source and practice ODS code, colon-separated (issue 11), so that
// commissioners see where staff need help with the remit. Figures that
// read the part before the first colon count it as the kind.
func SafetyMetric(kind string, source ReferralSource, practice string) string {
	return kind + ":" + statPart(string(source)) + ":" + statPart(practice)
}

// SplitSafetyMetric reads the source and practice after a safety metric's
// kind ("unknown" for counters written before they were recorded).
func SplitSafetyMetric(sub string) (source, practice string) {
	source, practice, _ = strings.Cut(sub, ":")
	return statPart(source), statPart(practice)
}

// statPart keeps a value from breaking a counter's field.
func statPart(v string) string {
	if v == "" {
		return string(SourceUnknown)
	}
	if !strings.ContainsAny(v, ":|") {
		return v
	}
	return statSeparators.Replace(v)
}

var statSeparators = strings.NewReplacer(":", "_", "|", "_")

// StatKey locates one counter: a metric for a service, area (postcode
// district) and need category.
type StatKey struct {
	Metric, Service, Area, Need string
}

// String encodes the key as a hash field.
func (k StatKey) String() string {
	return k.Metric + "|" + k.Service + "|" + k.Area + "|" + k.Need
}

// ParseStatKey decodes a hash field; ok is false for a malformed one.
func ParseStatKey(s string) (StatKey, bool) {
	p := strings.Split(s, "|")
	if len(p) != 4 {
		return StatKey{}, false
	}
	return StatKey{p[0], p[1], p[2], p[3]}, true
}

// StatInc is one counter increment on a day.
type StatInc struct {
	Day      string // YYYY-MM-DD in Europe/London
	Key      StatKey
	Practice string // also counted for the practice's own feedback report
	N        int64  // what to add: 1 for one event; 0 adds nothing
}

// DurationBuckets are the upper bounds (hours) of the time-to-contact and
// time-to-support histograms; a duration above the last goes to "inf".
var DurationBuckets = []int{1, 4, 8, 24, 48, 72, 120, 168, 336, 672, 1344}

// Bucket names the histogram bucket of a duration.
func Bucket(d time.Duration) string {
	h := d.Hours()
	for _, b := range DurationBuckets {
		if h <= float64(b) {
			return itoa(b)
		}
	}
	return "inf"
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// StatsDay is the Europe/London day of t, as counters are kept.
func StatsDay(t time.Time, loc *time.Location) string { return t.In(loc).Format(time.DateOnly) }

// TransitionStats are the counters a Task transition moves. firstContact
// and firstSupport say whether this is the referral's first contact or
// first support, so durations are counted once.
func TransitionStats(t *Task, h HistoryEntry, firstContact, firstSupport bool) []StatKey {
	k := func(m string) StatKey { return StatKey{m, t.Owner, t.Area, t.Need} }
	var out []StatKey
	switch {
	case h.From == string(TaskRequested) && h.To == string(TaskAccepted):
		out = append(out, k(MEngaged))
	case h.BusinessStatus == BSPatientDeclined:
		out = append(out, k(MDeclinedPatient))
	case h.BusinessStatus == BSProviderDecline:
		out = append(out, k(MDeclinedProvider+":"+h.Reason))
	case h.BusinessStatus == BSReturned:
		out = append(out, k(MReturned))
	case h.To == string(TaskCompleted):
		out = append(out, k(MCompleted))
	case h.To == string(TaskFailed):
		out = append(out, k(MFailed))
	case h.To == string(TaskCancelled):
		out = append(out, k(MCancelled))
	}
	if firstContact {
		out = append(out, k(MContacted), k(MTimeToContact+":"+Bucket(h.At.Sub(t.AuthoredOn))))
		if !t.FirstContactDue.IsZero() && h.At.After(t.FirstContactDue) {
			out = append(out, k(MSLABreach))
		}
	}
	if firstSupport {
		out = append(out, k(MSupportStarted), k(MTimeToSupport+":"+Bucket(h.At.Sub(t.AuthoredOn))))
	}
	if t.PartOf == "" { // reach counts each referral once, on its own Task, as the area funnel does
		out = append(out, reachStats(t, h, firstContact, firstSupport)...)
	}
	return out
}

// reachStats are the reach counters (issue 20) a transition of a
// referral's own Task moves: the funnel stages it reached, and the
// practice's engagement feedback when the Task first moves on from
// requested by anyone but the practice (a practice cancelling its own
// referral is not feedback).
func reachStats(t *Task, h HistoryEntry, firstContact, firstSupport bool) []StatKey {
	var out []StatKey
	if h.From == string(TaskRequested) && h.To != string(TaskRequested) && h.By.Role != "practice" {
		out = append(out, EngageKey(t, EngageFeedback))
	}
	if firstContact {
		out = append(out, ReachKeys(t, StageContacted)...)
	}
	if firstSupport {
		out = append(out, ReachKeys(t, StageSupport)...)
	}
	if h.To == string(TaskCompleted) && h.From != string(TaskCompleted) {
		out = append(out, ReachKeys(t, StageCompleted)...)
	}
	return out
}

// ContactStats are the counters a contact attempt on t at moves: the
// attempt, the referral's first attempt (first), and its first successful
// one (reached) with the time from referral to it.
func ContactStats(t *Task, at time.Time, first, reached bool) []StatKey {
	every, firstK, reachedK := ContactStatKeys(t, at)
	out := []StatKey{every}
	if first {
		out = append(out, firstK)
	}
	if reached {
		out = append(out, reachedK)
	}
	return out
}

// ContactStatKeys are the counters of ContactStats one by one: every
// attempt's, the referral's first attempt's, and its first successful
// one's.
func ContactStatKeys(t *Task, at time.Time) (every, first, reached StatKey) {
	k := func(m string) StatKey { return StatKey{m, t.Owner, t.Area, t.Need} }
	return k(MContactAttempt), k(MContactAttempted), k(MTimeToReach + ":" + Bucket(at.Sub(t.AuthoredOn)))
}

// AttemptStats are the report counters a contact attempt adds to, by what
// it turns out to be once stored: Every attempt, the referral's First, its
// first that Reached the patient. The store counts them with the attempt.
type AttemptStats struct {
	Every, First, Reached []StatInc
}

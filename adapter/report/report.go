package report

import (
	"slices"
	"strconv"
	"strings"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Figures are the measures for one service or one area over a period.
type Figures struct {
	Received            Count            `json:"received"`
	Placed              Count            `json:"placed"`
	Waitlisted          Count            `json:"waitlisted"`
	RedirectedCapacity  Count            `json:"redirectedForCapacity"`
	DeclinedByProvider  map[string]Count `json:"declinedByProvider"`
	DeclinedByPatient   Count            `json:"declinedByPatient"`
	ReturnedToClinician Count            `json:"returnedToClinician"`
	ClinicalRedirect    Count            `json:"clinicalRedirect"`
	OutOfRemit          Count            `json:"outOfRemit"`
	SLABreaches         Count            `json:"slaBreaches"`
	// SafeguardingConcerns is how many safeguarding Flags were raised: an
	// anonymous count, suppressed like every other (issue 9).
	SafeguardingConcerns Count  `json:"safeguardingConcerns"`
	Funnel               Funnel `json:"funnel"`
	TimeToFirstContact   Wait   `json:"timeToFirstContactHours"`
	TimeToSupport        Wait   `json:"timeToSupportStartHours"`
	// Wellbeing is the change in each wellbeing measure between the first
	// and the latest score of referrals that have both (issue 20).
	Wellbeing []WellbeingRow `json:"wellbeing"`
	// ContactAttempts are the attempts to reach the patients (issue 19).
	ContactAttempts ContactFigures `json:"contactAttempts"`
}

// Funnel is referred → contacted → engaged → support started → completed.
type Funnel struct {
	Referred       Count `json:"referred"`
	Contacted      Count `json:"contacted"`
	Engaged        Count `json:"engaged"`
	SupportStarted Count `json:"supportStarted"`
	Completed      Count `json:"completed"`
}

// Wait is a median and 90th percentile in hours, as the upper bound of the
// histogram bucket they fall in ("<=24"); empty when too few to show.
type Wait struct {
	Median string `json:"median,omitempty"`
	P90    string `json:"p90,omitempty"`
	N      Count  `json:"n"`
}

// ServiceRow is one service's figures with its capacity.
type ServiceRow struct {
	Service  string   `json:"service"`
	Name     string   `json:"name"`
	Capacity Capacity `json:"capacity"`
	Figures
}

// Capacity is a service's capacity now and over the period.
type Capacity struct {
	Status            string  `json:"statusNow"`
	MaxOpen           int     `json:"maxOpenNow"`
	Reserved          int     `json:"reservedNow"`
	UtilisationNow    float64 `json:"utilisationNow"`
	UtilisationPeriod float64 `json:"utilisationOverPeriod"`
	Waitlist          Count   `json:"waitlistNow"`
	EstimatedWaitDays int     `json:"estimatedWaitDays,omitempty"`
}

// AreaRow is one area's figures.
type AreaRow struct {
	Area string `json:"area"`
	// Label explains an area that is not a postcode district: "unknown".
	Label string `json:"label,omitempty"`
	Figures
	Reach
}

// Unmet is demand a service could not meet, by need and area.
type Unmet struct {
	Need  string `json:"need"`
	Area  string `json:"area"`
	Count Count  `json:"referrals"`
}

// Capacity report.
type Report struct {
	From, To    string       `json:"-"`
	Period      [2]string    `json:"period"`
	Areas       []string     `json:"areas"`
	Services    []ServiceRow `json:"services"`
	ByArea      []AreaRow    `json:"byArea"`
	UnmetDemand []Unmet      `json:"unmetDemand"`
	// SafetyScreens are the referrals stopped at intake as needing clinical
	// care first or out of remit, by practice and by referrer role (issue
	// 11): where staff need help with the remit, apart from capacity.
	SafetyScreens SafetyScreens `json:"safetyScreens"`
	// PracticeEngagement is each practice's referring over the period and
	// the feedback its referrals got, with an early warning when its
	// referrals fell by half (issue 20).
	PracticeEngagement []Engagement `json:"practiceEngagement"`
	Suppression        string       `json:"suppression"`
}

// SafetyScreens breaks the safety screens' stops down by who referred.
type SafetyScreens struct {
	ByPractice     []SafetyRow `json:"byPractice"`
	ByReferrerRole []SafetyRow `json:"byReferrerRole"`
}

// SafetyRow is one practice's (ODS code) or one referrer role's stops.
type SafetyRow struct {
	Practice         string `json:"practice,omitempty"`
	ReferrerRole     string `json:"referrerRole,omitempty"`
	ClinicalRedirect Count  `json:"clinicalRedirect"`
	OutOfRemit       Count  `json:"outOfRemit"`
}

// safetyRows sums the safety screens' counters kept by keep, by the part
// of the counter by names (practice or role), into rows sorted by it, each
// column suppressed as a group.
func safetyRows(stats map[adapter.StatKey]int64, keep func(adapter.StatKey) bool, byPractice bool) []SafetyRow {
	rows := map[string]*SafetyRow{}
	for k, n := range stats {
		kind, sub, _ := strings.Cut(k.Metric, ":")
		if kind != adapter.MClinicalRedirect && kind != adapter.MOutOfRemit || !keep(k) {
			continue
		}
		source, practice := adapter.SplitSafetyMetric(sub)
		id := source
		if byPractice {
			id = practice
		}
		r := rows[id]
		if r == nil {
			r = &SafetyRow{}
			if byPractice {
				r.Practice = id
			} else {
				r.ReferrerRole = id
			}
			rows[id] = r
		}
		if kind == adapter.MClinicalRedirect {
			r.ClinicalRedirect.N += n
		} else {
			r.OutOfRemit.N += n
		}
	}
	out := make([]SafetyRow, 0, len(rows))
	for _, id := range sortedKeys(rows) {
		out = append(out, *rows[id])
	}
	var crit, remit []*Count
	for i := range out {
		crit, remit = append(crit, &out[i].ClinicalRedirect), append(remit, &out[i].OutOfRemit)
	}
	suppress(crit...)
	suppress(remit...)
	return out
}

// Count is a number shown in a report: a small count is suppressed.
type Count struct {
	N          int64
	Suppressed bool
}

// MarshalJSON shows a small count as "<5" and a count hidden only so that
// a small one cannot be recovered as "suppressed".
func (c Count) MarshalJSON() ([]byte, error) {
	if c.Suppressed {
		return []byte(`"` + c.String() + `"`), nil
	}
	return []byte(c.String()), nil
}

// String is the count as shown in CSV and JSON.
func (c Count) String() string {
	switch {
	case c.Suppressed && c.N < Threshold:
		return "<5"
	case c.Suppressed:
		return "suppressed"
	}
	return strconv.FormatInt(c.N, 10)
}

// Threshold is the smallest count shown; 1..Threshold-1 are suppressed.
const Threshold = 5

// accumulate adds the counters matching keep into figures.
func accumulate(stats map[adapter.StatKey]int64, keep func(adapter.StatKey) bool) (Figures, map[string][]int64) {
	f := Figures{DeclinedByProvider: map[string]Count{}}
	hist := map[string][]int64{adapter.MTimeToContact: make([]int64, len(adapter.DurationBuckets)+1),
		adapter.MTimeToSupport: make([]int64, len(adapter.DurationBuckets)+1), adapter.MTimeToReach: make([]int64, len(adapter.DurationBuckets)+1)}
	for k, n := range stats {
		if !keep(k) {
			continue
		}
		metric, sub, _ := strings.Cut(k.Metric, ":")
		switch metric {
		case adapter.MReceived:
			f.Received.N += n
		case adapter.MPlaced:
			f.Placed.N += n
		case adapter.MWaitlisted:
			f.Waitlisted.N += n
		case adapter.MRedirected:
			f.RedirectedCapacity.N += n
		case adapter.MDeclinedProvider:
			c := f.DeclinedByProvider[sub]
			c.N += n
			f.DeclinedByProvider[sub] = c
		case adapter.MDeclinedPatient:
			f.DeclinedByPatient.N += n
		case adapter.MReturned:
			f.ReturnedToClinician.N += n
		case adapter.MClinicalRedirect:
			f.ClinicalRedirect.N += n
		case adapter.MOutOfRemit:
			f.OutOfRemit.N += n
		case adapter.MSLABreach:
			f.SLABreaches.N += n
		case adapter.MSafeguarding:
			f.SafeguardingConcerns.N += n
		case adapter.MContacted:
			f.Funnel.Contacted.N += n
		case adapter.MEngaged:
			f.Funnel.Engaged.N += n
		case adapter.MSupportStarted:
			f.Funnel.SupportStarted.N += n
		case adapter.MCompleted:
			f.Funnel.Completed.N += n
		case adapter.MTimeToContact, adapter.MTimeToSupport, adapter.MTimeToReach:
			hist[metric][bucketIndex(sub)] += n
		case adapter.MContactAttempt, adapter.MContactAttempted:
			f.ContactAttempts.add(metric, n)
		}
	}
	f.Funnel.Referred = f.Received
	return f, hist
}

func bucketIndex(name string) int {
	for i, b := range adapter.DurationBuckets {
		if strconv.Itoa(b) == name {
			return i
		}
	}
	return len(adapter.DurationBuckets)
}

// quantile is the bucket bound below which q of the observations fall.
func quantile(h []int64, q float64) string {
	var total int64
	for _, n := range h {
		total += n
	}
	if total == 0 {
		return ""
	}
	want := int64(q*float64(total) + 0.999999)
	var seen int64
	for i, n := range h {
		if seen += n; seen >= want {
			if i == len(adapter.DurationBuckets) {
				return ">" + strconv.Itoa(adapter.DurationBuckets[i-1])
			}
			return "<=" + strconv.Itoa(adapter.DurationBuckets[i])
		}
	}
	return ""
}

func wait(h []int64) Wait {
	var n int64
	for _, v := range h {
		n += v
	}
	w := Wait{N: Count{N: n}}
	if n >= Threshold {
		w.Median, w.P90 = quantile(h, 0.5), quantile(h, 0.9)
	}
	return w
}

func finish(f Figures, hist map[string][]int64) Figures {
	f.TimeToFirstContact = wait(hist[adapter.MTimeToContact])
	f.TimeToSupport = wait(hist[adapter.MTimeToSupport])
	f.ContactAttempts.finish(hist[adapter.MTimeToReach])
	suppressFigures(&f)
	return f
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

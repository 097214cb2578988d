package report

import (
	"context"
	"strings"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// PracticeReport is a practice's feedback on its own referrals: aggregate
// figures only, suppressed like every report.
type PracticeReport struct {
	Practice           string           `json:"practice"`
	Period             [2]string        `json:"period"`
	Referred           Count            `json:"referred"`
	Contacted          Count            `json:"contacted"`
	SupportStarted     Count            `json:"supportStarted"`
	Completed          Count            `json:"completed"`
	DeclinedByPatient  Count            `json:"declinedByPatient"`
	ClinicalRedirects  Count            `json:"clinicalRedirects"`
	OutOfRemit         Count            `json:"outOfRemit"`
	Returned           Count            `json:"returnedToClinician"`
	Safeguarding       Count            `json:"safeguardingConcerns"` // anonymous count (issue 9)
	TimeToFirstContact Wait             `json:"timeToFirstContactHours"`
	Sources            map[string]Count `json:"referralsBySource"`
	// SafetyByRole is the safety screens' stops of the practice's
	// referrals by referrer role (issue 11).
	SafetyByRole []SafetyRow `json:"safetyScreensByReferrerRole"`
	Wellbeing    string      `json:"wellbeingChange"`
}

// Practice builds a practice's feedback report over days.
func (s *Service) Practice(ctx context.Context, practice string, days []string) (*PracticeReport, error) {
	st, err := s.store.PracticeStats(ctx, practice, days)
	if err != nil {
		return nil, err
	}
	r := &PracticeReport{Practice: practice, Period: [2]string{days[0], days[len(days)-1]}, Sources: map[string]Count{},
		Wellbeing: "not yet reported: needs paired before/after scores the patient approved sharing (see issue notes)"}
	hist := make([]int64, len(adapter.DurationBuckets)+1)
	for metric, n := range st {
		m, sub, _ := strings.Cut(metric, ":")
		switch m {
		case adapter.MReceived:
			r.Referred.N += n
		case adapter.MContacted:
			r.Contacted.N += n
		case adapter.MSupportStarted:
			r.SupportStarted.N += n
		case adapter.MCompleted:
			r.Completed.N += n
		case adapter.MDeclinedPatient:
			r.DeclinedByPatient.N += n
		case adapter.MClinicalRedirect:
			r.ClinicalRedirects.N += n
		case adapter.MOutOfRemit:
			r.OutOfRemit.N += n
		case adapter.MReturned:
			r.Returned.N += n
		case adapter.MSafeguarding:
			r.Safeguarding.N += n
		case adapter.MTimeToContact:
			hist[bucketIndex(sub)] += n
		case adapter.MSource:
			c := r.Sources[sub]
			c.N += n
			r.Sources[sub] = c
		}
	}
	r.TimeToFirstContact = wait(hist)
	keyed := make(map[adapter.StatKey]int64, len(st))
	for metric, n := range st {
		keyed[adapter.StatKey{Metric: metric}] += n
	}
	r.SafetyByRole = safetyRows(keyed, func(adapter.StatKey) bool { return true }, false)
	suppress(&r.Referred)
	suppress(&r.Contacted, &r.SupportStarted, &r.Completed, &r.DeclinedByPatient)
	suppress(&r.ClinicalRedirects, &r.OutOfRemit, &r.Returned)
	suppress(&r.Safeguarding)
	suppress(&r.TimeToFirstContact.N)
	suppressGroup(r.Sources)
	return r, nil
}

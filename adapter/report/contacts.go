package report

import (
	"math"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// ContactFigures are the contact attempts of a service's or an area's
// referrals (issue 19): how many attempts, how many referrals had at least
// one, the attempts per such referral, and the time from referral to the
// first attempt that reached the patient.
type ContactFigures struct {
	Attempts  Count `json:"attempts"`
	Referrals Count `json:"referralsWithAttempts"`
	// PerReferral is Attempts / Referrals, shown only when both are.
	PerReferral                  float64 `json:"perReferral,omitempty"`
	TimeToFirstSuccessfulContact Wait    `json:"timeToFirstSuccessfulContactHours"`
}

// add counts one of the contact metrics.
func (c *ContactFigures) add(metric string, n int64) {
	switch metric {
	case adapter.MContactAttempt:
		c.Attempts.N += n
	case adapter.MContactAttempted:
		c.Referrals.N += n
	}
}

// finish computes the wait and the ratio, and suppresses small counts.
func (c *ContactFigures) finish(reached []int64) {
	c.TimeToFirstSuccessfulContact = wait(reached)
	suppress(&c.Attempts)
	suppress(&c.Referrals)
	suppress(&c.TimeToFirstSuccessfulContact.N)
	if !c.Attempts.Suppressed && !c.Referrals.Suppressed && c.Referrals.N > 0 {
		c.PerReferral = math.Round(float64(c.Attempts.N)/float64(c.Referrals.N)*100) / 100
	}
}

// contactRows writes the contact figures as CSV rows.
func contactRows(row func(scope, id, measure, value string), scope, id string, c ContactFigures) {
	row(scope, id, "contact_attempts", c.Attempts.String())
	row(scope, id, "referrals_with_contact_attempts", c.Referrals.String())
	per := ""
	if c.PerReferral > 0 {
		per = formatRatio(c.PerReferral)
	}
	row(scope, id, "contact_attempts_per_referral", per)
	row(scope, id, "time_to_first_successful_contact_median_hours", c.TimeToFirstSuccessfulContact.Median)
	row(scope, id, "time_to_first_successful_contact_p90_hours", c.TimeToFirstSuccessfulContact.P90)
}

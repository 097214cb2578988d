package report

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
)

// WriteCSV writes the report as rows of scope, id, measure, value.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"period_from", "period_to", "scope", "id", "measure", "value"})
	row := func(scope, id, measure, value string) {
		_ = cw.Write([]string{r.Period[0], r.Period[1], scope, id, measure, value})
	}
	for _, s := range r.Services {
		row("service", s.Service, "capacity_status_now", s.Capacity.Status)
		row("service", s.Service, "max_open_now", strconv.Itoa(s.Capacity.MaxOpen))
		row("service", s.Service, "utilisation_now", strconv.FormatFloat(s.Capacity.UtilisationNow, 'f', 2, 64))
		row("service", s.Service, "utilisation_period", strconv.FormatFloat(s.Capacity.UtilisationPeriod, 'f', 2, 64))
		row("service", s.Service, "waitlist_now", s.Capacity.Waitlist.String())
		figureRows(row, "service", s.Service, s.Figures)
	}
	for _, a := range r.ByArea {
		figureRows(row, "area", a.Area, a.Figures)
	}
	for _, a := range r.ByArea {
		for _, g := range []struct {
			scope string
			rows  []ReachRow
		}{{"reach_referrer_role", a.BySource}, {"reach_practice", a.ByPractice}, {"reach_age_band", a.ByAgeBand}, {"reach_sex", a.BySex}} {
			for _, rr := range g.rows {
				for i, c := range rr.Stages() {
					row(g.scope, a.Area+"/"+rr.Group(), reachColumns[i], c.String())
				}
			}
		}
	}
	for _, e := range r.PracticeEngagement {
		row("practice_engagement", e.Practice, "referrals", e.Referrals.String())
		row("practice_engagement", e.Practice, "previous_period_referrals", e.PreviousPeriod.String())
		row("practice_engagement", e.Practice, "fell_by_half", strconv.FormatBool(e.FellByHalf))
		for _, m := range e.Months {
			row("practice_engagement", e.Practice, "referrals_"+m.Month, m.Referrals.String())
			row("practice_engagement", e.Practice, "with_feedback_"+m.Month, m.WithFeedback.String())
		}
		row("practice_engagement", e.Practice, "with_feedback", e.WithFeedback.String())
		row("practice_engagement", e.Practice, "without_feedback", e.WithoutFeedback.String())
		share := ""
		if e.FeedbackShare != nil {
			share = strconv.FormatFloat(*e.FeedbackShare, 'f', 2, 64)
		}
		row("practice_engagement", e.Practice, "feedback_share", share)
	}
	for _, u := range r.UnmetDemand {
		row("unmet_demand", u.Need+"/"+u.Area, "redirected_for_capacity", u.Count.String())
	}
	for _, s := range r.SafetyScreens.ByPractice {
		row("safety_practice", s.Practice, "clinical_redirect", s.ClinicalRedirect.String())
		row("safety_practice", s.Practice, "out_of_remit", s.OutOfRemit.String())
	}
	for _, s := range r.SafetyScreens.ByReferrerRole {
		row("safety_referrer_role", s.ReferrerRole, "clinical_redirect", s.ClinicalRedirect.String())
		row("safety_referrer_role", s.ReferrerRole, "out_of_remit", s.OutOfRemit.String())
	}
	cw.Flush()
	return cw.Error()
}

// reachColumns name the funnel stages of a reach row in CSV.
var reachColumns = []string{"referred", "contacted", "support_started", "completed"}

func figureRows(row func(scope, id, measure, value string), scope, id string, f Figures) {
	for _, m := range []struct {
		name string
		c    Count
	}{
		{"received", f.Received}, {"placed", f.Placed}, {"waitlisted", f.Waitlisted},
		{"redirected_for_capacity", f.RedirectedCapacity}, {"declined_by_patient", f.DeclinedByPatient},
		{"returned_to_clinician", f.ReturnedToClinician}, {"clinical_redirect", f.ClinicalRedirect},
		{"out_of_remit", f.OutOfRemit}, {"sla_breaches", f.SLABreaches}, {"safeguarding_concerns", f.SafeguardingConcerns},
		{"funnel_referred", f.Funnel.Referred}, {"funnel_contacted", f.Funnel.Contacted}, {"funnel_engaged", f.Funnel.Engaged},
		{"funnel_support_started", f.Funnel.SupportStarted}, {"funnel_completed", f.Funnel.Completed},
	} {
		row(scope, id, m.name, m.c.String())
	}
	for _, reason := range sortedKeys(f.DeclinedByProvider) {
		row(scope, id, "declined_by_provider_"+reason, f.DeclinedByProvider[reason].String())
	}
	row(scope, id, "time_to_first_contact_median_hours", f.TimeToFirstContact.Median)
	row(scope, id, "time_to_first_contact_p90_hours", f.TimeToFirstContact.P90)
	row(scope, id, "time_to_support_median_hours", f.TimeToSupport.Median)
	row(scope, id, "time_to_support_p90_hours", f.TimeToSupport.P90)
	for _, w := range f.Wellbeing {
		m := "wellbeing_" + strings.ReplaceAll(w.Measure, "-", "_") + "_"
		row(scope, id, m+"paired", w.Paired.String())
		for _, v := range []struct {
			name string
			f    *float64
		}{{"mean_baseline", w.MeanBaseline}, {"mean_follow_up", w.MeanFollowUp}, {"mean_change", w.MeanChange}} {
			s := ""
			if v.f != nil {
				s = strconv.FormatFloat(*v.f, 'f', -1, 64)
			}
			row(scope, id, m+v.name, s)
		}
		for _, v := range []struct {
			name string
			c    *Count
		}{{"improved", w.Improved}, {"no_change", w.NoChange}, {"worsened", w.Worsened}} {
			s := ""
			if v.c != nil {
				s = v.c.String()
			}
			row(scope, id, m+v.name, s)
		}
	}
	contactRows(row, scope, id, f.ContactAttempts)
}

func formatRatio(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

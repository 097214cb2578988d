package report

import (
	"strings"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Contact attempts in the report (issue 19): attempts, referrals with
// attempts, attempts per referral, time to the first successful contact;
// small counts suppressed and no ratio from a suppressed count.
func TestContactFigures(t *testing.T) {
	now0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	task := &adapter.Task{Owner: "money-advice", Area: "LS6", Need: "debt", AuthoredOn: now0}
	stats := map[adapter.StatKey]int64{}
	add := func(ks []adapter.StatKey) {
		for _, k := range ks {
			stats[k]++
		}
	}
	// Six referrals: each two attempts, the second reaching the patient
	// within a day (four) or two days (two).
	for i := range 6 {
		reach := now0.Add(20 * time.Hour)
		if i >= 4 {
			reach = now0.Add(40 * time.Hour)
		}
		add(adapter.ContactStats(task, now0.Add(time.Hour), true, false))
		add(adapter.ContactStats(task, reach, false, true))
	}
	f, hist := accumulate(stats, func(adapter.StatKey) bool { return true })
	f = finish(f, hist)
	c := f.ContactAttempts
	if c.Attempts.N != 12 || c.Referrals.N != 6 || c.PerReferral != 2 || c.Attempts.Suppressed ||
		c.TimeToFirstSuccessfulContact.Median != "<=24" || c.TimeToFirstSuccessfulContact.P90 != "<=48" {
		t.Errorf("%+v", c)
	}
	var b strings.Builder
	r := &Report{Period: [2]string{"2026-11-01", "2026-11-30"}, ByArea: []AreaRow{{Area: "LS6", Figures: f}}}
	if err := r.WriteCSV(&b); err != nil || !strings.Contains(b.String(), "area,LS6,contact_attempts_per_referral,2.00") {
		t.Errorf("CSV: %v\n%s", err, b.String())
	}
	// Three referrals: counts below 5 hidden, no ratio.
	small := map[adapter.StatKey]int64{}
	for range 3 {
		for _, k := range adapter.ContactStats(task, now0, true, false) {
			small[k]++
		}
	}
	f, hist = accumulate(small, func(adapter.StatKey) bool { return true })
	if c := finish(f, hist).ContactAttempts; !c.Attempts.Suppressed || !c.Referrals.Suppressed || c.PerReferral != 0 {
		t.Errorf("small: %+v", c)
	}
}

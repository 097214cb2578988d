package report

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/routing"
	"github.com/social-prescribing/referral-adapter/mappings"
)

type noCaps struct{}

func (noCaps) Capacities(context.Context, []string) (map[string]adapter.Capacity, error) {
	return map[string]adapter.Capacity{}, nil
}

func defaultMappings(t *testing.T) *routing.Mappings {
	t.Helper()
	m, err := routing.Load(mappings.Default, "mappings")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func reachKey(stage, dim, value, area string) adapter.StatKey {
	return adapter.StatKey{Metric: adapter.ReachMetric(stage, dim, value), Area: area}
}

// Reach per area: each breakdown in its order (unknown last, age bands
// and sexes as listed), each stage's column suppressed as a group, and
// only the area's own counters.
func TestReachRows(t *testing.T) {
	st := dayStore{}
	d := "2026-11-02"
	for _, c := range []struct {
		stage, dim, value string
		n                 int64
	}{
		{"referred", "source", "gp", 12}, {"contacted", "source", "gp", 9}, {"support", "source", "gp", 7}, {"completed", "source", "gp", 5},
		{"referred", "source", "nurse", 8}, {"contacted", "source", "nurse", 6}, {"support", "source", "nurse", 2},
		{"referred", "source", "unknown", 5},
		{"referred", "source", "care-navigator", 6},
		{"referred", "practice", "A81001", 31}, {"contacted", "practice", "A81001", 15},
		{"referred", "age", "85+", 6}, {"referred", "age", "18-24", 10}, {"referred", "age", "unknown", 15},
		{"referred", "sex", "unknown", 9}, {"referred", "sex", "male", 10}, {"referred", "sex", "female", 12},
	} {
		st.add(d, reachKey(c.stage, c.dim, c.value, "LS6"), c.n)
	}
	st.add(d, reachKey("referred", "source", "self-referral", "LS7"), 40)
	svc := New(st, noCaps{}, defaultMappings(t))
	svc.SetClock(func() time.Time { return time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC) })
	r, err := svc.Capacity(context.Background(), []string{d}, []string{"LS6"})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.ByArea) != 1 || r.ByArea[0].Area != "LS6" || r.ByArea[0].Label != "" {
		t.Fatalf("areas %+v", r.ByArea)
	}
	a := r.ByArea[0]
	var groups []string
	for _, row := range a.BySource {
		groups = append(groups, row.Group())
	}
	if !slices.Equal(groups, []string{"care-navigator", "gp", "nurse", "unknown"}) {
		t.Errorf("sources %v", groups)
	}
	gp, nurse := a.BySource[1], a.BySource[2]
	if gp.Referred.N != 12 || gp.Contacted.N != 9 || gp.Completed.String() != "5" || nurse.Completed.String() != "0" {
		t.Errorf("gp %+v nurse %+v", gp, nurse)
	}
	// Support started: nurse 2 is "<5", so gp's 7 is hidden with it.
	if nurse.SupportStarted.String() != "<5" || gp.SupportStarted.String() != "suppressed" {
		t.Errorf("support column: gp %s, nurse %s", gp.SupportStarted, nurse.SupportStarted)
	}
	if len(a.ByPractice) != 1 || a.ByPractice[0].Practice != "A81001" || a.ByPractice[0].Name != "Riverside Medical Practice" {
		t.Errorf("practices %+v", a.ByPractice)
	}
	var bands, sexes []string
	for _, row := range a.ByAgeBand {
		bands = append(bands, row.AgeBand)
	}
	for _, row := range a.BySex {
		sexes = append(sexes, row.Sex)
	}
	if !slices.Equal(bands, []string{"18-24", "85+", "unknown"}) || !slices.Equal(sexes, []string{"female", "male", "unknown"}) {
		t.Errorf("bands %v sexes %v", bands, sexes)
	}
	b, _ := json.Marshal(a)
	for _, want := range []string{`"bySource":[{"referrerRole":"care-navigator","referred":6,`, `"supportStarted":"\u003c5"`, `"bySex":[{"sex":"female","referred":12,`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s: %s", want, b)
		}
	}
	if strings.Contains(string(b), "self-referral") {
		t.Error("another area's reach is in LS6's")
	}
	var csv strings.Builder
	if err := r.WriteCSV(&csv); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{",reach_referrer_role,LS6/gp,referred,12", ",reach_referrer_role,LS6/nurse,support_started,<5", ",reach_age_band,LS6/85+,referred,6"} {
		if !strings.Contains(csv.String(), want) {
			t.Errorf("CSV lacks %q", want)
		}
	}
}

// Practice engagement: referrals in the period against the period before
// (same number of days), flagged when they fell by half; referrals per
// calendar month with the feedback they got, whenever it came; the
// network's practices in the areas shown even with none; other areas'
// practices not.
func TestPracticeEngagement(t *testing.T) {
	st := dayStore{}
	ref := func(day, practice, area string, n int64) {
		st.add(day, reachKey("referred", "practice", practice, area), n)
		st.add(day, adapter.StatKey{Metric: adapter.EngageMetric("referred", day[:7], practice), Area: area}, n)
	}
	feedback := func(day, month, practice, area string, n int64) {
		st.add(day, adapter.StatKey{Metric: adapter.EngageMetric("feedback", month, practice), Area: area}, n)
	}
	ref("2026-10-01", "A81001", "LS6", 12) // previous period (24 Sep to 23 Oct)
	ref("2026-11-05", "A81001", "LS6", 5)  // this period (24 Oct to 22 Nov)
	feedback("2026-10-03", "2026-10", "A81001", "LS6", 9)
	feedback("2026-11-23", "2026-10", "A81001", "LS6", 1) // after the period, for October's referrals
	feedback("2026-11-06", "2026-11", "A81001", "LS6", 5)
	ref("2026-11-05", "Z99999", "LS6", 7) // a practice not in the table
	ref("2026-10-01", "Z99999", "LS6", 7)
	ref("2026-11-05", "B82002", "LS7", 30) // another area
	svc := New(st, noCaps{}, defaultMappings(t))
	svc.SetClock(func() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) })
	days, _ := Days(time.Date(2026, 10, 24, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC))
	r, err := svc.Capacity(context.Background(), days, []string{"LS6"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range r.PracticeEngagement {
		got = append(got, e.Practice)
	}
	if !slices.Equal(got, []string{"A81001", "Z99999"}) {
		t.Fatalf("practices %v", got)
	}
	a := r.PracticeEngagement[0]
	if a.Name != "Riverside Medical Practice" || a.Area != "LS6" || a.Referrals.String() != "5" || a.PreviousPeriod.String() != "12" || !a.FellByHalf {
		t.Errorf("A81001 %+v", a)
	}
	if len(a.Months) != 2 || a.Months[0].Month != "2026-10" || a.Months[0].Referrals.N != 12 || a.Months[0].WithFeedback.N != 10 ||
		a.Months[1].Month != "2026-11" || a.Months[1].Referrals.N != 5 || a.Months[1].WithFeedback.N != 5 {
		t.Errorf("months %+v", a.Months)
	}
	// 15 of 17 got feedback: the 2 without are "<5", so the 15 is hidden
	// too, and no share is given.
	if a.WithFeedback.String() != "suppressed" || a.WithoutFeedback.String() != "<5" || a.FeedbackShare != nil {
		t.Errorf("feedback %s / %s share %v", a.WithFeedback, a.WithoutFeedback, a.FeedbackShare)
	}
	z := r.PracticeEngagement[1]
	if z.Name != "" || z.Referrals.N != 7 || z.PreviousPeriod.N != 7 || z.FellByHalf || z.WithoutFeedback.N != 14 || z.FeedbackShare == nil || *z.FeedbackShare != 0 {
		t.Errorf("Z99999 %+v", z)
	}
	// Admin: every practice, the table's with nothing to count too.
	all, err := svc.Capacity(context.Background(), days, nil)
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, e := range all.PracticeEngagement {
		got = append(got, e.Practice)
	}
	if !slices.Equal(got, []string{"A81001", "B82002", "C83003", "D84004", "E85005", "Z99999"}) {
		t.Errorf("admin's practices %v", got)
	}
	if c := all.PracticeEngagement[2]; c.Referrals.String() != "0" || c.FellByHalf || c.FeedbackShare != nil || len(c.Months) != 2 {
		t.Errorf("a practice with no referrals %+v", c)
	}
	var csv strings.Builder
	_ = r.WriteCSV(&csv)
	for _, want := range []string{",practice_engagement,A81001,fell_by_half,true", ",practice_engagement,A81001,referrals_2026-10,12", ",practice_engagement,Z99999,feedback_share,0.00"} {
		if !strings.Contains(csv.String(), want) {
			t.Errorf("CSV lacks %q:\n%s", want, csv.String())
		}
	}
}

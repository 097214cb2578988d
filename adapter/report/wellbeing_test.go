package report

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Wellbeing change per service and area from the pair counters: means in
// points, the improved / no change / worsened split suppressed as a group,
// and no figures at all under 5 pairs.
func TestWellbeingRows(t *testing.T) {
	st := dayStore{}
	pairs := func(day, measure, service, area string, n, baseline, change, improved, worsened int64) {
		k := func(kind string) adapter.StatKey {
			return adapter.StatKey{Metric: adapter.WellbeingMetric(kind, measure), Service: service, Area: area}
		}
		st.add(day, k(adapter.WBPaired), n)
		st.add(day, k(adapter.WBBaseline), n*baseline*100)
		st.add(day, k(adapter.WBChange), n*change*100)
		st.add(day, k(adapter.WBImproved), improved)
		st.add(day, k(adapter.WBWorsened), worsened)
	}
	pairs("2026-11-02", "swemwbs", "riverside-link-workers", "LS6", 7, 17, 6, 7, 0) // seven from 17 to 23
	pairs("2026-11-02", "swemwbs", "money-advice", "LS7", 4, 17, 6, 4, 0)           // four: no figures
	pairs("2026-11-03", "ons4-anxiety", "money-advice", "LS7", 6, 7, -2, 6, 0)
	pairs("2026-11-03", "ons4-anxiety", "money-advice", "LS7", 4, 5, 1, 0, 2) // 10 pairs, 2 worse
	svc := New(st, noCaps{}, defaultMappings(t))
	svc.SetClock(func() time.Time { return time.Date(2026, 11, 4, 12, 0, 0, 0, time.UTC) })
	r, err := svc.Capacity(context.Background(), []string{"2026-11-02", "2026-11-03"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	area := func(a string) AreaRow {
		for _, row := range r.ByArea {
			if row.Area == a {
				return row
			}
		}
		t.Fatalf("no area %s in %+v", a, r.ByArea)
		return AreaRow{}
	}
	ls6 := area("LS6").Wellbeing
	if len(ls6) != len(adapter.WellbeingMeasures) || ls6[0].Measure != "swemwbs" {
		t.Fatalf("rows %+v", ls6)
	}
	sw := ls6[0]
	if sw.Paired.String() != "7" || *sw.MeanChange != 6 || *sw.MeanBaseline != 17 || *sw.MeanFollowUp != 23 ||
		sw.Improved.String() != "7" || sw.NoChange.String() != "0" || sw.Worsened.String() != "0" || sw.MeaningfulChange != 3 {
		t.Errorf("LS6 SWEMWBS %+v", sw)
	}
	b, _ := json.Marshal(sw)
	if !strings.Contains(string(b), `"measure":"swemwbs","paired":7,"meanBaseline":17,"meanFollowUp":23,"meanChange":6,"improved":7`) {
		t.Errorf("JSON %s", b)
	}
	four := area("LS7").Wellbeing[0]
	if four.Paired.String() != "<5" || four.MeanChange != nil || four.Improved != nil {
		t.Errorf("four pairs show figures: %+v", four)
	}
	b, _ = json.Marshal(four)
	if strings.Contains(string(b), `"meanChange"`) || strings.Contains(string(b), `"meanBaseline"`) || strings.Contains(string(b), "improved") {
		t.Errorf("four pairs' JSON %s", b)
	}
	anx := area("LS7").Wellbeing[4]
	// 6 fell by 2 and 4 rose by 1: mean change (−12 + 4) / 10 = −0.8; two
	// worse is "<5", so the no-change count (2) is hidden too.
	if anx.Measure != "ons4-anxiety" || !anx.LowerIsBetter || anx.Paired.N != 10 || *anx.MeanChange != -0.8 || *anx.MeanBaseline != 6.2 ||
		anx.Improved.String() != "6" || anx.Worsened.String() != "<5" || anx.NoChange.String() != "<5" {
		t.Errorf("anxiety %+v (improved %s, no change %s, worsened %s)", anx, anx.Improved, anx.NoChange, anx.Worsened)
	}
	if none := area("LS6").Wellbeing[1]; none.Paired.String() != "0" || none.MeanChange != nil {
		t.Errorf("no pairs: %+v", none)
	}
	// Per service: the link workers' seven, money advice's four.
	for _, s := range r.Services {
		switch s.Service {
		case "riverside-link-workers":
			if s.Wellbeing[0].Paired.N != 7 || *s.Wellbeing[0].MeanChange != 6 {
				t.Errorf("link workers %+v", s.Wellbeing[0])
			}
		case "money-advice":
			if s.Wellbeing[0].Paired.String() != "<5" || s.Wellbeing[4].Paired.N != 10 {
				t.Errorf("money advice %+v", s.Wellbeing)
			}
		}
	}
	// A commissioner of LS6 sees none of LS7's.
	r6, err := svc.Capacity(context.Background(), []string{"2026-11-02", "2026-11-03"}, []string{"LS6"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range r6.Services {
		if s.Service == "money-advice" && s.Wellbeing[4].Paired.N != 0 {
			t.Errorf("LS7's pairs in an LS6 report: %+v", s.Wellbeing[4])
		}
	}
	var csv strings.Builder
	_ = r.WriteCSV(&csv)
	for _, want := range []string{",area,LS6,wellbeing_swemwbs_paired,7", ",area,LS6,wellbeing_swemwbs_mean_change,6", ",area,LS7,wellbeing_swemwbs_paired,<5",
		",area,LS7,wellbeing_swemwbs_mean_change,\n", ",area,LS7,wellbeing_ons4_anxiety_mean_change,-0.8"} {
		if !strings.Contains(csv.String(), want) {
			t.Errorf("CSV lacks %q", want)
		}
	}
}

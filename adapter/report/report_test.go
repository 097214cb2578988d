package report

import (
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter"
)

func TestSuppression(t *testing.T) {
	cases := []struct {
		in   []int64
		want []bool
	}{
		{[]int64{10, 20, 30}, []bool{false, false, false}},
		{[]int64{3, 20, 30}, []bool{true, true, false}}, // complementary: next smallest hidden too
		{[]int64{3, 2, 30}, []bool{true, true, false}},  // two hidden: none more needed
		{[]int64{0, 7, 9}, []bool{false, false, false}}, // zero is shown
		{[]int64{4, 0, 0}, []bool{true, false, false}},  // nothing else to hide
		{[]int64{5, 6, 1}, []bool{true, false, true}},   // 5 is the smallest shown
	}
	for _, tc := range cases {
		cs := make([]*Count, len(tc.in))
		for i, n := range tc.in {
			cs[i] = &Count{N: n}
		}
		suppress(cs...)
		for i, c := range cs {
			if c.Suppressed != tc.want[i] {
				t.Errorf("%v: cell %d suppressed=%v, want %v", tc.in, i, c.Suppressed, tc.want[i])
			}
		}
	}
	if b, _ := (Count{N: 3, Suppressed: true}).MarshalJSON(); string(b) != `"<5"` {
		t.Errorf("small count renders %s", b)
	}
	if b, _ := (Count{N: 30, Suppressed: true}).MarshalJSON(); string(b) != `"suppressed"` {
		t.Errorf("complementary suppression renders %s", b)
	}
	if b, _ := (Count{N: 30}).MarshalJSON(); string(b) != `30` {
		t.Errorf("count renders %s", b)
	}
}

func TestQuantiles(t *testing.T) {
	h := make([]int64, len(adapter.DurationBuckets)+1)
	h[bucketIndex("24")] = 6  // six first contacts within a day
	h[bucketIndex("48")] = 3  // three within two days
	h[bucketIndex("inf")] = 1 // one very late
	if got := quantile(h, 0.5); got != "<=24" {
		t.Errorf("median %s", got)
	}
	if got := quantile(h, 0.9); got != "<=48" {
		t.Errorf("p90 %s", got)
	}
	if got := quantile(h, 1); got != ">1344" {
		t.Errorf("max %s", got)
	}
	if w := wait([]int64{1, 1, 0}); w.Median != "" {
		t.Errorf("waits over fewer than %d people must not be shown: %+v", Threshold, w)
	}
}

func TestAccumulateKnownScenario(t *testing.T) {
	k := func(m, svc, area string) adapter.StatKey {
		return adapter.StatKey{Metric: m, Service: svc, Area: area, Need: "debt"}
	}
	stats := map[adapter.StatKey]int64{
		k(adapter.MReceived, "a", "LS6"): 12, k(adapter.MReceived, "a", "LS7"): 8, k(adapter.MReceived, "b", "LS6"): 50,
		k(adapter.MPlaced, "a", "LS6"): 10, k(adapter.MWaitlisted, "a", "LS6"): 2,
		k(adapter.MDeclinedProvider+":at-capacity", "a", "LS6"): 6, k(adapter.MDeclinedProvider+":not-eligible", "a", "LS6"): 7,
		k(adapter.MContacted, "a", "LS6"): 9, k(adapter.MTimeToContact+":24", "a", "LS6"): 9,
	}
	f, hist := accumulate(stats, func(k adapter.StatKey) bool { return k.Service == "a" && k.Area == "LS6" })
	f = finish(f, hist)
	if f.Received.N != 12 || f.Placed.N != 10 || f.Funnel.Referred.N != 12 || f.Funnel.Contacted.N != 9 {
		t.Errorf("figures %+v", f)
	}
	if !f.Waitlisted.Suppressed || !f.Placed.Suppressed {
		t.Errorf("waitlisted 2 must be hidden, and placed with it: %+v %+v", f.Waitlisted, f.Placed)
	}
	if f.DeclinedByProvider["at-capacity"].N != 6 || f.DeclinedByProvider["not-eligible"].Suppressed {
		t.Errorf("declines %+v", f.DeclinedByProvider)
	}
	if f.TimeToFirstContact.Median != "<=24" || f.TimeToFirstContact.N.N != 9 {
		t.Errorf("time to contact %+v", f.TimeToFirstContact)
	}
}

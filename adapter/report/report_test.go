package report

import (
	"slices"
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

// Safety screens by practice and role: counted from the kind:source:practice
// counters (older plain counters as unknown), within the area filter, each
// column suppressed as a group; the area's totals count them all.
func TestSafetyRows(t *testing.T) {
	k := func(m, area string) adapter.StatKey { return adapter.StatKey{Metric: m, Area: area, Need: "debt"} }
	stats := map[adapter.StatKey]int64{
		k(adapter.SafetyMetric(adapter.MClinicalRedirect, adapter.SourceCareNavigator, "A81001"), "LS6"): 7,
		k(adapter.SafetyMetric(adapter.MOutOfRemit, adapter.SourceCareNavigator, "A81001"), "LS6"):       6,
		k(adapter.SafetyMetric(adapter.MOutOfRemit, adapter.SourceGP, "B82002"), "LS6"):                  2,
		k(adapter.SafetyMetric(adapter.MClinicalRedirect, adapter.SourceGP, "B82002"), "LS7"):            9, // another area
		k(adapter.MClinicalRedirect, "LS6"):                                                              5, // written before sources were recorded
		k(adapter.MRedirected, "LS6"):                                                                    40,
	}
	inLS6 := func(k adapter.StatKey) bool { return k.Area == "LS6" }
	got := safetyRows(stats, inLS6, true)
	want := []SafetyRow{
		{Practice: "A81001", ClinicalRedirect: Count{N: 7}, OutOfRemit: Count{N: 6, Suppressed: true}},
		{Practice: "B82002", OutOfRemit: Count{N: 2, Suppressed: true}},
		{Practice: "unknown", ClinicalRedirect: Count{N: 5}},
	}
	if !slices.Equal(got, want) {
		t.Errorf("by practice\n got %+v\nwant %+v", got, want)
	}
	roles := safetyRows(stats, inLS6, false)
	if len(roles) != 3 || roles[0].ReferrerRole != "care-navigator" || roles[1].ReferrerRole != "gp" || roles[2].ReferrerRole != "unknown" {
		t.Errorf("by role %+v", roles)
	}
	f, hist := accumulate(stats, inLS6)
	if f = finish(f, hist); f.ClinicalRedirect.N != 12 || f.OutOfRemit.N != 8 || f.RedirectedCapacity.N != 40 {
		t.Errorf("area totals %+v", f)
	}
}

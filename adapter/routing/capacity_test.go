package routing_test

import (
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/routing"
	"github.com/social-prescribing/referral-adapter/mappings"
)

// The debt rule's steps keep their order and the waitlist step, and mark
// the services the patient is not eligible for.
func TestRouteStepsMarkIneligibleServices(t *testing.T) {
	m, err := routing.Load(mappings.Default, "mappings")
	if err != nil {
		t.Fatal(err)
	}
	d, err := m.Route(&adapter.Referral{Reasons: []adapter.Coding{{System: adapter.SystemICD10, Code: "Z59.6"}}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	teen := adapter.PatientFacts{BornEarliest: now.AddDate(-17, 0, 0), BornLatest: now.AddDate(-17, 0, 0), District: "LS6"}
	got := m.RouteSteps(d, teen, now)
	want := []adapter.RouteStep{
		{Service: "money-advice", Skip: adapter.SkipIneligibleAge}, // 18+
		{Waitlist: true},
		{Service: "riverside-link-workers"}, // 16+
	}
	if len(got) != len(want) {
		t.Fatalf("steps %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("step %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if far := m.RouteSteps(d, adapter.PatientFacts{District: "M1"}, now); far[0].Skip != adapter.SkipIneligibleArea || far[2].Skip != adapter.SkipIneligibleArea {
		t.Errorf("outside the network's area: %+v", far)
	}
	r := m.Routing(now, time.Hour)
	if r.LinkWorker != "riverside-link-workers" || r.Name("money-advice") != "Riverside Citizens Advice - debt and benefits" || r.StaleAfter != time.Hour {
		t.Errorf("routing %+v", r)
	}
}

package adapter_test

import (
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
)

func TestCapacityStatusAndGravityCode(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	week := 7 * 24 * time.Hour
	cases := []struct {
		name    string
		c       adapter.Capacity
		skip    adapter.SkipReason
		gravity string
		notes   string
	}{
		{"room", adapter.Capacity{Status: adapter.CapacityOpen, MaxOpen: 10, Reserved: 3, LastVerified: now}, "", adapter.GravityCapacity, "7 of 10 places free"},
		{"unlimited", adapter.Capacity{Status: adapter.CapacityOpen, LastVerified: now}, "", adapter.GravityCapacity, "Taking referrals"},
		{"full", adapter.Capacity{Status: adapter.CapacityOpen, MaxOpen: 10, Reserved: 10, LastVerified: now}, adapter.SkipAtCapacity, adapter.GravityNoCapacity, "At capacity (10 of 10 places in use)"},
		{"over after a cut", adapter.Capacity{Status: adapter.CapacityOpen, MaxOpen: 5, Reserved: 8, LastVerified: now}, adapter.SkipAtCapacity, adapter.GravityNoCapacity, "At capacity (8 of 5 places in use)"},
		{"waitlist", adapter.Capacity{Status: adapter.CapacityWaitlist, WeeklyIntake: 3, Waiting: 5, LastVerified: now}, adapter.SkipWaitlistOnly, adapter.GravityWaitlist, "5 waiting, estimated wait 14 days"},
		{"waitlist without intake", adapter.Capacity{Status: adapter.CapacityWaitlist, Waiting: 2, LastVerified: now}, adapter.SkipWaitlistOnly, adapter.GravityWaitlist, "2 waiting"},
		{"paused", adapter.Capacity{Status: adapter.CapacityPaused, LastVerified: now}, adapter.SkipPaused, adapter.GravityNoCapacity, "Paused: not taking referrals for now"},
		{"closed", adapter.Capacity{Status: adapter.CapacityClosed, LastVerified: now}, adapter.SkipClosed, adapter.GravityNoCapacity, "Closed: not taking referrals"},
		{"stale", adapter.Capacity{Status: adapter.CapacityOpen, LastVerified: now.Add(-week - time.Second)}, adapter.SkipStale, adapter.GravityAssessment,
			"Capacity not confirmed since 16 November 2026; contact the service before referring"},
		{"just current", adapter.Capacity{Status: adapter.CapacityOpen, LastVerified: now.Add(-week)}, "", adapter.GravityCapacity, "Taking referrals"},
		{"closed beats stale", adapter.Capacity{Status: adapter.CapacityClosed, LastVerified: now.Add(-2 * week)}, adapter.SkipClosed, adapter.GravityNoCapacity, "Closed: not taking referrals"},
		{"never verified", adapter.Capacity{Status: adapter.CapacityOpen}, "", adapter.GravityCapacity, "Taking referrals"},
	}
	for _, c := range cases {
		if got := c.c.Skip(now, week); got != c.skip {
			t.Errorf("%s: skip %q, want %q", c.name, got, c.skip)
		}
		if got := c.c.GravityStatus(now, week); got != c.gravity {
			t.Errorf("%s: gravity %q, want %q", c.name, got, c.gravity)
		}
		if got := c.c.Notes(now, week); got != c.notes {
			t.Errorf("%s: notes %q, want %q", c.name, got, c.notes)
		}
	}
	stale := adapter.Capacity{Status: adapter.CapacityOpen, LastVerified: now.Add(-10 * week)}
	if stale.Skip(now, 0) != "" {
		t.Error("staleness off (0) still skipped an old capacity")
	}
}

func TestEstimatedWaitDays(t *testing.T) {
	for _, c := range []struct{ pos, weekly, days int }{{1, 7, 1}, {1, 5, 2}, {3, 2, 11}, {10, 10, 7}, {11, 10, 8}} {
		if d, ok := adapter.EstimatedWaitDays(c.pos, c.weekly); !ok || d != c.days {
			t.Errorf("position %d at %d/week = %d, %v; want %d", c.pos, c.weekly, d, ok, c.days)
		}
	}
	if _, ok := adapter.EstimatedWaitDays(3, 0); ok {
		t.Error("an estimate without a weekly intake")
	}
}

func TestPlacementReasonAndBusinessStatus(t *testing.T) {
	r := &adapter.Routing{Names: map[string]string{"a": "Service A", "lw": "Link Workers"}}
	full := []adapter.Skip{{Service: "a", Reason: adapter.SkipAtCapacity}}
	cases := []struct {
		p      adapter.Placement
		reason string
		bs     string
	}{
		{adapter.Placement{Owner: "a", Outcome: adapter.OutcomeRouted}, "Routed to Service A", adapter.BSRouted},
		{adapter.Placement{Owner: "b", Outcome: adapter.OutcomeRouted, Skipped: full}, "Routed to b because Service A is at capacity", adapter.BSRouted},
		{adapter.Placement{Owner: "a", Outcome: adapter.OutcomeWaitlisted, Position: 4, WaitDays: 9}, "Waitlisted at Service A, position 4, estimated wait 9 days", adapter.BSWaitlisted},
		{adapter.Placement{Owner: "a", Outcome: adapter.OutcomeWaitlisted, Position: 2}, "Waitlisted at Service A, position 2 (the service gives no estimated wait)", adapter.BSWaitlisted},
		{adapter.Placement{Owner: "lw", Outcome: adapter.OutcomeRedirected, Skipped: full}, "Redirected to link workers because Service A is at capacity", adapter.BSRedirected},
		{adapter.Placement{Owner: "lw", Outcome: adapter.OutcomeRedirected, Skipped: full, OverCapacity: true, OverReason: adapter.SkipPaused},
			"Placed with Link Workers, which is paused, because no other service could take the referral", adapter.BSOverCapacity},
		// The last resort passed by for the patient's area, and taking the
		// referral all the same: the reason must not give the service it
		// went to as the one it passed by.
		{adapter.Placement{Owner: "lw", Outcome: adapter.OutcomeRouted, Skipped: []adapter.Skip{{Service: "lw", Reason: adapter.SkipIneligibleArea}}},
			"Routed to Link Workers, the last resort, although it does not cover the patient's area", adapter.BSRouted},
		{adapter.Placement{Owner: "lw", Outcome: adapter.OutcomeRouted, Skipped: []adapter.Skip{{Service: "a", Reason: adapter.SkipIneligibleAge}, {Service: "lw", Reason: adapter.SkipIneligibleArea}}},
			"Routed to Link Workers, the last resort, although it does not cover the patient's area", adapter.BSRouted},
	}
	for _, c := range cases {
		if got := c.p.Reason(r); got != c.reason {
			t.Errorf("reason %q, want %q", got, c.reason)
		}
		if got := c.p.BusinessStatusCode(); got != c.bs {
			t.Errorf("business status %q, want %q", got, c.bs)
		}
		if _, ok := adapter.BusinessStatus(c.p.BusinessStatusCode()); !ok {
			t.Errorf("business status %q is not in the code system", c.p.BusinessStatusCode())
		}
	}
}

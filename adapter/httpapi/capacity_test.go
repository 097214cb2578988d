package httpapi_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/capacity"
)

// capacityAnswer is the JSON API's capacity body.
type capacityAnswer struct {
	Service, Status    string
	MaxOpen, Reserved  int
	Available          *int
	LastVerified       *time.Time
	CapacityStatus     adapter.Coding
	Rerouted, Promoted *int
}

// Capacity is read by a provider for its own services only (another's
// answers 404 as if it were not in the directory), by link workers for
// every one; it is updated by the provider that runs the service.
func TestCapacity(t *testing.T) {
	verified := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		name      string
		req       req
		status    int
		issueCode string // for an error answer
		update    *capacity.Update
	}{
		{"own service", req{method: "GET", path: "/api/v1/services/money-advice/capacity", token: tokProvider}, 200, "", nil},
		{"link worker, any service", req{method: "GET", path: "/api/v1/services/housing-options/capacity", token: tokLinker}, 200, "", nil},
		{"another provider's", req{method: "GET", path: "/api/v1/services/housing-options/capacity", token: tokProvider}, 404, "not-found", nil},
		{"not in the directory", req{method: "GET", path: "/api/v1/services/nope/capacity", token: tokLinker}, 404, "not-found", nil},
		{"practices do not read capacity", req{method: "GET", path: "/api/v1/services/money-advice/capacity", token: tokPractice}, 403, "forbidden", nil},
		{"update own", req{method: "PUT", path: "/api/v1/services/money-advice/capacity", token: tokProvider,
			body: `{"status":"waitlist","maxOpen":40,"weeklyIntake":5}`}, 200, "",
			&capacity.Update{Status: adapter.CapacityWaitlist, MaxOpen: 40, WeeklyIntake: 5}},
		{"update another's", req{method: "PUT", path: "/api/v1/services/housing-options/capacity", token: tokProvider,
			body: `{"status":"open","maxOpen":1}`}, 404, "not-found", nil},
		{"link workers do not update", req{method: "PUT", path: "/api/v1/services/money-advice/capacity", token: tokLinker,
			body: `{"status":"open","maxOpen":1}`}, 403, "forbidden", nil},
		{"status missing", req{method: "PUT", path: "/api/v1/services/money-advice/capacity", token: tokProvider,
			body: `{"maxOpen":1}`}, 400, "required", nil},
		{"unknown member", req{method: "PUT", path: "/api/v1/services/money-advice/capacity", token: tokProvider,
			body: `{"status":"open","maxOpen":1,"colour":"red"}`}, 400, "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t)
			r.caps.view = capacity.View{Capacity: adapter.Capacity{Status: adapter.CapacityOpen, MaxOpen: 10, Reserved: 4, LastVerified: verified}, Gravity: "available"}
			got := r.do(c.req)
			switch {
			case c.status >= 400 && c.issueCode != "":
				wantOutcome(t, got, c.status, c.issueCode)
			case got.status != c.status:
				t.Fatalf("status %d, want %d: %s", got.status, c.status, got.body)
			}
			if c.status >= 400 {
				if len(r.caps.updated) != 0 {
					t.Errorf("refused, but updated: %+v", r.caps.updated)
				}
				return
			}
			if ct := got.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			var a capacityAnswer
			if err := json.Unmarshal(got.body, &a); err != nil {
				t.Fatal(err)
			}
			service := c.req.path[len("/api/v1/services/") : len(c.req.path)-len("/capacity")]
			if a.Service != service || a.LastVerified == nil || !a.LastVerified.Equal(verified) || a.CapacityStatus.Code != "available" {
				t.Errorf("answer %s", got.body)
			}
			if c.update == nil {
				if a.Status != "open" || a.Available == nil || *a.Available != 6 || a.Promoted != nil {
					t.Errorf("read answer %s", got.body)
				}
				return
			}
			if len(r.caps.updated) != 1 || r.caps.updated[0] != *c.update {
				t.Errorf("updated %+v, want %+v", r.caps.updated, *c.update)
			}
			if ch := r.caps.change; ch.By != "cab-system" || ch.Org != "X1V01" || ch.Role != "provider" {
				t.Errorf("change recorded as %+v", ch)
			}
			if a.Status != "waitlist" || a.MaxOpen != 40 || a.Promoted == nil || *a.Promoted != 2 || a.Rerouted == nil || *a.Rerouted != 0 {
				t.Errorf("update answer %s", got.body)
			}
		})
	}
}

package routing

import (
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// RouteSteps turns a decision into the steps the store places by capacity,
// marking each service the patient is not eligible for (as far as facts
// show) with its skip reason. Waitlist steps are kept in place.
func (m *Mappings) RouteSteps(d Decision, f adapter.PatientFacts, now time.Time) []adapter.RouteStep {
	out := make([]adapter.RouteStep, 0, len(d.Steps))
	for _, st := range d.Steps {
		if st.Waitlist {
			out = append(out, adapter.RouteStep{Waitlist: true})
			continue
		}
		rs := adapter.RouteStep{Service: st.Service}
		if svc, ok := m.services[st.Service]; ok {
			rs.Skip = svc.Ineligible(f, now)
		}
		out = append(out, rs)
	}
	return out
}

// Routing is the routing context for placing referrals at now: the
// network's link-worker service and every service's display name. The
// names are made once and shared by every Routing: read them only.
func (m *Mappings) Routing(now time.Time, staleAfter time.Duration) *adapter.Routing {
	m.namesOnce.Do(func() {
		m.names = make(map[string]string, len(m.services))
		for id, s := range m.services {
			m.names[id] = s.Name
		}
	})
	return &adapter.Routing{Now: now, StaleAfter: staleAfter, LinkWorker: m.Network.LinkWorker, Names: m.names}
}

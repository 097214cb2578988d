package routing

import (
	"slices"
	"sync"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Waitlist is the fallback keyword meaning "put the referral on the
// waitlist of the first candidate that keeps one".
const Waitlist = "waitlist"

// Network is the primary care network the deployment serves.
type Network struct {
	ID         string
	Name       string
	ODS        string
	LinkWorker string // id of the network's link-worker service: the last resort for every referral
	// Agreements are the network's data sharing agreements: a patient's
	// Consent to share with the network that cites one (Consent.policy.uri)
	// covers the services the network made partners under it.
	Agreements []Agreement
}

// Agreement is a data sharing agreement of the network.
type Agreement struct {
	URI  string
	Name string
}

// Rule routes referrals whose codes match to a target service, with an
// ordered fallback list.
type Rule struct {
	Name         string
	Description  string
	Need         string // need category reported to commissioners, e.g. "debt"
	File         string
	Line         int
	Code         []adapter.Coding
	Category     []adapter.Coding
	Reason       []adapter.Coding
	Performer    []string
	Target       string
	Fallback     []string
	Priority     adapter.Priority // applied when the referral states none, or a lower one
	FirstContact SLA
}

// Mappings is the validated routing configuration.
type Mappings struct {
	Network  Network
	RuleSet  string
	Rules    []*Rule
	Screens  []*Screen // clinical-safety screens, applied before routing
	services map[string]*adapter.Service
	order    []string
	// practices is the practice → area table by ODS code (issue 20).
	practices map[string]*Practice
	// names is every service's display name, made once (Routing).
	namesOnce sync.Once
	names     map[string]string
}

// Service returns the directory entry with the given id.
func (m *Mappings) Service(id string) (*adapter.Service, bool) {
	s, ok := m.services[id]
	return s, ok
}

// Services returns the directory in configuration order.
func (m *Mappings) Services() []*adapter.Service {
	out := make([]*adapter.Service, 0, len(m.order))
	for _, id := range m.order {
		out = append(out, m.services[id])
	}
	return out
}

// ServiceIDs returns the directory's service ids in configuration order.
func (m *Mappings) ServiceIDs() []string { return slices.Clone(m.order) }

// RuleByName returns the rule with the given name.
func (m *Mappings) RuleByName(name string) (*Rule, bool) {
	i := slices.IndexFunc(m.Rules, func(r *Rule) bool { return r.Name == name })
	if i < 0 {
		return nil, false
	}
	return m.Rules[i], true
}

// ServicesOf returns the ids of the services provided by the organisation
// with the given ODS code.
func (m *Mappings) ServicesOf(ods string) []string {
	var out []string
	for _, id := range m.order {
		if m.services[id].ProvidedBy.ODS == ods {
			out = append(out, id)
		}
	}
	return out
}

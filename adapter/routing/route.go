package routing

import (
	"strings"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// PerformerRule names the pseudo-rule used when a referral is routed by its
// performer alone.
const PerformerRule = "performer"

// Step is one place a referral may go, in order of preference.
type Step struct {
	Service  string // service id; empty for a waitlist step
	Waitlist bool   // waitlist at the first earlier candidate that keeps one
}

// Decision is where a referral should go, before capacity is considered.
type Decision struct {
	Rule         string
	Need         string
	Steps        []Step // always includes the network's link-worker service: last, unless the rule routes there earlier
	Priority     adapter.Priority
	FirstContact SLA
}

// Candidates returns the service ids of the decision in order.
func (d Decision) Candidates() []string {
	out := make([]string, 0, len(d.Steps))
	for _, s := range d.Steps {
		if s.Service != "" {
			out = append(out, s.Service)
		}
	}
	return out
}

// Route decides where a referral goes. A performer that names a directory
// service comes first; then the first matching rule's target and fallbacks;
// the network's link-worker service always ends the list, so a referral is
// never sent back to the GP for want of a destination. A referral that names
// no directory service and matches no rule is not a social prescribing
// referral: Route returns an EBUSINESSRULE error naming the rule set.
func (m *Mappings) Route(r *adapter.Referral) (Decision, error) {
	performer := m.performerService(r)
	rule := m.match(r)
	if rule == nil && performer == "" {
		return Decision{}, adapter.Errorf(adapter.EBUSINESSRULE,
			"not a social prescribing referral: no rule in rule set %q matches its code, category, reasonCode or performer", m.RuleSet).
			At("ServiceRequest.code", "ServiceRequest.reasonCode")
	}
	d := Decision{Rule: PerformerRule, Priority: r.Priority}
	if rule != nil {
		d.Rule, d.Need, d.FirstContact = rule.Name, rule.Need, rule.FirstContact
		d.Priority = higher(r.Priority, rule.Priority)
	}
	if !d.Priority.Valid() {
		d.Priority = adapter.PriorityRoutine
	}
	seen := map[string]bool{}
	add := func(id string) {
		if id == Waitlist {
			d.Steps = append(d.Steps, Step{Waitlist: true})
		} else if !seen[id] {
			seen[id] = true
			d.Steps = append(d.Steps, Step{Service: id})
		}
	}
	if performer != "" {
		add(performer)
	}
	if rule != nil {
		add(rule.Target)
		for _, f := range rule.Fallback {
			add(f)
		}
	}
	add(m.Network.LinkWorker)
	return d, nil
}

func (m *Mappings) match(r *adapter.Referral) *Rule {
	for _, rule := range m.Rules {
		if rule.matches(r) {
			return rule
		}
	}
	return nil
}

func (rule *Rule) matches(r *adapter.Referral) bool {
	return anyCoding(rule.Code, r.Codes) &&
		anyCoding(rule.Category, r.Categories) &&
		anyCoding(rule.Reason, r.Reasons) &&
		anyPerformer(rule.Performer, r.Performers)
}

// anyCoding is true when want is empty (criterion not used) or any wanted
// coding is present.
func anyCoding(want, have []adapter.Coding) bool {
	if len(want) == 0 {
		return true
	}
	for _, w := range want {
		for _, h := range have {
			if w.Same(h) {
				return true
			}
		}
	}
	return false
}

func anyPerformer(want, have []string) bool {
	if len(want) == 0 {
		return true
	}
	for _, w := range want {
		for _, h := range have {
			if serviceIDFromRef(w) == serviceIDFromRef(h) {
				return true
			}
		}
	}
	return false
}

func (m *Mappings) performerService(r *adapter.Referral) string {
	for _, p := range r.Performers {
		if id := serviceIDFromRef(p); id != "" {
			if _, ok := m.services[id]; ok {
				return id
			}
		}
	}
	return ""
}

// serviceIDFromRef extracts the id from "HealthcareService/{id}" (relative
// or absolute); other references yield "".
func serviceIDFromRef(ref string) string {
	const marker = "HealthcareService/"
	i := strings.LastIndex(ref, marker)
	if i < 0 {
		return ""
	}
	id := ref[i+len(marker):]
	if j := strings.Index(id, "/"); j >= 0 {
		id = id[:j] // drop _history/n
	}
	return id
}

func higher(a, b adapter.Priority) adapter.Priority {
	if !a.Valid() {
		return b
	}
	if b.Valid() && b.Rank() < a.Rank() {
		return b
	}
	return a
}

package consent

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Decide says whether the patient's consents permit the request at now,
// and which consent and provision decided (see the package doc for the
// rules). It never fails: anything it cannot establish is a deny.
func Decide(consents []Consent, req Request, now time.Time) Decision {
	var best *Consent
	var bestD Decision
	for i := range consents {
		c := &consents[i]
		o, ok := c.evaluate(&req, now)
		if !ok {
			continue
		}
		d := o.decision(c.ID, &req)
		if best == nil || c.rank(now).After(best.rank(now)) ||
			c.rank(now).Equal(best.rank(now)) && !d.Permit && bestD.Permit {
			best, bestD = c, d
		}
	}
	if best == nil {
		return Decision{Reason: "no active consent of the patient applies"}
	}
	return bestD
}

// rank is when the consent counts as given, for choosing the most recent:
// its dateTime, but never later than when the adapter received it, nor than
// now. A Consent dated in the future (a wrong clock, a typing error) so
// cannot outrank one the patient gave after it.
func (c *Consent) rank(now time.Time) time.Time {
	t := c.DateTime
	if !c.Received.IsZero() && t.After(c.Received) {
		t = c.Received
	}
	if t.After(now) {
		t = now
	}
	return t
}

// hop is one provision on the path to a decision, with its effective type.
type hop struct {
	p *Provision
	t Type
}

// outcome is what one consent decides: the type, the deciding provision's
// path and the provisions leading to it.
type outcome struct {
	t    Type
	path string
	hops []hop
}

// applies reports whether the consent is in force for the request's patient
// at now, before looking at its rules.
func (c *Consent) applies(req *Request, now time.Time) bool {
	if c.Status != StatusActive || req.Patient == "" || c.Patient != req.Patient {
		return false
	}
	if !slices.ContainsFunc(c.Scope, ScopePrivacy.Same) {
		return false
	}
	return len(req.ConsentCategories) == 0 || anyShared(req.ConsentCategories, c.Categories)
}

// evaluate decides the request by this consent; ok is false when the
// consent does not apply to it.
//
// A root provision that states its type is the base policy and scopes the
// consent: a request it does not match is none of the consent's business.
// A root provision without a type is, as R4 defines Consent.provision, an
// exception to the base policy of Consent.policyRule: it decides the
// requests it matches (with the opposite type), the base decides the rest.
// Without a typed root or a readable policyRule the consent is ignored.
func (c *Consent) evaluate(req *Request, now time.Time) (outcome, bool) {
	if !c.applies(req, now) {
		return outcome{}, false
	}
	root := c.Provision
	if root != nil && root.Type != "" {
		if !root.matches(c, req, now, root.Type) {
			return outcome{}, false
		}
		return root.evaluate(c, root.Type, "provision", req, now, nil), true
	}
	base, ok := policyBase(c.PolicyRule)
	if !ok {
		return outcome{}, false
	}
	policy := []hop{{&Provision{}, base}}
	if root != nil && root.matches(c, req, now, base.opposite()) {
		return root.evaluate(c, base.opposite(), "provision", req, now, policy), true
	}
	return outcome{t: base, path: "policyRule", hops: policy}, true
}

// evaluate decides a request that p (of effective type t) matched: the
// first matching exception overrides p, or a deny among them if any.
func (p *Provision) evaluate(c *Consent, t Type, path string, req *Request, now time.Time, hops []hop) outcome {
	hops = append(slices.Clip(hops), hop{p, t})
	var best *outcome
	for i := range p.Provisions {
		n := &p.Provisions[i]
		nt := n.Type
		if nt == "" {
			nt = t.opposite()
		}
		if !n.matches(c, req, now, nt) {
			continue
		}
		o := n.evaluate(c, nt, fmt.Sprintf("%s.provision[%d]", path, i), req, now, hops)
		if best == nil || o.t == Deny && best.t == Permit {
			best = &o
		}
	}
	if best != nil {
		return *best
	}
	return outcome{t: t, path: path, hops: hops}
}

// decision turns an outcome into a Decision, withholding sensitive
// information that no permitting provision on the path names.
func (o outcome) decision(id string, req *Request) Decision {
	d := Decision{ConsentID: id, ProvisionPath: o.path}
	if o.t == Deny {
		d.Reason = fmt.Sprintf("denied by %s of Consent/%s", o.path, id)
		return d
	}
	var missing []string
	for _, s := range req.sensitivity() {
		if !slices.ContainsFunc(o.hops, func(h hop) bool { return h.t == Permit && h.p.names(s) }) {
			missing = append(missing, string(s))
		}
	}
	if len(missing) > 0 {
		d.Reason = fmt.Sprintf("withheld: %s information is not explicitly permitted by Consent/%s", strings.Join(missing, ", "), id)
		return d
	}
	d.Permit = true
	d.Reason = fmt.Sprintf("permitted by %s of Consent/%s", o.path, id)
	return d
}

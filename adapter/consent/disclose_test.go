package consent

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
)

func TestDiscloseNeedsApproval(t *testing.T) {
	broad := []Consent{active("c1", day(2026, 1, 1), &Provision{Type: Permit})}
	o := OutcomeMeta{Approved: false, Patient: patient, ResourceType: "Observation", Reference: outcome1, Codes: codings(wellbeing)}
	gpActor := Recipient{Org: "A81001"}
	if ok, d := Disclose(o, broad, gpActor, now); ok || d.Permit || !strings.Contains(d.Reason, "did not approve") {
		t.Errorf("not approved: %v %+v", ok, d)
	}
	o.Approved = true
	if ok, d := Disclose(o, broad, gpActor, now); !ok || !d.Permit || d.ConsentID != "c1" {
		t.Errorf("approved under a broad consent: %v %+v", ok, d)
	}
	if ok, _ := Disclose(o, nil, gpActor, now); ok {
		t.Error("approved without any consent must not be disclosed")
	}
	o.SecurityLabels = codings(labelSDV)
	if ok, d := Disclose(o, broad, gpActor, now); ok || !strings.Contains(d.Reason, "domestic abuse") {
		t.Errorf("approved but sensitive: %v %+v", ok, d)
	}
}

// The disclosure request states what it discloses: to the practice, for its
// care, the outcome's type, codes and categories, labels and reference.
func TestDisclosureRequest(t *testing.T) {
	o := OutcomeMeta{Approved: true, Patient: patient, ResourceType: "Goal", Reference: "Goal/g1", Related: []string{task1},
		Recorded: now, Categories: codings(housing), Codes: codings(wellbeing), SecurityLabels: codings(labelN)}
	r := releaseRequest(Recipient{Org: "A81001"}, o.Information())
	if r.Patient != patient || r.Actor.Reference != gp || !r.Action.Same(ActionDisclose) || !r.Purpose.Same(PurposeTreat) ||
		!slices.Equal(r.Classes, codings(ResourceClass("Goal"))) || !slices.Equal(r.Codes, codings(housing, wellbeing)) ||
		!slices.Equal(r.SecurityLabels, codings(labelN)) || r.Data != "Goal/g1" || !slices.Equal(r.Related, []string{task1}) ||
		!r.DataTime.Equal(now) {
		t.Errorf("request: %+v", r)
	}
}

// Property: over random consents, outcomes and approvals, nothing reaches
// the GP unless the patient approved it AND a reference evaluation of the
// consents permits it. The reference shares only the per-criterion
// matching with the engine; it decides each consent from its frontier of
// matching provisions (a deny anywhere on it denies), picks the latest
// applicable consent by brute force, and checks sensitive categories
// against every permitting chain.
func TestPropertyNothingUnapprovedOrUnpermittedReachesTheGP(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2026))
	const rounds = 20000
	disclosed, withheldByConsent := 0, 0
	for i := range rounds {
		g := gen{rng}
		consents := g.consents()
		o := g.outcome()
		practice := g.recipient()
		at := g.instant()
		ok, d := Disclose(o, consents, practice, at)
		if !ok {
			if o.Approved {
				withheldByConsent++
			}
			if d.Permit {
				t.Fatalf("round %d: not disclosed but the decision says permit: %+v", i, d)
			}
			continue
		}
		disclosed++
		if !o.Approved {
			t.Fatalf("round %d: disclosed without approval: %+v", i, d)
		}
		if !refPermits(consents, releaseRequest(practice, o.Information()), at) {
			t.Fatalf("round %d: disclosed but the reference evaluation denies\noutcome %+v\nactor %+v\nat %s\nconsents %s\ndecision %+v",
				i, o, practice, at, dump(consents), d)
		}
		checkDecision(t, i, consents, d)
	}
	// The generator must exercise both sides, or the property says nothing.
	if disclosed < rounds/50 || withheldByConsent < rounds/50 {
		t.Fatalf("weak generator: %d disclosed, %d approved but withheld of %d", disclosed, withheldByConsent, rounds)
	}
	t.Logf("%d rounds: %d disclosed, %d approved but withheld by consent", rounds, disclosed, withheldByConsent)
}

// checkDecision: a permit names an active consent of the patient and a
// provision of it that exists.
func checkDecision(t *testing.T, round int, consents []Consent, d Decision) {
	t.Helper()
	i := slices.IndexFunc(consents, func(c Consent) bool { return c.ID == d.ConsentID })
	if i < 0 || consents[i].Status != StatusActive || consents[i].Patient != patient {
		t.Fatalf("round %d: permit by an unknown or inactive consent: %+v", round, d)
	}
	if _, ok := at(consents[i].Provision, d.ProvisionPath); !ok {
		t.Fatalf("round %d: permit names a provision that does not exist: %+v", round, d)
	}
}

// at resolves a provision path such as "provision.provision[1]".
func at(root *Provision, path string) (*Provision, bool) {
	if path == "policyRule" {
		return &Provision{}, true
	}
	if root == nil {
		return nil, false
	}
	parts := strings.Split(path, ".")
	if parts[0] != "provision" {
		return nil, false
	}
	p := root
	for _, part := range parts[1:] {
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(part, "provision["), "]"))
		if err != nil || n >= len(p.Provisions) {
			return nil, false
		}
		p = &p.Provisions[n]
	}
	return p, true
}

// refPermits is the reference evaluation.
func refPermits(consents []Consent, req Request, now time.Time) bool {
	type applicable struct {
		at     time.Time
		permit bool
	}
	var apps []applicable
	for _, c := range consents {
		if c.Status != StatusActive || c.Patient != req.Patient || !slices.ContainsFunc(c.Scope, ScopePrivacy.Same) {
			continue
		}
		var frontier [][]hop
		switch root := c.Provision; {
		case root != nil && root.Type != "":
			if !root.matches(&c, &req, now, root.Type) {
				continue
			}
			frontier = refFrontier(&c, root, root.Type, nil, &req, now)
		default:
			base, ok := policyBase(c.PolicyRule)
			if !ok {
				continue
			}
			policy := []hop{{&Provision{}, base}}
			frontier = [][]hop{policy}
			if root != nil && root.matches(&c, &req, now, base.opposite()) {
				frontier = refFrontier(&c, root, base.opposite(), policy, &req, now)
			}
		}
		permit := true
		for _, chain := range frontier {
			if chain[len(chain)-1].t == Deny {
				permit = false
			}
		}
		if permit && !refExplicit(frontier, &req) {
			permit = false
		}
		// A consent counts as given no later than it arrived, nor than now.
		given := c.DateTime
		for _, bound := range []time.Time{c.Received, now} {
			if !bound.IsZero() && given.After(bound) {
				given = bound
			}
		}
		apps = append(apps, applicable{given, permit})
	}
	if len(apps) == 0 {
		return false
	}
	latest := apps[0].at
	for _, a := range apps {
		if a.at.After(latest) {
			latest = a.at
		}
	}
	for _, a := range apps {
		if a.at.Equal(latest) && !a.permit {
			return false
		}
	}
	return true
}

// refFrontier lists every chain from p to a matching provision none of
// whose exceptions match.
func refFrontier(cons *Consent, p *Provision, t Type, chain []hop, req *Request, now time.Time) [][]hop {
	chain = append(slices.Clone(chain), hop{p, t})
	var out [][]hop
	for i := range p.Provisions {
		c := &p.Provisions[i]
		ct := c.Type
		if ct == "" {
			ct = t.opposite()
		}
		if c.matches(cons, req, now, ct) {
			out = append(out, refFrontier(cons, c, ct, chain, req, now)...)
		}
	}
	if len(out) == 0 {
		out = [][]hop{chain}
	}
	return out
}

// refExplicit: some permitting chain names every sensitive category of the
// request in a permit-type provision.
func refExplicit(frontier [][]hop, req *Request) bool {
	var cats []Sensitive
	for _, list := range [][]adapter.Coding{req.SecurityLabels, req.Codes, req.Classes} {
		for _, c := range list {
			if s, ok := SensitiveCoding(c); ok {
				cats = append(cats, s)
			}
		}
	}
	for _, chain := range frontier {
		all := true
		for _, s := range cats {
			named := false
			for _, h := range chain {
				if h.t == Permit && h.p.names(s) {
					named = true
				}
			}
			all = all && named
		}
		if all {
			return true
		}
	}
	return false
}

// gen draws random consents and outcomes from small pools, so that
// criteria often coincide.
type gen struct{ r *rand.Rand }

func (g gen) pick(n int) int { return g.r.IntN(n) }
func (g gen) chance(p float64) bool {
	return g.r.Float64() < p
}

var (
	poolActors   = []string{gp, network, vcse, "Organization?identifier=https://fhir.nhs.uk/Id/ods-organization-code|B82002"}
	poolRoles    = []adapter.Coding{ircp, prcp, cst}
	poolActions  = []adapter.Coding{ActionDisclose, ActionAccess, ActionUse}
	poolPurposes = []adapter.Coding{PurposeTreat, etreat, hmarkt}
	poolClasses  = []adapter.Coding{ResourceClass("Observation"), ResourceClass("Procedure"), ResourceClass("Goal")}
	poolCodes    = []adapter.Coding{wellbeing, housing, safeg, child}
	poolLabels   = []adapter.Coding{labelN, labelPSY, labelMH, labelETH, labelSDV}
)

func (g gen) some(pool []adapter.Coding, p float64) []adapter.Coding {
	var out []adapter.Coding
	for _, c := range pool {
		if g.chance(p) {
			out = append(out, c)
		}
	}
	return out
}

func (g gen) instant() time.Time {
	return day(2026, 1, 1).Add(time.Duration(g.r.Int64N(int64(2 * 365 * 24 * time.Hour))))
}

func (g gen) period(p float64) Period {
	if !g.chance(p) {
		return Period{}
	}
	a, b := g.instant(), g.instant()
	if b.Before(a) {
		a, b = b, a
	}
	switch g.pick(3) {
	case 0:
		return Period{Start: a}
	case 1:
		return Period{End: b}
	}
	return Period{Start: a, End: b}
}

func (g gen) provision(depth int) Provision {
	p := Provision{Period: g.period(0.15), DataPeriod: g.period(0.15)}
	if depth == 0 || g.chance(0.3) {
		p.Type = []Type{Permit, Deny, ""}[g.pick(3)]
	}
	if g.chance(0.35) {
		for range 1 + g.pick(2) {
			a := Actor{Reference: poolActors[g.pick(len(poolActors))]}
			if g.chance(0.9) {
				a.Role = []adapter.Coding{poolRoles[g.pick(len(poolRoles))]}
			}
			p.Actors = append(p.Actors, a)
		}
	}
	if g.chance(0.3) {
		p.Actions = g.some(poolActions, 0.5)
	}
	if g.chance(0.3) {
		p.Purposes = g.some(poolPurposes, 0.5)
	}
	if g.chance(0.2) {
		p.Classes = g.some(poolClasses, 0.5)
	}
	if g.chance(0.25) {
		p.Codes = g.some(poolCodes, 0.4)
	}
	if g.chance(0.3) {
		p.SecurityLabels = g.some(poolLabels, 0.4)
	}
	if g.chance(0.1) {
		p.Data = []Data{{Meaning: []string{MeaningInstance, MeaningRelated, MeaningDependents}[g.pick(3)],
			Reference: []string{outcome1, task1, "Observation/o2"}[g.pick(3)]}}
	}
	if depth < 3 {
		for range g.pick(3) {
			p.Provisions = append(p.Provisions, g.provision(depth+1))
		}
	}
	return p
}

func (g gen) consents() []Consent {
	out := make([]Consent, g.pick(4))
	for i := range out {
		root := g.provision(0)
		c := active("c"+strconv.Itoa(i), g.instant(), &root)
		if g.chance(0.1) {
			c.Provision = nil
		}
		if g.chance(0.2) {
			c.Status = []string{StatusInactive, StatusRejected, "draft"}[g.pick(3)]
		}
		if g.chance(0.1) {
			c.Patient = "Patient/p2"
		}
		if g.chance(0.3) {
			c.PolicyRule = [][]adapter.Coding{optIn, optOut}[g.pick(2)]
		}
		if g.chance(0.2) {
			c.DateTime = out[g.pick(i+1)].DateTime // ties
		}
		out[i] = c
	}
	return out
}

func (g gen) outcome() OutcomeMeta {
	return OutcomeMeta{
		Approved: g.chance(0.7), Patient: patient,
		ResourceType: []string{"Observation", "Procedure", "Goal"}[g.pick(3)],
		Reference:    []string{outcome1, "Observation/o2"}[g.pick(2)], Related: []string{task1},
		Recorded: g.instant(), Codes: g.some(poolCodes, 0.15), SecurityLabels: g.some(poolLabels, 0.08),
	}
}

func (g gen) recipient() Recipient {
	if g.chance(0.5) {
		return Recipient{Org: "A81001"}
	}
	return Recipient{Org: []string{"A81001", "U00001", "X1V01", "B82002"}[g.pick(4)]}
}

func dump(cs []Consent) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "\n  %s %s %s %s policy=%v", c.ID, c.Status, c.Patient, c.DateTime.Format(time.RFC3339), c.PolicyRule)
		dumpProvision(&b, c.Provision, "provision", 2)
	}
	return b.String()
}

func dumpProvision(b *strings.Builder, p *Provision, path string, indent int) {
	if p == nil {
		return
	}
	fmt.Fprintf(b, "\n%s%s type=%q period=%v actors=%v act=%v purp=%v class=%v code=%v label=%v data=%v dp=%v",
		strings.Repeat(" ", indent), path, p.Type, p.Period, p.Actors, p.Actions, p.Purposes, p.Classes, p.Codes, p.SecurityLabels, p.Data, p.DataPeriod)
	for i := range p.Provisions {
		dumpProvision(b, &p.Provisions[i], fmt.Sprintf("%s.provision[%d]", path, i), indent+2)
	}
}

// A holder's message to the GP (issue 9) is decided as an outcome is:
// approval first, then consent; the reason names a message.
func TestDiscloseMessage(t *testing.T) {
	broad := []Consent{active("c1", day(2026, 1, 1), &Provision{Type: Permit})}
	m := OutcomeMeta{Approved: false, Patient: patient, ResourceType: adapter.KindCommunication, Reference: "Communication/m1"}
	gpActor := Recipient{Org: "A81001"}
	if ok, d := Disclose(m, broad, gpActor, now); ok || d.Reason != "the patient did not approve sharing this message" {
		t.Errorf("unapproved message: %v %+v", ok, d)
	}
	m.Approved = true
	if ok, _ := Disclose(m, broad, gpActor, now); !ok {
		t.Error("approved message under a broad consent")
	}
	if ok, _ := Disclose(m, nil, gpActor, now); ok {
		t.Error("approved message without any consent")
	}
	m.SecurityLabels = codings(labelSDV)
	if ok, d := Disclose(m, broad, gpActor, now); ok || !strings.Contains(d.Reason, "domestic abuse") {
		t.Errorf("sensitive message: %v %+v", ok, d)
	}
}

package routing_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/adapter/routing"
	"github.com/social-prescribing/referral-adapter/internal/testfiles"
)

// fixtureReferral reads a fixture ServiceRequest as intake does.
func fixtureReferral(t testing.TB, name string) *adapter.Referral {
	t.Helper()
	p, err := fhir.NewParser()
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Parse(testfiles.Fixture(t, name), "ServiceRequest")
	if err != nil {
		t.Fatal(err)
	}
	r, err := fhir.ReferralFrom(res)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// steps renders a decision's steps as "svc svc ~ svc" (~ a waitlist step).
func steps(d routing.Decision) string {
	var out []string
	for _, s := range d.Steps {
		if s.Waitlist {
			out = append(out, "~")
		} else {
			out = append(out, s.Service)
		}
	}
	return strings.Join(out, " ")
}

// Each fixture's need is routed by the default rules to the service for
// it, with the rule's priority and first-contact deadline, the network's
// link workers as the last resort.
func TestRouteFixtures(t *testing.T) {
	m := loadDefault(t)
	cases := []struct {
		fixture, rule, need, steps string
		priority                   adapter.Priority
		sla                        string
	}{
		{"servicerequest-debt.json", "debt-and-benefits", "debt-and-benefits", "money-advice ~ riverside-link-workers", adapter.PriorityRoutine, "5wd"},
		{"servicerequest-housing-urgent.json", "housing", "housing", "housing-options riverside-link-workers", adapter.PriorityUrgent, "2wd"},
		{"servicerequest-loneliness.json", "loneliness", "loneliness", "befriending ~ riverside-link-workers", adapter.PriorityRoutine, "10wd"},
		{"servicerequest-general.json", "social-prescribing", "general", "riverside-link-workers ~", adapter.PriorityRoutine, "2wd"},
		// The performer comes first (here it is also the carers rule's target).
		{"servicerequest-performer.json", "carers", "carers", "carers-support riverside-link-workers", adapter.PriorityRoutine, "10wd"},
	}
	for _, c := range cases {
		t.Run(c.fixture, func(t *testing.T) {
			d, err := m.Route(fixtureReferral(t, c.fixture))
			if err != nil {
				t.Fatal(err)
			}
			if d.Rule != c.rule || d.Need != c.need || steps(d) != c.steps || d.Priority != c.priority || d.FirstContact.String() != c.sla {
				t.Errorf("decision rule %q need %q steps %q priority %q sla %s; want %q %q %q %q %s",
					d.Rule, d.Need, steps(d), d.Priority, d.FirstContact, c.rule, c.need, c.steps, c.priority, c.sla)
			}
		})
	}
}

// A referral that names no directory service and matches no rule is not a
// social prescribing referral: EBUSINESSRULE naming the rule set tried.
func TestRouteNoMatch(t *testing.T) {
	m := loadDefault(t)
	for _, r := range []*adapter.Referral{
		fixtureReferral(t, "servicerequest-not-social.json"),
		{},
		{Performers: []string{"HealthcareService/not-in-the-directory", "Practitioner/1"}},
		{Reasons: []adapter.Coding{{System: adapter.SystemSNOMED, Code: "Z59.6"}}}, // an ICD-10 code in the wrong system
	} {
		_, err := m.Route(r)
		e := wantCode(t, err, adapter.EBUSINESSRULE)
		if !strings.Contains(e.Message, `"riverside-pcn-default"`) {
			t.Errorf("message %q does not name the rule set", e.Message)
		}
		if !slices.Equal(e.Expression, []string{"ServiceRequest.code", "ServiceRequest.reasonCode"}) {
			t.Errorf("expression %v", e.Expression)
		}
	}
}

func wantCode(t *testing.T, err error, code string) *adapter.Error {
	t.Helper()
	e, ok := err.(*adapter.Error)
	if !ok || e.Code != code {
		t.Fatalf("error %v, want %s", err, code)
	}
	return e
}

// A performer naming a directory service is tried first, before the
// rule's target; a performer alone routes the referral.
func TestRoutePerformerFirst(t *testing.T) {
	m := loadDefault(t)
	debt := []adapter.Coding{{System: adapter.SystemICD10, Code: "Z59.6"}}
	cardiology := []adapter.Coding{{System: adapter.SystemSNOMED, Code: "183519002"}}
	cases := []struct {
		name  string
		r     adapter.Referral
		rule  string
		steps string
	}{
		{"performer and a rule", adapter.Referral{Reasons: debt, Performers: []string{"HealthcareService/befriending"}},
			"debt-and-benefits", "befriending money-advice ~ riverside-link-workers"},
		{"performer is the rule's target", adapter.Referral{Reasons: debt, Performers: []string{"HealthcareService/money-advice"}},
			"debt-and-benefits", "money-advice ~ riverside-link-workers"},
		{"performer alone", adapter.Referral{Codes: cardiology, Performers: []string{"HealthcareService/work-and-skills"}},
			routing.PerformerRule, "work-and-skills riverside-link-workers"},
		{"absolute performer with a version", adapter.Referral{Codes: cardiology, Performers: []string{"https://adapter.example/fhir/HealthcareService/befriending/_history/2"}},
			routing.PerformerRule, "befriending riverside-link-workers"},
		{"first directory performer wins", adapter.Referral{Codes: cardiology, Performers: []string{"Practitioner/9", "HealthcareService/ghost", "HealthcareService/carers-support", "HealthcareService/befriending"}},
			routing.PerformerRule, "carers-support riverside-link-workers"},
		{"the link workers as performer", adapter.Referral{Codes: cardiology, Performers: []string{"HealthcareService/riverside-link-workers"}},
			routing.PerformerRule, "riverside-link-workers"},
	}
	for _, c := range cases {
		d, err := m.Route(&c.r)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if d.Rule != c.rule || steps(d) != c.steps {
			t.Errorf("%s: rule %q steps %q, want %q %q", c.name, d.Rule, steps(d), c.rule, c.steps)
		}
	}
	d, _ := m.Route(&adapter.Referral{Codes: cardiology, Performers: []string{"HealthcareService/befriending"}})
	if d.Priority != adapter.PriorityRoutine || !d.FirstContact.IsZero() || d.Need != "" {
		t.Errorf("performer-only decision %+v: want routine, no deadline, no need", d)
	}
}

// The network's link workers are always a candidate: last, unless the rule
// itself routes there earlier (and then capacity routing still falls back
// to them when every step is full).
func TestRouteLinkWorkersLast(t *testing.T) {
	m := loadDefault(t)
	lw := m.Network.LinkWorker
	for _, rule := range m.Rules {
		r := &adapter.Referral{Codes: rule.Code, Categories: rule.Category, Reasons: rule.Reason, Performers: rule.Performer}
		d, err := m.Route(r)
		if err != nil || d.Rule != rule.Name {
			t.Fatalf("rule %s: routed by %q, %v", rule.Name, d.Rule, err)
		}
		c := d.Candidates()
		named := rule.Target == lw || slices.Contains(rule.Fallback, lw)
		if !slices.Contains(c, lw) || (!named && c[len(c)-1] != lw) {
			t.Errorf("rule %s: candidates %v", rule.Name, c)
		}
		if len(slices.Compact(slices.Sorted(slices.Values(c)))) != len(c) {
			t.Errorf("rule %s: a service twice in %v", rule.Name, c)
		}
	}
	d, _ := m.Route(&adapter.Referral{Reasons: []adapter.Coding{{System: adapter.SystemICD10, Code: "Z73.3"}}})
	if got := steps(d); got != "riverside-link-workers wellbeing-cafe" {
		t.Errorf("mental wellbeing: link workers first, then the cafe; got %q", got)
	}
}

// The first matching rule wins; within a criterion any coding matches;
// every criterion a rule gives must match.
func TestRouteRuleOrderAndCriteria(t *testing.T) {
	m := loadDefault(t)
	both := &adapter.Referral{Reasons: []adapter.Coding{
		{System: adapter.SystemICD10, Code: "Z72.3"}, // physical activity
		{System: adapter.SystemICD10, Code: "Z59.0"}, // housing, an earlier rule
	}}
	if d, _ := m.Route(both); d.Rule != "housing" {
		t.Errorf("first matching rule: got %q, want housing", d.Rule)
	}
	fsys := mapFS(map[string]string{"a.yaml": base, "b.yaml": `rules:
  - name: both
    match:
      code: [{system: s, code: c}]
      category: [{system: s, code: k}]
    target: lw
    fallback: [waitlist]
`})
	mm, err := routing.Load(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	code, cat := adapter.Coding{System: "s", Code: "c"}, adapter.Coding{System: "s", Code: "k"}
	if _, err := mm.Route(&adapter.Referral{Codes: []adapter.Coding{code}}); err == nil {
		t.Error("a rule matched with one of its two criteria missing")
	}
	if d, err := mm.Route(&adapter.Referral{Codes: []adapter.Coding{code}, Categories: []adapter.Coding{cat}}); err != nil || d.Rule != "both" {
		t.Errorf("both criteria: %+v %v", d, err)
	}
	if _, err := mm.Route(&adapter.Referral{Codes: []adapter.Coding{cat}, Categories: []adapter.Coding{code}}); err == nil {
		t.Error("codes matched across criteria")
	}
}

// The referral's own priority is kept when it is higher than the rule's;
// the rule's applies when the referral states none or a lower one.
func TestRoutePriority(t *testing.T) {
	m := loadDefault(t)
	housing := []adapter.Coding{{System: adapter.SystemICD10, Code: "Z59.0"}} // rule: urgent
	debt := []adapter.Coding{{System: adapter.SystemICD10, Code: "Z59.6"}}    // rule: routine
	cases := []struct {
		reasons []adapter.Coding
		given   adapter.Priority
		want    adapter.Priority
	}{
		{housing, "", adapter.PriorityUrgent},
		{housing, adapter.PriorityRoutine, adapter.PriorityUrgent},
		{housing, adapter.PriorityASAP, adapter.PriorityASAP},
		{housing, adapter.PriorityStat, adapter.PriorityStat},
		{debt, "", adapter.PriorityRoutine},
		{debt, adapter.PriorityUrgent, adapter.PriorityUrgent},
	}
	for _, c := range cases {
		d, err := m.Route(&adapter.Referral{Reasons: c.reasons, Priority: c.given})
		if err != nil || d.Priority != c.want {
			t.Errorf("%s referral %q: priority %q, %v; want %q", c.reasons[0].Code, c.given, d.Priority, err, c.want)
		}
	}
}

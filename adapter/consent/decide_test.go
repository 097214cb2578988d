package consent

import (
	"strings"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
)

const (
	patient  = "Patient/p1"
	gp       = "Organization?identifier=https://fhir.nhs.uk/Id/ods-organization-code|A81001"
	network  = "Organization?identifier=https://fhir.nhs.uk/Id/ods-organization-code|U00001"
	vcse     = "Organization?identifier=https://fhir.nhs.uk/Id/ods-organization-code|X1V01"
	outcome1 = "Observation/o1"
	task1    = "Task/t1"
)

var (
	now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

	ircp = adapter.Coding{System: SystemParticipation, Code: "IRCP"}
	prcp = RoleRecipient
	cst  = adapter.Coding{System: SystemParticipation, Code: "CST"}

	etreat = adapter.Coding{System: SystemActReason, Code: "ETREAT"}
	hmarkt = adapter.Coding{System: SystemActReason, Code: "HMARKT"}

	labelPSY = adapter.Coding{System: SystemActCode, Code: "PSY"}
	labelMH  = adapter.Coding{System: SystemActCode, Code: "MH"}
	labelETH = adapter.Coding{System: SystemActCode, Code: "ETH"}
	labelSDV = adapter.Coding{System: SystemActCode, Code: "SDV"}
	labelN   = adapter.Coding{System: "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", Code: "N"}
	safeg    = adapter.Coding{System: SystemSensitivity, Code: "safeguarding"}
	child    = adapter.Coding{System: SystemSensitivity, Code: "child-welfare"}

	wellbeing = adapter.Coding{System: adapter.SystemSNOMED, Code: "960861000000107"}
	housing   = adapter.Coding{System: adapter.SystemSNOMED, Code: "105531004"}

	catConsent = adapter.Coding{System: "http://loinc.org", Code: "59284-0"}
	catNPP     = adapter.Coding{System: "http://terminology.hl7.org/CodeSystem/consentcategorycodes", Code: "npp"}

	optIn  = []adapter.Coding{{System: SystemActCode, Code: "OPTIN"}}
	optOut = []adapter.Coding{{System: SystemActCode, Code: "OPTOUT"}}
)

// active returns an active patient-privacy consent of the patient with the
// given root provision, dated at.
func active(id string, at time.Time, root *Provision) Consent {
	return Consent{ID: id, Status: StatusActive, Patient: patient, Scope: []adapter.Coding{ScopePrivacy},
		Categories: []adapter.Coding{catConsent}, DateTime: at, Provision: root}
}

func actor(role adapter.Coding, ref string) Actor {
	return Actor{Role: []adapter.Coding{role}, Reference: ref}
}

func codings(c ...adapter.Coding) []adapter.Coding { return c }

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// toGP is a request to disclose an outcome to the referring practice.
func toGP() Request {
	return Request{Patient: patient, Actor: RequestActor{Role: prcp, Reference: gp}, Action: ActionDisclose,
		Purpose: PurposeTreat, Classes: codings(ResourceClass("Observation")), Codes: codings(wellbeing),
		Data: outcome1, Related: []string{task1}, DataTime: day(2026, 11, 1)}
}

func with(r Request, f func(*Request)) Request { f(&r); return r }

type decideCase struct {
	name     string
	consents []Consent
	req      Request
	permit   bool
	consent  string // expected deciding consent id ("" = none)
	path     string // expected provision path ("" = not checked)
	reason   string // substring of the reason ("" = not checked)
}

func runDecide(t *testing.T, cases []decideCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide(tc.consents, tc.req, now)
			if d.Permit != tc.permit || d.ConsentID != tc.consent || tc.path != "" && d.ProvisionPath != tc.path ||
				!strings.Contains(d.Reason, tc.reason) {
				t.Errorf("got %+v\nwant permit=%v consent=%q path=%q reason~%q", d, tc.permit, tc.consent, tc.path, tc.reason)
			}
			if d.Reason == "" {
				t.Error("a decision always gives a reason")
			}
		})
	}
}

// Base permit, with deny exceptions.
func TestDecideBasePermitDenyExceptions(t *testing.T) {
	c := active("c1", day(2026, 1, 1), &Provision{Type: Permit,
		Actions: codings(ActionDisclose),
		Provisions: []Provision{
			{Actors: []Actor{actor(prcp, vcse)}},       // not to this VCSE
			{SecurityLabels: codings(labelN, labelMH)}, // nothing labelled normal or MH (exception by label)
			{Codes: codings(housing)},                  // nothing about housing
		}})
	runDecide(t, []decideCase{
		{"no exception matches: base permit", []Consent{c}, toGP(), true, "c1", "provision", "permitted by provision of Consent/c1"},
		{"actor exception", []Consent{c}, with(toGP(), func(r *Request) { r.Actor.Reference = vcse }), false, "c1", "provision.provision[0]", "denied by provision.provision[0]"},
		{"label exception", []Consent{c}, with(toGP(), func(r *Request) { r.SecurityLabels = codings(labelN) }), false, "c1", "provision.provision[1]", ""},
		{"code exception", []Consent{c}, with(toGP(), func(r *Request) { r.Codes = codings(wellbeing, housing) }), false, "c1", "provision.provision[2]", ""},
		{"root action not matched: consent silent", []Consent{c}, with(toGP(), func(r *Request) { r.Action = ActionAccess }), false, "", "", "no active consent"},
	})
}

// Base deny, with permit exceptions.
func TestDecideBaseDenyPermitExceptions(t *testing.T) {
	c := active("c1", day(2026, 1, 1), &Provision{Type: Deny,
		Provisions: []Provision{
			{Actors: []Actor{actor(ircp, gp)}, Actions: codings(ActionDisclose), Purposes: codings(PurposeTreat)},
			{Actors: []Actor{actor(ircp, network)}, Classes: codings(ResourceClass("ServiceRequest"))},
		}})
	runDecide(t, []decideCase{
		{"permit exception: GP, disclose, TREAT", []Consent{c}, toGP(), true, "c1", "provision.provision[0]", ""},
		{"other actor: base deny", []Consent{c}, with(toGP(), func(r *Request) { r.Actor.Reference = vcse }), false, "c1", "provision", "denied by provision of Consent/c1"},
		{"other purpose: base deny", []Consent{c}, with(toGP(), func(r *Request) { r.Purpose = hmarkt }), false, "c1", "provision", ""},
		{"ETREAT is a kind of TREAT", []Consent{c}, with(toGP(), func(r *Request) { r.Purpose = etreat }), true, "c1", "provision.provision[0]", ""},
		{"class exception for the network", []Consent{c}, with(toGP(), func(r *Request) {
			r.Actor.Reference, r.Classes = network, codings(ResourceClass("ServiceRequest"))
		}), true, "c1", "provision.provision[1]", ""},
		{"class exception does not cover other classes", []Consent{c}, with(toGP(), func(r *Request) { r.Actor.Reference = network }), false, "c1", "provision", ""},
	})
}

// Exceptions to exceptions, three levels deep, and sibling precedence.
func TestDecideNestedExceptions(t *testing.T) {
	c := active("c1", day(2026, 1, 1), &Provision{Type: Permit, Provisions: []Provision{
		{ // deny the GP ...
			Actors: []Actor{actor(ircp, gp)},
			Provisions: []Provision{
				{ // ... except wellbeing measures (permit) ...
					Codes: codings(wellbeing),
					Provisions: []Provision{
						{DataPeriod: Period{End: day(2026, 6, 1)}}, // ... recorded before June (deny)
					},
				},
			},
		},
		{Type: Permit, Codes: codings(housing)}, // a stated type is kept
	}})
	// Two exceptions match the GP: the first permits, the second (a stated
	// deny) withholds wellbeing measures. The deny wins.
	c2 := active("c2", day(2026, 1, 1), &Provision{Type: Deny, Provisions: []Provision{
		{Actors: []Actor{actor(ircp, gp)}},
		{Type: Deny, Actors: []Actor{actor(ircp, gp)}, Codes: codings(wellbeing)},
	}})
	runDecide(t, []decideCase{
		{"level 2 permit", []Consent{c}, toGP(), true, "c1", "provision.provision[0].provision[0]", ""},
		{"level 3 deny", []Consent{c}, with(toGP(), func(r *Request) { r.DataTime = day(2026, 5, 1) }), false, "c1", "provision.provision[0].provision[0].provision[0]", ""},
		{"level 1 deny", []Consent{c}, with(toGP(), func(r *Request) { r.Codes = nil }), false, "c1", "provision.provision[0]", ""},
		{"not the GP: root permit", []Consent{c}, with(toGP(), func(r *Request) { r.Actor.Reference = network }), true, "c1", "provision", ""},
		{"matching siblings: the deny wins", []Consent{c}, with(toGP(), func(r *Request) { r.Codes = codings(housing) }), false, "c1", "provision.provision[0]", ""},
		{"matching siblings: the deny wins wherever it is", []Consent{c2}, toGP(), false, "c2", "provision.provision[1]", ""},
	})
}

// Each criterion on its own: a permit exception under a base deny matches
// only when its criterion does.
func TestDecideCriteria(t *testing.T) {
	permitIf := func(p Provision) []Consent {
		p.Type = Permit
		return []Consent{active("c1", day(2026, 1, 1), &Provision{Type: Deny, Provisions: []Provision{p}})}
	}
	cases := []struct {
		name string
		p    Provision
		yes  Request
		no   Request
	}{
		{"actor reference", Provision{Actors: []Actor{actor(prcp, gp)}}, toGP(),
			with(toGP(), func(r *Request) { r.Actor.Reference = vcse })},
		{"actor role IRCP covers PRCP", Provision{Actors: []Actor{actor(ircp, gp)}}, toGP(),
			with(toGP(), func(r *Request) { r.Actor.Role = cst })},
		{"actor role PRCP does not cover IRCP", Provision{Actors: []Actor{actor(prcp, gp)}}, toGP(),
			with(toGP(), func(r *Request) { r.Actor.Role = ircp })},
		{"action", Provision{Actions: codings(ActionDisclose)}, toGP(),
			with(toGP(), func(r *Request) { r.Action = ActionUse })},
		{"purpose", Provision{Purposes: codings(PurposeTreat)}, toGP(),
			with(toGP(), func(r *Request) { r.Purpose = hmarkt })},
		{"class", Provision{Classes: codings(ResourceClass("Observation"))}, toGP(),
			with(toGP(), func(r *Request) { r.Classes = codings(ResourceClass("Goal")) })},
		{"code", Provision{Codes: codings(housing, wellbeing)}, toGP(),
			with(toGP(), func(r *Request) { r.Codes = nil })},
		{"security label", Provision{SecurityLabels: codings(labelN)}, with(toGP(), func(r *Request) { r.SecurityLabels = codings(labelN) }),
			toGP()},
		{"period", Provision{Period: Period{Start: day(2026, 11, 1), End: day(2026, 12, 1)}}, toGP(),
			with(toGP(), func(r *Request) {})},
		{"data instance", Provision{Data: []Data{{Meaning: MeaningInstance, Reference: outcome1}}}, toGP(),
			with(toGP(), func(r *Request) { r.Data = "Observation/other" })},
		{"data related", Provision{Data: []Data{{Meaning: MeaningRelated, Reference: task1}}}, toGP(),
			with(toGP(), func(r *Request) { r.Related = []string{"Task/other"} })},
		{"data instance is not related", Provision{Data: []Data{{Meaning: MeaningInstance, Reference: task1}}},
			with(toGP(), func(r *Request) { r.Data = task1 }), toGP()},
		{"data period", Provision{DataPeriod: Period{Start: day(2026, 10, 1), End: day(2026, 12, 1)}}, toGP(),
			with(toGP(), func(r *Request) { r.DataTime = day(2026, 9, 30) })},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cs := permitIf(tc.p)
			if d := Decide(cs, tc.yes, now); !d.Permit || d.ProvisionPath != "provision.provision[0]" {
				t.Errorf("matching request: %+v", d)
			}
			no := tc.no
			if tc.name == "period" {
				// The exception's own period: outside it, the base applies.
				if d := Decide(cs, no, day(2026, 12, 1)); d.Permit || d.ProvisionPath != "provision" {
					t.Errorf("after the exception's period: %+v", d)
				}
				return
			}
			if d := Decide(cs, no, now); d.Permit || d.ProvisionPath != "provision" {
				t.Errorf("non-matching request: %+v", d)
			}
		})
	}
}

// What the request does not state never earns a permit and never escapes a
// deny.
func TestDecideUnknownAttributes(t *testing.T) {
	permitGP := []Consent{active("c1", day(2026, 1, 1), &Provision{Type: Permit,
		Actors: []Actor{actor(ircp, gp)}, Actions: codings(ActionDisclose), Purposes: codings(PurposeTreat)})}
	denies := []Consent{active("c1", day(2026, 1, 1), &Provision{Type: Permit, Provisions: []Provision{
		{Actors: []Actor{actor(ircp, vcse)}},
		{Actors: []Actor{actor(cst, gp)}},
		{Actions: codings(ActionCorrect)},
		{Purposes: codings(hmarkt)},
		{Data: []Data{{Meaning: MeaningInstance, Reference: "Observation/secret"}}},
		{DataPeriod: Period{Start: day(2020, 1, 1), End: day(2021, 1, 1)}},
	}})}
	if d := Decide(permitGP, toGP(), now); !d.Permit {
		t.Fatalf("fully stated request: %+v", d)
	}
	if d := Decide(denies, toGP(), now); !d.Permit {
		t.Fatalf("fully stated request outside every deny: %+v", d)
	}
	unknown := map[string]func(*Request){
		"actor":     func(r *Request) { r.Actor = RequestActor{} },
		"role":      func(r *Request) { r.Actor.Role = adapter.Coding{} },
		"action":    func(r *Request) { r.Action = adapter.Coding{} },
		"purpose":   func(r *Request) { r.Purpose = adapter.Coding{} },
		"data":      func(r *Request) { r.Data, r.Related = "", nil },
		"data time": func(r *Request) { r.DataTime = time.Time{} },
	}
	for name, f := range unknown {
		t.Run(name, func(t *testing.T) {
			req := with(toGP(), f)
			if name != "data" && name != "data time" {
				if d := Decide(permitGP, req, now); d.Permit {
					t.Errorf("unknown %s earned a permit: %+v", name, d)
				}
			}
			if d := Decide(denies, req, now); d.Permit {
				t.Errorf("unknown %s escaped a deny: %+v", name, d)
			}
		})
	}
	// Data authored by someone: requests never state the author.
	byAuthor := []Consent{active("c1", day(2026, 1, 1), &Provision{Type: Permit, Provisions: []Provision{
		{Data: []Data{{Meaning: MeaningAuthoredBy, Reference: "Practitioner/x"}}}}})}
	if d := Decide(byAuthor, toGP(), now); d.Permit {
		t.Errorf("an authoredby deny applies when the author is unknown: %+v", d)
	}
	// A deny naming an actor by display only (no usable reference) denies
	// everyone it could be.
	byDisplay := []Consent{active("c1", day(2026, 1, 1), &Provision{Type: Permit, Provisions: []Provision{
		{Actors: []Actor{{Role: codings(prcp)}}}}})}
	if d := Decide(byDisplay, toGP(), now); d.Permit {
		t.Errorf("a deny for an unidentifiable actor: %+v", d)
	}
}

// Which consents are considered at all.
func TestDecideApplicability(t *testing.T) {
	broad := &Provision{Type: Permit}
	base := active("c1", day(2026, 1, 1), broad)
	mod := func(f func(*Consent)) []Consent { c := base; f(&c); return []Consent{c} }
	runDecide(t, []decideCase{
		{"active", []Consent{base}, toGP(), true, "c1", "provision", ""},
		{"no consent", nil, toGP(), false, "", "", "no active consent"},
		{"inactive", mod(func(c *Consent) { c.Status = StatusInactive }), toGP(), false, "", "", ""},
		{"rejected", mod(func(c *Consent) { c.Status = StatusRejected }), toGP(), false, "", "", ""},
		{"draft", mod(func(c *Consent) { c.Status = "draft" }), toGP(), false, "", "", ""},
		{"another patient", mod(func(c *Consent) { c.Patient = "Patient/p2" }), toGP(), false, "", "", ""},
		{"request without a patient", []Consent{base}, with(toGP(), func(r *Request) { r.Patient = "" }), false, "", "", ""},
		{"research scope", mod(func(c *Consent) {
			c.Scope = codings(adapter.Coding{System: SystemScope, Code: "research"})
		}), toGP(), false, "", "", ""},
		{"expired", mod(func(c *Consent) {
			c.Provision = &Provision{Type: Permit, Period: Period{Start: day(2025, 1, 1), End: day(2026, 1, 1)}}
		}), toGP(), false, "", "", ""},
		{"not yet valid", mod(func(c *Consent) {
			c.Provision = &Provision{Type: Permit, Period: Period{Start: day(2027, 1, 1)}}
		}), toGP(), false, "", "", ""},
		{"category asked for", []Consent{base}, with(toGP(), func(r *Request) { r.ConsentCategories = codings(catConsent) }), true, "c1", "", ""},
		{"category not among the consent's", []Consent{base}, with(toGP(), func(r *Request) { r.ConsentCategories = codings(catNPP) }), false, "", "", ""},
		{"no provision, OPTIN", mod(func(c *Consent) { c.Provision, c.PolicyRule = nil, optIn }), toGP(), true, "c1", "policyRule", ""},
		{"no provision, OPTOUT", mod(func(c *Consent) { c.Provision, c.PolicyRule = nil, optOut }), toGP(), false, "c1", "policyRule", ""},
		{"untyped root is an exception to OPTOUT", mod(func(c *Consent) {
			c.Provision, c.PolicyRule = &Provision{Actors: []Actor{actor(ircp, gp)}}, optOut
		}), toGP(), true, "c1", "provision", ""},
		{"outside the untyped root, OPTOUT decides", mod(func(c *Consent) {
			c.Provision, c.PolicyRule = &Provision{Actors: []Actor{actor(ircp, vcse)}}, optOut
		}), toGP(), false, "c1", "policyRule", "denied by policyRule"},
		{"untyped root is an exception to OPTIN, with its own exceptions", mod(func(c *Consent) {
			c.Provision = &Provision{Actors: []Actor{actor(ircp, gp)}, Provisions: []Provision{{Codes: codings(wellbeing)}}}
			c.PolicyRule = optIn
		}), toGP(), true, "c1", "provision.provision[0]", ""},
		{"a typed root ignores policyRule", mod(func(c *Consent) {
			c.Provision, c.PolicyRule = &Provision{Type: Permit, Actors: []Actor{actor(ircp, vcse)}}, optIn
		}), toGP(), false, "", "", "no active consent"},
		{"untyped root, no policy: ignored", mod(func(c *Consent) { c.Provision = &Provision{} }), toGP(), false, "", "", "no active consent"},
		{"no provision, no policy: ignored", mod(func(c *Consent) { c.Provision = nil }), toGP(), false, "", "", "no active consent"},
	})
}

// With several applicable consents the most recent decides.
func TestDecideMostRecentWins(t *testing.T) {
	old := active("old", day(2025, 1, 1), &Provision{Type: Permit})
	newer := active("new", day(2026, 6, 1), &Provision{Type: Deny, Actors: []Actor{actor(ircp, gp)}})
	newest := active("newest", day(2026, 9, 1), &Provision{Type: Permit, Actions: codings(ActionDisclose)})
	tie := active("tie", day(2026, 9, 1), &Provision{Type: Deny})
	undated := active("undated", time.Time{}, &Provision{Type: Deny})
	inactiveNewest := newest
	inactiveNewest.Status = StatusInactive
	runDecide(t, []decideCase{
		{"newer deny beats older permit", []Consent{old, newer}, toGP(), false, "new", "", ""},
		{"order does not matter", []Consent{newer, old}, toGP(), false, "new", "", ""},
		{"newest permit beats both", []Consent{newer, newest, old}, toGP(), true, "newest", "", ""},
		{"newer consent silent on the request: older decides", []Consent{old, newer}, with(toGP(), func(r *Request) { r.Actor.Reference = network }), true, "old", "", ""},
		{"a tie goes to the deny", []Consent{newest, tie}, toGP(), false, "tie", "", ""},
		{"undated is the oldest", []Consent{undated, old}, toGP(), true, "old", "", ""},
		{"withdrawn newest: the next one decides", []Consent{old, newer, inactiveNewest}, toGP(), false, "new", "", ""},
	})
}

// Sensitive categories are withheld unless a permitting provision names
// them, however broad the consent.
func TestDecideSensitiveCategories(t *testing.T) {
	broad := []Consent{active("c1", day(2026, 1, 1), &Provision{Type: Permit})}
	labelled := func(c ...adapter.Coding) Request {
		return with(toGP(), func(r *Request) { r.SecurityLabels = c })
	}
	coded := func(c ...adapter.Coding) Request {
		return with(toGP(), func(r *Request) { r.Codes = append(r.Codes, c...) })
	}
	explicitMH := []Consent{active("c2", day(2026, 1, 1), &Provision{Type: Permit, SecurityLabels: codings(labelMH, labelN)})}
	nestedPSY := []Consent{active("c3", day(2026, 1, 1), &Provision{Type: Deny, Provisions: []Provision{
		{Actors: []Actor{actor(ircp, gp)}, SecurityLabels: codings(labelPSY)}}})}
	denyNames := []Consent{active("c4", day(2026, 1, 1), &Provision{Type: Permit, Provisions: []Provision{
		{SecurityLabels: codings(labelETH), Actors: []Actor{actor(ircp, vcse)}}}})}
	runDecide(t, []decideCase{
		{"plain outcome under a broad consent", broad, toGP(), true, "c1", "", ""},
		{"mental health label withheld", broad, labelled(labelPSY), false, "c1", "provision", "mental health information is not explicitly permitted"},
		{"substance use withheld", broad, labelled(labelETH), false, "c1", "", "substance use"},
		{"domestic abuse withheld", broad, labelled(labelSDV), false, "c1", "", "domestic abuse"},
		{"safeguarding withheld", broad, coded(safeg), false, "c1", "", "safeguarding"},
		{"child welfare withheld", broad, coded(child), false, "c1", "", "child welfare"},
		{"every missing category named", broad, labelled(labelETH, labelSDV), false, "c1", "", "substance use, domestic abuse"},
		{"explicit MH permit", explicitMH, labelled(labelMH), true, "c2", "", ""},
		{"naming MH covers PSY (same category)", explicitMH, labelled(labelPSY, labelN), true, "c2", "", ""},
		{"explicit MH permit does not cover ETH", explicitMH, labelled(labelMH, labelETH), false, "c2", "", "substance use"},
		{"nested explicit permit", nestedPSY, labelled(labelPSY), true, "c3", "provision.provision[0]", ""},
		{"naming in a deny is not a permit", denyNames, labelled(labelETH), false, "c4", "provision", "substance use"},
	})
}

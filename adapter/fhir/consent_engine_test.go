package fhir_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/consent"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/internal/testfiles"
)

const odsU00001 = "Organization?identifier=https://fhir.nhs.uk/Id/ods-organization-code|U00001"

func parseConsent(t *testing.T, p *fhir.Parser, body []byte) consent.Consent {
	t.Helper()
	res, err := p.Parse(body, "Consent")
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	c, err := fhir.ConsentFrom(res)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v.UTC()
}

// The golden consent: the patient permits disclosure to the network for
// their care, from 2026-11-20 to 2027-11-20 inclusive. References come out
// in refString's forms, the period end covers its whole day.
func TestConsentFromFixture(t *testing.T) {
	body, err := os.ReadFile("../../fixtures/consent-share-with-link-workers.json")
	if err != nil {
		t.Fatal(err)
	}
	c := parseConsent(t, newParser(t), body)
	if c.Status != "active" || c.Patient != "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009" ||
		!c.DateTime.Equal(mustTime(t, "2026-11-20T10:10:00Z")) || c.Provision == nil {
		t.Fatalf("consent: %+v", c)
	}
	p := c.Provision
	if p.Type != consent.Permit || len(p.Actors) != 1 || p.Actors[0].Reference != odsU00001 ||
		!p.Actors[0].Role[0].Same(adapter.Coding{System: consent.SystemParticipation, Code: "IRCP"}) ||
		!p.Actions[0].Same(consent.ActionDisclose) || !p.Purposes[0].Same(consent.PurposeTreat) ||
		!p.Period.Start.Equal(mustTime(t, "2026-11-20T00:00:00Z")) || !p.Period.End.Equal(mustTime(t, "2027-11-21T00:00:00Z")) {
		t.Fatalf("provision: %+v", p)
	}
	req := consent.Request{Patient: c.Patient, Actor: consent.RequestActor{Role: consent.RoleRecipient, Reference: odsU00001},
		Action: consent.ActionDisclose, Purpose: consent.PurposeTreat}
	for at, want := range map[string]bool{
		"2026-11-19T23:59:59Z": false, "2026-11-20T00:00:00Z": true, "2027-11-20T23:59:59Z": true, "2027-11-21T00:00:00Z": false,
	} {
		if d := consent.Decide([]consent.Consent{c}, req, mustTime(t, at)); d.Permit != want {
			t.Errorf("at %s: %+v", at, d)
		}
	}
}

// Every R4 standard Consent example, with a stated request and the decision
// the engine gives. The examples predate a settled meaning of the root
// provision: where one's narrative reads otherwise than R4's definition of
// an untyped root provision (an exception to the policyRule base), the
// case says so.
func TestConsentR4Examples(t *testing.T) {
	examples := testfiles.SharedExamples(t, "Consent-*.json")
	p := newParser(t)
	byName := map[string]consent.Consent{}
	for _, ex := range examples {
		byName[strings.TrimSuffix(strings.TrimPrefix(ex.Name, "Consent-consent-example-"), ".json")] = parseConsent(t, p, ex.Body)
	}
	sct := func(code string) adapter.Coding {
		return adapter.Coding{System: consent.SystemParticipation, Code: code}
	}
	access := consent.ActionAccess
	correct := adapter.Coding{System: consent.SystemAction, Code: "correct"}
	etreat := adapter.Coding{System: consent.SystemActReason, Code: "ETREAT"}
	label := func(system, code string) []adapter.Coding { return []adapter.Coding{{System: system, Code: code}} }
	const conf = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
	// A person (a practitioner, the patient's representative) acts for
	// themselves: a person-level request with no organisation.
	req := func(patient string, role adapter.Coding, ref string, action adapter.Coding) consent.Request {
		actor := consent.RequestActor{Role: role, Reference: ref}
		if person := consent.PersonRef(ref); person != "" {
			actor = consent.RequestActor{Role: role, PersonLevel: true, Person: person}
		}
		return consent.Request{Patient: patient, Actor: actor, Action: action, Purpose: consent.PurposeTreat}
	}
	f001 := func(role adapter.Coding, ref string, action adapter.Coding) consent.Request {
		return req("Patient/f001", role, ref, action)
	}
	with := func(r consent.Request, f func(*consent.Request)) consent.Request { f(&r); return r }
	cases := []struct {
		example, name string
		req           consent.Request
		at            string
		permit        bool
		path          string
	}{
		// OPTIN; the untyped root (period 1964..2015) is a deny exception
		// under R4. The narrative ("authorize normal access") reads it as
		// the permitted span instead.
		{"basic", "treatment access in the period", f001(sct("PRCP"), "Organization/f001", access), "2015-06-01T00:00:00Z", false, "provision"},
		{"basic", "after the period: OPTIN", f001(sct("PRCP"), "Organization/f001", access), "2016-06-01T00:00:00Z", true, "policyRule"},
		// OPTIN with a deny exception for a timeframe: withheld then.
		{"notTime", "in the withheld timeframe", f001(sct("PRCP"), "Organization/f001", access), "2015-01-15T00:00:00Z", false, "provision"},
		{"notTime", "after it", f001(sct("PRCP"), "Organization/f001", access), "2015-03-01T00:00:00Z", true, "policyRule"},
		// OPTIN; withhold from one nurse.
		{"notThem", "the nurse", f001(sct("PRCP"), "Practitioner/f204", access), "2016-01-01T00:00:00Z", false, "provision"},
		{"notThem", "the nurse correcting", f001(sct("PRCP"), "Practitioner/f204", correct), "2016-01-01T00:00:00Z", false, "provision"},
		{"notThem", "another practitioner", f001(sct("PRCP"), "Practitioner/f201", access), "2016-01-01T00:00:00Z", true, "policyRule"},
		// OPTIN; withhold one order and everything related to it.
		{"notThis", "a result of the order", with(f001(sct("PRCP"), "Organization/f002", access), func(r *consent.Request) {
			r.Data, r.Related = "Observation/lab1", []string{"Task/example3"}
		}), "2016-01-01T00:00:00Z", false, "provision"},
		{"notThis", "unrelated data", with(f001(sct("PRCP"), "Organization/f002", access), func(r *consent.Request) {
			r.Data = "Observation/other"
		}), "2016-01-01T00:00:00Z", true, "policyRule"},
		{"notThis", "unstated data is withheld", f001(sct("PRCP"), "Organization/f002", access), "2016-01-01T00:00:00Z", false, "provision"},
		// Typed deny root: withhold from one organisation. It says nothing
		// about others, and the adapter never presumes consent.
		{"notOrg", "the organisation", f001(sct("PRCP"), "Organization/f001", access), "2016-01-01T00:00:00Z", false, "provision"},
		{"notOrg", "another organisation: no applicable consent", f001(sct("PRCP"), "Organization/f002", access), "2016-01-01T00:00:00Z", false, ""},
		// OPTIN; withhold records held (custodian) by one organisation.
		{"notAuthor", "records of that custodian", f001(sct("CST"), "Organization/f001", access), "2016-01-01T00:00:00Z", false, "provision"},
		{"notAuthor", "another custodian", f001(sct("CST"), "Organization/f002", access), "2016-01-01T00:00:00Z", true, "policyRule"},
		// OPTOUT with the custodian as a permit exception under R4 (the
		// narrative means to withhold from it).
		{"Out", "the custodian", f001(sct("CST"), "Organization/f001", access), "2016-01-01T00:00:00Z", true, "provision"},
		{"Out", "anyone else: OPTOUT", f001(sct("CST"), "Organization/f002", access), "2016-01-01T00:00:00Z", false, "policyRule"},
		// OPTOUT; the emergency exception (ETREAT at the custodian) is
		// itself overridden by its nested deny for the same custodian.
		{"Emergency", "emergency treatment at the custodian", with(f001(sct("CST"), "Organization/f001", access), func(r *consent.Request) {
			r.Purpose = etreat
		}), "2016-01-01T00:00:00Z", false, "provision.provision[0]"},
		{"Emergency", "routine treatment: OPTOUT", f001(sct("CST"), "Organization/f001", access), "2016-01-01T00:00:00Z", false, "policyRule"},
		// OPTOUT; read-only access granted to the patient's representative.
		{"grantor", "the representative reads", f001(sct("PRCP"), "Patient/example", access), "2016-01-01T00:00:00Z", true, "provision"},
		{"grantor", "the representative corrects", f001(sct("PRCP"), "Patient/example", correct), "2016-01-01T00:00:00Z", false, "policyRule"},
		// OPTOUT; the organisation may read normal-confidentiality data,
		// except the labels the nested provisions list (normal among them).
		{"pkb", "normal data", with(req("Patient/example", sct("PRCP"), "Organization/f001", access), func(r *consent.Request) {
			r.SecurityLabels = label(conf, "N")
		}), "2016-07-01T00:00:00Z", false, "provision.provision[2]"},
		{"pkb", "restricted data: OPTOUT", with(req("Patient/example", sct("PRCP"), "Organization/f001", access), func(r *consent.Request) {
			r.SecurityLabels = label(conf, "R")
		}), "2016-07-01T00:00:00Z", false, "policyRule"},
		// OPTIN; a deny exception for one recipient during a year, with a
		// permit exception for CDA documents by one author.
		{"signature", "the recipient in the period", req("Patient/72", sct("PRCP"), "Practitioner/13", access), "2016-05-26T12:00:00Z", false, "provision"},
		{"signature", "another recipient", req("Patient/72", sct("PRCP"), "Practitioner/14", access), "2016-05-26T12:00:00Z", true, "policyRule"},
		// OPTIN; during a 30-minute SMART session only MedicationRequests
		// may be read (period ends are inclusive to the second).
		{"smartonfhir", "a MedicationRequest in the session", with(req("Patient/xcda", sct("PRCP"), "RelatedPerson/peter", access), func(r *consent.Request) {
			r.Classes = []adapter.Coding{consent.ResourceClass("MedicationRequest")}
		}), "2016-06-23T07:10:00Z", true, "provision.provision[0]"},
		{"smartonfhir", "an Observation in the session", with(req("Patient/xcda", sct("PRCP"), "RelatedPerson/peter", access), func(r *consent.Request) {
			r.Classes = []adapter.Coding{consent.ResourceClass("Observation")}
		}), "2016-06-23T07:32:33.5Z", false, "provision"},
		{"smartonfhir", "an Observation after the session", with(req("Patient/xcda", sct("PRCP"), "RelatedPerson/peter", access), func(r *consent.Request) {
			r.Classes = []adapter.Coding{consent.ResourceClass("Observation")}
		}), "2016-06-23T07:32:34Z", true, "policyRule"},
	}
	covered := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.example+"/"+tc.name, func(t *testing.T) {
			c, ok := byName[tc.example]
			if !ok {
				t.Fatalf("example %s not loaded", tc.example)
			}
			covered[tc.example] = true
			at, err := time.Parse(time.RFC3339Nano, tc.at)
			if err != nil {
				t.Fatal(err)
			}
			d := consent.Decide([]consent.Consent{c}, tc.req, at)
			wantID := c.ID
			if tc.path == "" {
				wantID = ""
			}
			if d.Permit != tc.permit || d.ProvisionPath != tc.path || d.ConsentID != wantID {
				t.Errorf("got %+v, want permit=%v path=%q", d, tc.permit, tc.path)
			}
		})
	}
	for name := range byName {
		if !covered[name] {
			t.Errorf("example %s has no stated request", name)
		}
	}
}

// Stored Consents are parsed once and then served from the parser's
// cache, keyed by their bytes: the same bytes give the same consent, and a
// withdrawn version (new bytes) is never answered from the active one.
func TestConsentsCachedByContent(t *testing.T) {
	body, err := os.ReadFile("../../fixtures/consent-share-with-link-workers.json")
	if err != nil {
		t.Fatal(err)
	}
	p := newParser(t)
	withdrawn := []byte(strings.Replace(string(body), `"status": "active"`, `"status": "inactive"`, 1))
	if string(withdrawn) == string(body) {
		t.Fatal("fixture status not found")
	}
	for range 3 {
		got := p.Consents("Patient/p1", [][]byte{body, withdrawn, []byte(`{"resourceType":"Consent"`)})
		if len(got) != 2 || got[0].Status != "active" || got[1].Status != "inactive" || got[0].Patient != "Patient/p1" {
			t.Fatalf("consents = %+v", got)
		}
		if got[0].Provision == nil || got[0].Provision.Type != consent.Permit {
			t.Fatalf("cached consent lost its provision: %+v", got[0])
		}
	}
}

// A Consent intake kept is served without parsing its bytes again.
func TestKeptConsentIsNotParsedAgain(t *testing.T) {
	p := newParser(t)
	body := []byte(`{"resourceType":"Consent","id":"kept"}`) // would fail validation
	p.KeepConsent(body, consent.Consent{ID: "kept", Status: "active"})
	got := p.Consents("Patient/p1", [][]byte{body})
	if len(got) != 1 || got[0].ID != "kept" || got[0].Status != "active" {
		t.Fatalf("kept consent = %+v", got)
	}
}

package fhir_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/internal/testfiles"
)

// ReferralFrom reads what routing needs from a referral, and nothing else.
func TestReferralFromFixture(t *testing.T) {
	p := newParser(t)
	res, err := p.Parse(testfiles.Fixture(t, "servicerequest-debt.json"), "ServiceRequest")
	if err != nil {
		t.Fatal(err)
	}
	r, err := fhir.ReferralFrom(res)
	if err != nil {
		t.Fatal(err)
	}
	want := adapter.Referral{
		Identifier: adapter.Identifier{System: "https://fhir.a81001.example.nhs.uk/Id/social-prescribing-referral", Value: "SP-2026-000101"},
		Subject:    "Patient?identifier=" + adapter.SystemNHSNumber + "|9000000009",
		Requester:  "Organization?identifier=" + adapter.SystemODS + "|A81001",
		Codes:      []adapter.Coding{{System: adapter.SystemSNOMED, Code: "871731000000106", Display: "Referral to social prescribing service"}},
		Categories: []adapter.Coding{{System: adapter.SystemSNOMED, Code: "3457005", Display: "Patient referral"}},
		Reasons:    []adapter.Coding{{System: adapter.SystemICD10, Code: "Z59.6", Display: "Low income"}},
		Priority:   adapter.PriorityRoutine,
		AuthoredOn: time.Date(2026, 11, 20, 10, 15, 0, 0, time.UTC),
	}
	if r.Identifier != want.Identifier || r.Subject != want.Subject || r.Requester != want.Requester ||
		!slices.Equal(r.Codes, want.Codes) || !slices.Equal(r.Categories, want.Categories) || !slices.Equal(r.Reasons, want.Reasons) ||
		r.Priority != want.Priority || !r.AuthoredOn.Equal(want.AuthoredOn) || len(r.Performers) != 0 {
		t.Errorf("referral\n%+v\nwant\n%+v", *r, want)
	}
	if r.ID != "" || r.Practice != "" {
		t.Errorf("ReferralFrom set server fields: id %q practice %q", r.ID, r.Practice)
	}

	res, err = p.Parse(testfiles.Fixture(t, "servicerequest-performer.json"), "ServiceRequest")
	if err != nil {
		t.Fatal(err)
	}
	if r, err = fhir.ReferralFrom(res); err != nil || !slices.Equal(r.Performers, []string{"HealthcareService/carers-support"}) {
		t.Errorf("performers %v, %v", r.Performers, err)
	}
}

// The business rules: only an active order about a patient, which is not a
// do-not-perform request, is a referral a service can act on.
func TestReferralFromBusinessRules(t *testing.T) {
	p := newParser(t)
	body := func(status, intent, subject, extra string) string {
		return `{"resourceType":"ServiceRequest","status":"` + status + `","intent":"` + intent + `","subject":` + subject + extra + `}`
	}
	const patient = `{"reference":"Patient/1"}`
	cases := []struct {
		name, body string
		expr       string // "" when accepted
	}{
		{"active order", body("active", "order", patient, ""), ""},
		{"original order", body("active", "original-order", patient, ""), ""},
		{"reflex order", body("active", "reflex-order", patient, ""), ""},
		{"filler order", body("active", "filler-order", patient, ""), ""},
		{"instance order", body("active", "instance-order", patient, ""), ""},
		{"doNotPerform false", body("active", "order", patient, `,"doNotPerform":false`), ""},
		{"absolute patient reference", body("active", "order", `{"reference":"https://ehr.example/fhir/Patient/1"}`, ""), ""},
		{"patient by identifier", body("active", "order", `{"type":"Patient","identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000009"}}`, ""), ""},
		{"patient in the transaction", body("active", "order", `{"reference":"urn:uuid:2f1c6b2e-4a59-4c1e-9a51-1f0d7c3b5e01"}`, ""), ""},
		{"draft", body("draft", "order", patient, ""), "ServiceRequest.status"},
		{"on hold", body("on-hold", "order", patient, ""), "ServiceRequest.status"},
		{"revoked", body("revoked", "order", patient, ""), "ServiceRequest.status"},
		{"completed", body("completed", "order", patient, ""), "ServiceRequest.status"},
		{"entered in error", body("entered-in-error", "order", patient, ""), "ServiceRequest.status"},
		{"unknown status", body("unknown", "order", patient, ""), "ServiceRequest.status"},
		{"proposal", body("active", "proposal", patient, ""), "ServiceRequest.intent"},
		{"plan (NHS BaRS)", body("active", "plan", patient, ""), ""},
		{"original order", body("active", "original-order", patient, ""), ""},
		{"directive", body("active", "directive", patient, ""), "ServiceRequest.intent"},
		{"option", body("active", "option", patient, ""), "ServiceRequest.intent"},
		{"do not perform", body("active", "order", patient, `,"doNotPerform":true`), "ServiceRequest.doNotPerform"},
		{"subject a group", body("active", "order", `{"reference":"Group/1"}`, ""), "ServiceRequest.subject"},
		{"subject a location", body("active", "order", `{"reference":"Location/1"}`, ""), "ServiceRequest.subject"},
		{"subject a device", body("active", "order", `{"reference":"Device/1"}`, ""), "ServiceRequest.subject"},
		{"subject identifier of no type", body("active", "order", `{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000009"}}`, ""), "ServiceRequest.subject"},
		{"subject contained", body("active", "order", `{"reference":"#p1"}`, `,"contained":[{"resourceType":"Patient","id":"p1"}]`), "ServiceRequest.subject"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := p.Parse([]byte(c.body), "ServiceRequest")
			if err != nil {
				t.Fatalf("does not parse: %v", err)
			}
			r, err := fhir.ReferralFrom(res)
			if c.expr == "" {
				if err != nil || r == nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			wantError(t, err, adapter.EBUSINESSRULE, c.expr)
		})
	}
}

func TestReferralFromOtherResource(t *testing.T) {
	p := newParser(t)
	res, err := p.Parse(testfiles.Fixture(t, "consent-share-with-link-workers.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = fhir.ReferralFrom(res)
	wantError(t, err, adapter.EINVALID, "resourceType")
}

// A Consent is summarised for indexing, and must name its patient.
func TestConsentSummaryFrom(t *testing.T) {
	p := newParser(t)
	res, err := p.Parse(testfiles.Fixture(t, "consent-share-with-link-workers.json"), "Consent")
	if err != nil {
		t.Fatal(err)
	}
	s, err := fhir.ConsentSummaryFrom(res)
	if err != nil {
		t.Fatal(err)
	}
	id := adapter.Identifier{System: "https://fhir.a81001.example.nhs.uk/Id/consent", Value: "CON-2026-000101"}
	want := fhir.ConsentSummary{
		Identifier:  id,
		Identifiers: []adapter.Identifier{id},
		Patient:     "Patient?identifier=" + adapter.SystemNHSNumber + "|9000000009",
		Status:      "active",
	}
	if !reflect.DeepEqual(*s, want) {
		t.Errorf("summary %+v, want %+v", *s, want)
	}
	noPatient := `{"resourceType":"Consent","status":"active","scope":{"text":"x"},"category":[{"text":"y"}]}`
	if res, err = p.Parse([]byte(noPatient), "Consent"); err != nil {
		t.Fatal(err)
	}
	_, err = fhir.ConsentSummaryFrom(res)
	wantError(t, err, adapter.EBUSINESSRULE, "Consent.patient")
}

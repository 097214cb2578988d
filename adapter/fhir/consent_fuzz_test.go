package fhir_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/consent"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// FuzzConsentEngine feeds arbitrary bytes through Consent parsing, the
// conversion to the engine's values and a disclosure decision: it never
// panics, bad input is a client error, and a decision is deterministic and
// explains itself.
func FuzzConsentEngine(f *testing.F) {
	for _, g := range []string{"../../fixtures/consent-*.json", "../../../shared/fhir-r4-examples/Consent*.json"} {
		files, _ := filepath.Glob(g)
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	p, err := fhir.NewParser()
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	req := consent.Request{
		Patient: "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009",
		Actor: consent.RequestActor{Role: adapter.Coding{System: "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", Code: "IRCP"},
			Reference: "Organization?identifier=https://fhir.nhs.uk/Id/ods-organization-code|A81001"},
		Action:  adapter.Coding{System: "http://terminology.hl7.org/CodeSystem/consentaction", Code: "disclose"},
		Purpose: adapter.Coding{System: "http://terminology.hl7.org/CodeSystem/v3-ActReason", Code: "TREAT"},
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := p.Parse(body, "Consent")
		if err != nil {
			mustBeClientError(t, err)
			return
		}
		c, err := fhir.ConsentFrom(res)
		if err != nil {
			mustBeClientError(t, err)
			return
		}
		d1 := consent.Decide([]consent.Consent{c}, req, now)
		d2 := consent.Decide([]consent.Consent{c}, req, now)
		if d1 != d2 {
			t.Fatalf("decision not deterministic: %+v vs %+v", d1, d2)
		}
		if d1.Permit && d1.ConsentID == "" && c.ID != "" {
			t.Fatalf("a permit must name the consent that gave it: %+v", d1)
		}
	})
}

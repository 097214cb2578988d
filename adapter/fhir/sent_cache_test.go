package fhir

import (
	"bytes"
	"os"
	"testing"
)

// A Consent a practice sends again byte for byte is answered from memory;
// another practice's, other bytes, anything invalid and other resource
// types are parsed and validated as before (issue 22).
func TestParseSentKeepsOnlyValidatedConsents(t *testing.T) {
	p, err := NewParser()
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile("../../fixtures/consent-share-with-link-workers.json")
	if err != nil {
		t.Fatal(err)
	}
	first, err := p.ParseSent(body, "A81001", "Consent")
	if err != nil {
		t.Fatal(err)
	}
	body[0] = ' ' // the caller's buffer, reused: what was kept is a copy
	again, err := p.ParseSent(bytes.Clone(first.Raw), "A81001", "Consent")
	if err != nil || again != first {
		t.Fatalf("the same bytes again: %p %v, want the kept %p", again, err, first)
	}
	if other, err := p.ParseSent(first.Raw, "B82002", "Consent"); err != nil || other == first {
		t.Errorf("another practice's: %p %v, want a parse of its own", other, err)
	}
	if got, err := p.ParseSent(first.Raw, "A81001", "ServiceRequest"); err == nil {
		t.Errorf("a Consent where a ServiceRequest is wanted: %v", got.Type)
	}
	bad := bytes.Replace(first.Raw, []byte(`"active"`), []byte(`"sunny"`), 1) // its status
	if bytes.Equal(bad, first.Raw) {
		t.Fatal("test body has no active status")
	}
	for range 2 {
		if _, err := p.ParseSent(bad, "A81001", "Consent"); err == nil {
			t.Fatal("an invalid Consent accepted")
		}
	}
	if p.sent.Len() != 2 {
		t.Errorf("%d kept, want the two practices' valid Consent", p.sent.Len())
	}
}

// BenchmarkParseSentConsent is a Consent sent again with each referral:
// parsed and validated every time ("parse") or recognised ("resent").
func BenchmarkParseSentConsent(b *testing.B) {
	p, err := NewParser()
	if err != nil {
		b.Fatal(err)
	}
	body, err := os.ReadFile("../../fixtures/consent-share-with-link-workers.json")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.Parse(body, "Consent"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("resent", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.ParseSent(body, "A81001", "Consent"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

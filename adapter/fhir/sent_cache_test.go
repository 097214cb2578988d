package fhir

import (
	"bytes"
	"os"
	"reflect"
	"testing"
)

// A Consent a practice sends again byte for byte is answered from memory,
// as parsing it would; another practice's, other bytes and anything
// invalid are parsed and validated as before (issue 22).
func TestParseSentConsentKeepsOnlyValidatedConsents(t *testing.T) {
	p, err := NewParser()
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile("../../fixtures/consent-share-with-link-workers.json")
	if err != nil {
		t.Fatal(err)
	}
	res, sum, eng, err := p.ParseSentConsent(bytes.Clone(body), "A81001")
	if err != nil || res.Msg == nil {
		t.Fatalf("first: %v, %v", res, err)
	}
	again, sum2, eng2, err := p.ParseSentConsent(body, "A81001")
	if err != nil || again.Msg != nil || !bytes.Equal(again.Raw, body) || again.Type != "Consent" {
		t.Fatalf("the same bytes again: %+v, %v: want the kept reading, not a parse", again, err)
	}
	if !reflect.DeepEqual(sum2, sum) || !reflect.DeepEqual(eng2, eng) {
		t.Errorf("kept %+v %+v, parsed %+v %+v", sum2, eng2, sum, eng)
	}
	if other, _, _, err := p.ParseSentConsent(body, "B82002"); err != nil || other.Msg == nil {
		t.Errorf("another practice's: %v, want a parse of its own", err)
	}
	bad := bytes.Replace(body, []byte(`"active"`), []byte(`"sunny"`), 1) // its status
	if bytes.Equal(bad, body) {
		t.Fatal("test body has no active status")
	}
	for range 2 {
		if _, _, _, err := p.ParseSentConsent(bad, "A81001"); err == nil {
			t.Fatal("an invalid Consent accepted")
		}
	}
	if _, _, _, err := p.ParseSentConsent(testServiceRequest(t), "A81001"); err == nil {
		t.Error("a ServiceRequest taken for a Consent")
	}
	if p.sent.Len() != 2 {
		t.Errorf("%d kept, want the two practices' valid Consent", p.sent.Len())
	}
}

func testServiceRequest(t testing.TB) []byte {
	b, err := os.ReadFile("../../fixtures/servicerequest-debt.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
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
			res, err := p.Parse(body, "Consent")
			if err != nil {
				b.Fatal(err)
			}
			if _, err := ConsentSummaryFrom(res); err != nil {
				b.Fatal(err)
			}
			if _, err := ConsentFrom(res); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("resent", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, _, err := p.ParseSentConsent(body, "A81001"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

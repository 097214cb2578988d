package fhir_test

import (
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/internal/testfiles"
)

// BenchmarkParseServiceRequest is the intake hot path's FHIR step: strict
// JSON checks, google/fhir/go R4 unmarshal and validation, and the
// reduction to the domain referral that routing reads.
func BenchmarkParseServiceRequest(b *testing.B) {
	p, err := fhir.NewParser()
	if err != nil {
		b.Fatal(err)
	}
	body := testfiles.Fixture(b, "servicerequest-debt.json")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := p.Parse(body, "ServiceRequest")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := fhir.ReferralFrom(res); err != nil {
			b.Fatal(err)
		}
	}
}

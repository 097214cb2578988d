package main

import (
	"testing"

	"github.com/google/fhir/go/fhirversion"
	"github.com/google/fhir/go/jsonformat"
)

// BenchmarkParseFloor is the floor the FHIR library sets under intake's
// cost (issue 22): google/fhir/go's unmarshal with validation, and nothing
// else, of one referral and its patient's Consent as the load generator
// sends them. scripts/bench prints the adapter's server CPU per referral
// as a multiple of it.
func BenchmarkParseFloor(b *testing.B) {
	u, err := jsonformat.NewUnmarshaller("UTC", fhirversion.R4)
	if err != nil {
		b.Fatal(err)
	}
	type pair struct{ sr, consent []byte }
	pairs := make([]pair, 64)
	for i := range pairs {
		sr, nhs := referralFor("floor")
		pairs[i] = pair{sr, consentFor("floor", nhs)}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		p := pairs[i%len(pairs)]
		if _, err := u.Unmarshal(p.sr); err != nil {
			b.Fatal(err)
		}
		if _, err := u.Unmarshal(p.consent); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "us/referral")
}

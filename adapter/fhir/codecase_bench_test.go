package fhir

import (
	"testing"

	"github.com/tidwall/gjson"

	"github.com/social-prescribing/referral-adapter/internal/testfiles"
)

// BenchmarkCodeCase is the code-case walk of a parsed referral and its
// Consent (issue 22), on its own.
func BenchmarkCodeCase(b *testing.B) {
	p, err := NewParser()
	if err != nil {
		b.Fatal(err)
	}
	var res []*Resource
	for _, f := range []string{"servicerequest-debt.json", "consent-share-with-link-workers.json"} {
		r, err := p.Parse(testfiles.Fixture(b, f))
		if err != nil {
			b.Fatal(err)
		}
		res = append(res, r)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range res {
			if issues := checkCodeCase(r.Type, gjson.ParseBytes(r.Raw)); len(issues) > 0 {
				b.Fatal(issues[0])
			}
		}
	}
}

// BenchmarkOwnChecks is each of the parse path's own checks of a referral
// and its Consent, on its own (issue 22): the invariant walk
// (invariants.go) and the strict JSON scan (strict.go).
func BenchmarkOwnChecks(b *testing.B) {
	bodies := map[string][]byte{
		"ServiceRequest": testfiles.Fixture(b, "servicerequest-debt.json"),
		"Consent":        testfiles.Fixture(b, "consent-share-with-link-workers.json"),
	}
	checks := map[string]func(rt string, body []byte) error{
		"invariants": func(rt string, body []byte) error {
			if errs := checkInvariants(rt, body); len(errs) > 0 {
				return errs[0]
			}
			return nil
		},
		"strict": func(_ string, body []byte) error {
			_, err := checkStrict(body)
			return err
		},
	}
	for name, check := range checks {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for rt, body := range bodies {
					if err := check(rt, body); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

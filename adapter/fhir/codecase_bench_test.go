package fhir

import (
	"testing"

	"github.com/tidwall/gjson"

	"github.com/social-prescribing/referral-adapter/adapter"
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
			var issues []*adapter.Error
			visitCode(r.Msg.ProtoReflect(), gjson.ParseBytes(r.Raw), &codePath{name: r.Type, index: -1}, &issues)
			if len(issues) > 0 {
				b.Fatal(issues[0])
			}
		}
	}
}

// BenchmarkInvariants is the invariant walk (invariants.go) of a referral
// and its Consent, on its own (issue 22).
func BenchmarkInvariants(b *testing.B) {
	bodies := benchBodies(b)
	b.ReportAllocs()
	for b.Loop() {
		for rt, body := range bodies {
			if errs := checkInvariants(rt, body); len(errs) > 0 {
				b.Fatal(errs[0])
			}
		}
	}
}

// BenchmarkStrict is the strict JSON scan (strict.go) of a referral and
// its Consent, on its own (issue 22).
func BenchmarkStrict(b *testing.B) {
	bodies := benchBodies(b)
	b.ReportAllocs()
	for b.Loop() {
		for _, body := range bodies {
			if _, err := checkStrict(body); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func benchBodies(b *testing.B) map[string][]byte {
	return map[string][]byte{
		"ServiceRequest": testfiles.Fixture(b, "servicerequest-debt.json"),
		"Consent":        testfiles.Fixture(b, "consent-share-with-link-workers.json"),
	}
}

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

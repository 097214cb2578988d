package routing_test

import (
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/routing"
	"github.com/social-prescribing/referral-adapter/mappings"
)

// BenchmarkRoute is one routing decision over the default mappings for a
// mix of the fixtures' needs (pure: no capacity, no I/O).
func BenchmarkRoute(b *testing.B) {
	m, err := routing.Load(mappings.Default, "mappings")
	if err != nil {
		b.Fatal(err)
	}
	var refs []*adapter.Referral
	for _, name := range []string{"servicerequest-debt.json", "servicerequest-housing-urgent.json", "servicerequest-loneliness.json", "servicerequest-general.json"} {
		refs = append(refs, fixtureReferral(b, name))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := m.Route(refs[i%len(refs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

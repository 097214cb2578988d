package consent

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkDecide measures one decision over a patient's consents: a
// realistic handful (one disclosure consent with nested exceptions plus
// older ones) and a pathological fifty random deep consents.
func BenchmarkDecide(b *testing.B) {
	typical := []Consent{
		active("intake", day(2025, 11, 20), &Provision{Type: Permit, Period: Period{Start: day(2025, 11, 20), End: day(2027, 11, 21)},
			Actions: codings(ActionDisclose), Purposes: codings(PurposeTreat), Actors: []Actor{actor(ircp, network)}}),
		active("feedback", day(2026, 2, 1), &Provision{Type: Permit, Actions: codings(ActionDisclose), Provisions: []Provision{
			{Actors: []Actor{actor(ircp, vcse)}},
			{SecurityLabels: codings(labelPSY, labelETH), Provisions: []Provision{{Actors: []Actor{actor(ircp, gp)}, SecurityLabels: codings(labelPSY)}}},
			{Codes: codings(housing)},
		}}),
		active("old", day(2024, 1, 1), &Provision{Type: Deny}),
	}
	g := gen{rand.New(rand.NewPCG(1, 2))}
	var many []Consent
	for len(many) < 50 {
		many = append(many, g.consents()...)
	}
	many = many[:50]
	req := with(toGP(), func(r *Request) { r.SecurityLabels = codings(labelPSY) })
	for _, bc := range []struct {
		name string
		cs   []Consent
	}{{"typical-3", typical}, {"random-50", many}} {
		b.Run(bc.name, func(b *testing.B) {
			var permits int
			for b.Loop() {
				if Decide(bc.cs, req, now).Permit {
					permits++
				}
			}
			b.ReportMetric(float64(permits)/float64(b.N), "permit-ratio")
			_ = fmt.Sprint(permits)
		})
	}
}

package fhir_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// A closure summary is a valid Communication; each reader gets it without
// the parts withheld from them, marked REDACTED, and whole otherwise.
func TestClosureSummaryFor(t *testing.T) {
	body, err := fhir.ClosureSummary(fhir.ClosureFacts{ID: "c1", TaskID: "t1", ReferralID: "t1",
		Patient: "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009", Practice: "A81001", HolderOrg: "X1V01",
		Text: "ended", Summary: "the summary", Outcomes: []string{"Observation/o1", "Goal/g1"}, Sender: "Citizens Advice",
		Sent: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := fhir.NewParser()
	if _, err := p.Parse(body, "Communication"); err != nil {
		t.Fatalf("not a valid Communication: %v\n%s", err, body)
	}
	read := func(b []byte) (parts []string, security []string) {
		var c struct {
			Payload []struct {
				ContentString    string
				ContentReference struct{ Reference string }
			}
			Meta struct{ Security []struct{ Code string } }
		}
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		for _, x := range c.Payload {
			parts = append(parts, x.ContentString+x.ContentReference.Reference)
		}
		for _, s := range c.Meta.Security {
			security = append(security, s.Code)
		}
		return parts, security
	}
	onlyObs := func(ref string) bool { return ref == "Observation/o1" }
	for _, tc := range []struct {
		name        string
		keepSummary bool
		keepRef     func(string) bool
		want        []string
		redacted    bool
	}{
		{"all", true, func(string) bool { return true }, []string{"ended", "the summary", "Observation/o1", "Goal/g1"}, false},
		{"no summary, one outcome", false, onlyObs, []string{"ended", "Observation/o1"}, true},
		{"summary, no outcome", true, func(string) bool { return false }, []string{"ended", "the summary"}, true},
	} {
		out, err := fhir.ClosureFor(body, true, tc.keepSummary, tc.keepRef)
		if err != nil {
			t.Fatal(err)
		}
		parts, sec := read(out)
		if !slices.Equal(parts, tc.want) || slices.Contains(sec, "REDACTED") != tc.redacted {
			t.Errorf("%s: %v %v", tc.name, parts, sec)
		}
		if _, err := p.Parse(out, "Communication"); err != nil {
			t.Errorf("%s: not valid: %v", tc.name, err)
		}
	}
	// Without a summary, the second payload is an outcome, never taken for one.
	plain, _ := fhir.ClosureSummary(fhir.ClosureFacts{ID: "c2", TaskID: "t1", ReferralID: "t1", Practice: "A81001", HolderOrg: "X1V01",
		Text: "ended", Outcomes: []string{"Observation/o1"}, Sent: time.Now()})
	out, _ := fhir.ClosureFor(plain, false, false, func(string) bool { return true })
	if parts, _ := read(out); !slices.Equal(parts, []string{"ended", "Observation/o1"}) {
		t.Errorf("without a summary: %v", parts)
	}
}

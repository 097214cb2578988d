package fhir_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/internal/testfiles"
)

// A wellbeing score is read from an outcome Observation by its measure
// code, value and own date (issue 20): the fixtures' SWEMWBS and ONS4;
// a decimal quantity; issued or effectivePeriod when there is no
// effectiveDateTime; nothing for a preliminary or undated one or another
// observation; EVALUE outside the measure's range.
func TestWellbeingScoreFrom(t *testing.T) {
	p := newParser(t)
	read := func(body []byte) (*adapter.WellbeingScore, error) {
		t.Helper()
		res, err := p.Parse(body, "Observation")
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		return fhir.WellbeingScoreFrom(res)
	}
	edit := func(file string, set map[string]any) []byte {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal(testfiles.Fixture(t, file), &m); err != nil {
			t.Fatal(err)
		}
		for k, v := range set {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		b, _ := json.Marshal(m)
		return b
	}
	at := time.Date(2026, 11, 21, 14, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		body []byte
		want *adapter.WellbeingScore
	}{
		{"SWEMWBS fixture", testfiles.Fixture(t, "observation-swemwbs.json"), &adapter.WellbeingScore{Measure: "swemwbs", Value: 19, At: at}},
		{"ONS4 fixture", testfiles.Fixture(t, "observation-ons4-life-satisfaction.json"), &adapter.WellbeingScore{Measure: "ons4-life-satisfaction", Value: 4, At: at}},
		{"metric score as a quantity", edit("observation-swemwbs.json", map[string]any{"valueInteger": nil, "valueQuantity": map[string]any{"value": 23.21}}),
			&adapter.WellbeingScore{Measure: "swemwbs", Value: 23.21, At: at}},
		{"issued when no effective time", edit("observation-swemwbs.json", map[string]any{"effectiveDateTime": nil, "issued": "2026-10-01T09:30:00+01:00"}),
			&adapter.WellbeingScore{Measure: "swemwbs", Value: 19, At: time.Date(2026, 10, 1, 8, 30, 0, 0, time.UTC)}},
		{"effectivePeriod start", edit("observation-swemwbs.json", map[string]any{"effectiveDateTime": nil, "effectivePeriod": map[string]any{"start": "2026-09-02"}, "issued": "2026-10-01T09:30:00Z"}),
			&adapter.WellbeingScore{Measure: "swemwbs", Value: 19, At: time.Date(2026, 9, 2, 0, 0, 0, 0, time.UTC)}},
		{"preliminary", edit("observation-swemwbs.json", map[string]any{"status": "preliminary"}), nil},
		{"no date at all", edit("observation-swemwbs.json", map[string]any{"effectiveDateTime": nil}), nil},
		{"no value", edit("observation-swemwbs.json", map[string]any{"valueInteger": nil, "dataAbsentReason": map[string]any{"text": "declined"}}), nil},
		{"not a wellbeing measure", edit("observation-swemwbs.json", map[string]any{"code": map[string]any{"text": "mood"}}), nil},
	} {
		got, err := read(c.body)
		switch {
		case err != nil:
			t.Errorf("%s: %v", c.name, err)
		case (got == nil) != (c.want == nil) || got != nil && (got.Measure != c.want.Measure || got.Value != c.want.Value || !got.At.Equal(c.want.At)):
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
	_, err := read(edit("observation-swemwbs.json", map[string]any{"valueInteger": 36}))
	wantError(t, err, adapter.EVALUE, "Observation.valueInteger")
	_, err = read(edit("observation-ons4-life-satisfaction.json", map[string]any{"valueInteger": nil, "valueQuantity": map[string]any{"value": 10.5}}))
	wantError(t, err, adapter.EVALUE, "Observation.valueQuantity.value")
}

package fhir_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/internal/testfiles"
)

// A VCSE provider's Patient: name, contact routes, preferred contact and
// language; nothing clinical, no date of birth, no GP, no identifier but
// the NHS number, no extension but contact preference and language; marked
// REDACTED. Still a valid Patient.
func TestPatientMinimum(t *testing.T) {
	full := withMembers(t, testfiles.Fixture(t, "patient.json"), map[string]any{
		"identifier": []any{map[string]any{"system": "https://fhir.example.nhs.uk/Id/local", "value": "L1"},
			map[string]any{"system": adapter.SystemNHSNumber, "value": "9000000009"}},
		"extension": []any{
			map[string]any{"url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory", "valueString": "x"},
			map[string]any{"url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-ContactPreference", "valueString": "phone after 4pm"}},
		"maritalStatus": map[string]any{"text": "Widowed"},
		"contact":       []any{map[string]any{"name": map[string]any{"family": "Relative"}}},
	})
	min, err := fhir.PatientMinimum(full)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(min, &got); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"address", "communication", "extension", "identifier", "meta", "name", "resourceType", "telecom"}; !slices.Equal(keys, want) {
		t.Errorf("elements %v, want %v", keys, want)
	}
	if ids := got["identifier"].([]any); len(ids) != 1 || ids[0].(map[string]any)["system"] != adapter.SystemNHSNumber {
		t.Errorf("identifiers %v", ids)
	}
	if ext := got["extension"].([]any); len(ext) != 1 || ext[0].(map[string]any)["url"] != "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-ContactPreference" {
		t.Errorf("extensions %v", ext)
	}
	sec := got["meta"].(map[string]any)["security"].([]any)
	if len(sec) != 1 || sec[0].(map[string]any)["code"] != "REDACTED" {
		t.Errorf("security %v", sec)
	}
	p, err := fhir.NewParser()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Parse(min, "Patient"); err != nil {
		t.Errorf("the minimum Patient is not valid: %v", err)
	}
	// Nothing to remove: as it was, not marked.
	again, err := fhir.PatientMinimum(withMembers(t, min, map[string]any{"meta": map[string]any{}}))
	if err != nil || !json.Valid(again) {
		t.Fatal(err)
	}
	var m struct{ Meta struct{ Security []any } }
	_ = json.Unmarshal(again, &m)
	if len(m.Meta.Security) != 0 {
		t.Errorf("a Patient with nothing to withhold is marked: %s", again)
	}
}

// A stored Patient's facts: its NHS number before other identifiers, its
// labels, when it came, whether it carries a way to reach the patient.
func TestReadStoredPatient(t *testing.T) {
	body := withMembers(t, testfiles.Fixture(t, "patient.json"), map[string]any{
		"identifier": []any{map[string]any{"system": "https://fhir.example.nhs.uk/Id/local", "value": "L1"},
			map[string]any{"system": adapter.SystemNHSNumber, "value": "9000000009"}},
		"meta": map[string]any{"lastUpdated": "2026-11-20T10:15:00.000Z", "security": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}}},
	})
	f := fhir.ReadStoredPatient(body)
	if f.Identifier != (adapter.Identifier{System: adapter.SystemNHSNumber, Value: "9000000009"}) || !f.Contact ||
		len(f.Labels) != 1 || f.Labels[0].Code != "R" || !f.Received.Equal(time.Date(2026, 11, 20, 10, 15, 0, 0, time.UTC)) {
		t.Errorf("%+v", f)
	}
	bare := withMembers(t, body, map[string]any{"telecom": nil, "address": nil, "identifier": nil})
	if f := fhir.ReadStoredPatient(bare); f.Contact || !f.Identifier.IsZero() {
		t.Errorf("no contact routes, no identifier: %+v", f)
	}
	// Conditional create uses the same identifier.
	p, _ := fhir.NewParser()
	res, err := p.Parse(body, "Patient")
	if err != nil {
		t.Fatal(err)
	}
	if id := fhir.PatientIdentifier(res); id.System != adapter.SystemNHSNumber {
		t.Errorf("created under %v, want the NHS number", id)
	}
}

func withMembers(t *testing.T, doc []byte, set map[string]any) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range set {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A Patient carries one NHS number: two different ones are refused,
// naming the second; the same one written twice is not.
func TestOneNHSNumber(t *testing.T) {
	nhs := func(vs ...string) []byte {
		var ids []string
		for _, v := range vs {
			ids = append(ids, `{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"`+v+`"}`)
		}
		return []byte(`{"resourceType":"Patient","identifier":[{"system":"https://example.org/mrn","value":"x"},` + strings.Join(ids, ",") + `]}`)
	}
	if err := fhir.OneNHSNumber(nhs("9000000009")); err != nil {
		t.Errorf("one: %v", err)
	}
	if err := fhir.OneNHSNumber(nhs("9000000009", "9000000009")); err != nil {
		t.Errorf("the same twice: %v", err)
	}
	err := fhir.OneNHSNumber(nhs("9000000009", "9000000017"))
	var e *adapter.Error
	if !errors.As(err, &e) || e.Code != adapter.EBUSINESSRULE || len(e.Expression) != 1 || e.Expression[0] != "Patient.identifier[2]" {
		t.Errorf("two: %v", err)
	}
}

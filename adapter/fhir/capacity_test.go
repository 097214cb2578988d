package fhir_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

func TestPatientFactsFrom(t *testing.T) {
	p, err := fhir.NewParser()
	if err != nil {
		t.Fatal(err)
	}
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	cases := []struct {
		name, body  string
		first, last time.Time
		district    string
	}{
		{"day", `{"resourceType":"Patient","birthDate":"1958-03-14","address":[{"postalCode":"LS6 1AA"}]}`, day("1958-03-14"), day("1958-03-14"), "LS6"},
		{"month", `{"resourceType":"Patient","birthDate":"2000-02"}`, day("2000-02-01"), day("2000-02-29"), ""},
		{"year", `{"resourceType":"Patient","birthDate":"1990"}`, day("1990-01-01"), day("1990-12-31"), ""},
		{"home address first", `{"resourceType":"Patient","address":[{"use":"work","postalCode":"LS1 4AP"},{"use":"home","postalCode":"ls7 3ab"}]}`, time.Time{}, time.Time{}, "LS7"},
		{"nothing", `{"resourceType":"Patient"}`, time.Time{}, time.Time{}, ""},
	}
	for _, c := range cases {
		res, err := p.Parse([]byte(c.body), "Patient")
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		f := fhir.PatientFactsFrom(res)
		if !f.BornEarliest.Equal(c.first) || !f.BornLatest.Equal(c.last) || f.District != c.district {
			t.Errorf("%s: %+v", c.name, f)
		}
	}
}

// The capacity status renders as the Gravity STU 3 complex extension, and
// the HealthcareService stays valid FHIR R4.
func TestHealthcareServiceCapacityExtension(t *testing.T) {
	r, err := fhir.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	svc := &adapter.Service{ID: "money-advice", Name: "Advice", ProvidedBy: adapter.Organization{ODS: "X1V01", Name: "CA"}}
	body, err := r.HealthcareService(svc, &fhir.CapacityView{Code: adapter.GravityWaitlist,
		Display: adapter.GravityDisplay(adapter.GravityWaitlist), Note: "12 waiting, estimated wait 21 days"})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := fhir.NewParser()
	if _, err := p.Parse(body, "HealthcareService"); err != nil {
		t.Fatalf("rendered HealthcareService does not parse: %v", err)
	}
	var hs struct {
		Extension []struct {
			URL       string `json:"url"`
			Extension []struct {
				URL                  string `json:"url"`
				ValueString          string `json:"valueString"`
				ValueCodeableConcept struct {
					Coding []adapter.Coding `json:"coding"`
				} `json:"valueCodeableConcept"`
			} `json:"extension"`
		} `json:"extension"`
	}
	if err := json.Unmarshal(body, &hs); err != nil || len(hs.Extension) != 1 {
		t.Fatalf("%s", body)
	}
	ext := hs.Extension[0]
	if ext.URL != fhir.ExtCapacityStatus || len(ext.Extension) != 2 {
		t.Fatalf("extension %+v", ext)
	}
	status, notes := ext.Extension[0], ext.Extension[1]
	want := adapter.Coding{System: fhir.SystemSDOHCCTemp, Code: "waitlist", Display: "No Capacity - Has Waitlist"}
	if status.URL != "capacityStatus" || len(status.ValueCodeableConcept.Coding) != 1 || status.ValueCodeableConcept.Coding[0] != want {
		t.Errorf("capacityStatus %+v", status)
	}
	if notes.URL != "capacityNotes" || notes.ValueString != "12 waiting, estimated wait 21 days" {
		t.Errorf("capacityNotes %+v", notes)
	}
	plain, _ := r.HealthcareService(svc, nil)
	var bare map[string]any
	_ = json.Unmarshal(plain, &bare)
	if bare["extension"] != nil {
		t.Errorf("extension without a capacity: %s", plain)
	}
}

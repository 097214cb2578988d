package fhir

import (
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// Security label marking a resource from which content was withheld.
const (
	SystemObservationValue = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"
	CodeRedacted           = "REDACTED"
)

// clinicalNarrative are the ServiceRequest elements that carry the GP's
// clinical narrative or links into the clinical record, rather than what a
// service needs to contact and help the patient.
var clinicalNarrative = []string{"note", "supportingInfo", "relevantHistory", "reasonReference", "specimen", "bodySite", "insurance"}

// MinimumNecessary returns a ServiceRequest without the clinical narrative,
// for parties that need the reason for referral and how to reach the
// patient but not the GP's notes. When anything was removed the resource
// carries the REDACTED security label, so the reader knows.
func MinimumNecessary(sr []byte) ([]byte, error) {
	out := sr
	removed := false
	for _, el := range clinicalNarrative {
		if !gjson.GetBytes(out, el).Exists() {
			continue
		}
		var err error
		if out, err = sjson.DeleteBytes(out, el); err != nil {
			return nil, err
		}
		removed = true
	}
	if !removed {
		return out, nil
	}
	return sjson.SetBytes(out, "meta.security.-1", map[string]string{
		"system": SystemObservationValue, "code": CodeRedacted, "display": "redacted"})
}

package main

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"sync/atomic"

	"github.com/google/uuid"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// need is one referral reason from the default mappings.
type need struct{ system, code, display string }

var needs = []need{
	{"http://hl7.org/fhir/sid/icd-10", "Z59.6", "Low income"},
	{"http://hl7.org/fhir/sid/icd-10", "Z59.0", "Homelessness"},
	{"http://snomed.info/sct", "422650009", "Social isolation"},
	{"http://hl7.org/fhir/sid/icd-10", "Z56.0", "Unemployment, unspecified"},
	{"http://hl7.org/fhir/sid/icd-10", "Z73.3", "Stress, not elsewhere classified"},
	{"http://hl7.org/fhir/sid/icd-10", "Z63.6", "Dependent relative needing care at home"},
	{"http://hl7.org/fhir/sid/icd-10", "Z72.3", "Lack of physical exercise"},
	{"", "", ""}, // generic referral to social prescribing
}

// seq numbers each run's referrals and patients. It starts at a random
// point so that runs against the same store use new patients, as a day of
// real referrals would, instead of piling consents and referrals onto the
// same few thousand.
var seq = func() *atomic.Int64 {
	s := new(atomic.Int64)
	s.Store(rand.Int64N(90_000_000))
	return s
}()

// referral returns a synthetic ServiceRequest with a unique identifier and
// a synthetic NHS number.
func referral(run string) []byte {
	b, _ := referralFor(run)
	return b
}

// Slots the templates leave for what differs from one referral to the next.
const (
	slotID  = "@@ID@@"
	slotNHS = "@@NHS@@"
)

// fill puts the identifier value and NHS number into a template: the
// generator must cost little beside the adapter it measures (encoding each
// body afresh took a fifth of its CPU).
func fill(tpl []byte, id, nhs string) []byte {
	return bytes.ReplaceAll(bytes.ReplaceAll(tpl, []byte(slotID), []byte(id)), []byte(slotNHS), []byte(nhs))
}

// referralTemplates holds a synthetic ServiceRequest for each need, routine
// (three in four) or urgent.
var referralTemplates = func() [][]byte {
	var out [][]byte
	for _, pri := range []string{"routine", "routine", "routine", "urgent"} {
		for _, nd := range needs {
			sr := map[string]any{
				"resourceType": "ServiceRequest",
				"identifier":   []any{map[string]any{"system": "https://loadgen.example/Id/referral", "value": slotID}},
				"status":       "active", "intent": "order", "priority": pri,
				"code": map[string]any{"coding": []any{map[string]any{"system": "http://snomed.info/sct", "code": "871731000000106",
					"display": "Referral to social prescribing service"}}},
				"subject":    map[string]any{"type": "Patient", "identifier": map[string]any{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": slotNHS}},
				"authoredOn": "2026-11-20T10:15:00+00:00",
			}
			if nd.code != "" {
				sr["reasonCode"] = []any{map[string]any{"coding": []any{map[string]any{"system": nd.system, "code": nd.code, "display": nd.display}}}}
			}
			b, _ := json.Marshal(sr)
			out = append(out, b)
		}
	}
	return out
}()

// referralFor returns a synthetic referral and its patient's NHS number.
func referralFor(run string) ([]byte, string) {
	n := seq.Add(1)
	nhs := nhsNumber(n)
	tpl := referralTemplates[rand.IntN(len(referralTemplates))]
	return fill(tpl, run+"-"+strconv.FormatInt(n, 10), nhs), nhs
}

// consentTemplate is the patient's consent to disclose to the network's
// social prescribing service, as a practice sends it before or with a
// referral.
var consentTemplate = func() []byte {
	c := map[string]any{
		"resourceType": "Consent", "status": "active",
		"identifier": []any{map[string]any{"system": "https://loadgen.example/Id/consent", "value": slotID}},
		"scope":      map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}}},
		"category":   []any{map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "59284-0"}}}},
		"patient":    map[string]any{"type": "Patient", "identifier": map[string]any{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": slotNHS}},
		"dateTime":   "2026-11-20T10:10:00+00:00",
		"policy":     []any{map[string]any{"uri": "https://social-prescribing.github.io/referral-adapter/policy/social-prescribing-sharing"}},
		"provision": map[string]any{"type": "permit",
			"action": []any{map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/consentaction", "code": "disclose"}}}},
			"actor": []any{map[string]any{
				"role":      map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}}},
				"reference": map[string]any{"type": "Organization", "identifier": map[string]any{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "U00001"}}}}},
	}
	b, _ := json.Marshal(c)
	return b
}()

// consentFor is the patient's consent, identified by run and NHS number.
func consentFor(run, nhs string) []byte { return fill(consentTemplate, run+"-"+nhs, nhs) }

// bundleFor is a patient's Consent and referral sr in one transaction
// Bundle, as an EHR that sends them together does.
func bundleFor(run string, sr []byte, nhs string) []byte {
	entry := func(kind string, res []byte) map[string]any {
		return map[string]any{"fullUrl": "urn:uuid:" + uuid.NewString(), "resource": json.RawMessage(res),
			"request": map[string]any{"method": "POST", "url": kind}}
	}
	b, _ := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "transaction",
		"entry": []any{entry("Consent", consentFor(run, nhs)), entry("ServiceRequest", sr)}})
	return b
}

// nhsNumber is the n-th synthetic NHS number (valid modulus 11, in the
// 900 test range; distinct for n below ten million).
func nhsNumber(n int64) string { return adapter.SyntheticNHSNumber(int(n % 10000000)) }

// hostile returns a bad request body of one of several kinds, and its name.
func hostile(run string) (string, []byte) {
	good := referral(run)
	switch rand.IntN(6) {
	case 0:
		return "malformed", good[:len(good)/2]
	case 1:
		return "oversized", append(append([]byte(`{"resourceType":"ServiceRequest","x":"`), bytes.Repeat([]byte("a"), 2<<20)...), '"', '}')
	case 2:
		return "deep", append(append(bytes.Repeat([]byte(`{"a":`), 200), '1'), bytes.Repeat([]byte("}"), 200)...)
	case 3:
		return "wrong-type", []byte(`{"resourceType":"Patient","name":[{"family":"X"}]}`)
	case 4:
		return "bad-code", bytes.Replace(good, []byte(`"status":"active"`), []byte(`"status":"bogus"`), 1)
	default:
		return "huge-number", []byte(`{"resourceType":"ServiceRequest","status":"active","intent":"order","x":` + string(bytes.Repeat([]byte("9"), 500)) + `}`)
	}
}

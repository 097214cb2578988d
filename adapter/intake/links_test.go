package intake_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/internal/testfiles"
)

const ehr = "https://ehr.a81001.example.nhs.uk/fhir/"

// A transaction whose entries have RESTful fullUrls, as UK Core's and many
// EHRs' Bundles do, links its referral and Consent to its Patient whether
// they name it by that fullUrl or by Patient/{id} (FHIR R4 Bundle,
// "Resolving references in Bundles"; http, "Transaction Processing
// Rules"): the stored references name the Patient created, and the
// referral is that patient's.
func TestTransactionRESTfulFullURLs(t *testing.T) {
	for _, c := range []struct{ name, subject, patient string }{
		{"relative references", "Patient/pat-1", "Patient/pat-1"},
		{"absolute references", ehr + "Patient/pat-1", ehr + "Patient/pat-1"},
		{"one of each", "Patient/pat-1", ehr + "Patient/pat-1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t)
			rs, err := r.tx(t, fixtureTx(t, func(es []map[string]any) {
				es[0]["fullUrl"], es[1]["fullUrl"], es[2]["fullUrl"] = ehr+"Patient/pat-1", ehr+"ServiceRequest/sr-1", ehr+"Consent/c-1"
				res(es[1])["subject"] = map[string]any{"reference": c.subject}
				res(es[2])["patient"] = map[string]any{"reference": c.patient}
			}))
			if err != nil {
				t.Fatal(err)
			}
			patientRef := "Patient/" + rs[0].ID
			sr, err := r.store.ServiceRequest(bg, rs[1].ID)
			if err != nil || jsonField(t, sr, "subject", "reference") != patientRef {
				t.Errorf("stored subject %q, want %q (%v)", jsonField(t, sr, "subject", "reference"), patientRef, err)
			}
			consent, _, err := r.store.Consent(bg, rs[2].ID)
			if err != nil || jsonField(t, consent, "patient", "reference") != patientRef {
				t.Errorf("stored Consent patient %q, want %q", jsonField(t, consent, "patient", "reference"), patientRef)
			}
			// The Patient's facts were read: born 1958, too old for
			// work-and-skills, so the link workers take it.
			if task := rs[1].Task; task.Patient != patientRef || task.Owner != "riverside-link-workers" ||
				rs[1].Placement == nil || len(rs[1].Placement.Skipped) != 1 {
				t.Errorf("Task patient %q owner %q, placement %+v", task.Patient, task.Owner, rs[1].Placement)
			}
			for _, b := range [][]byte{sr, consent} {
				if strings.Contains(string(b), "pat-1") || strings.Contains(string(b), "urn:uuid:") {
					t.Errorf("a reference to the entry, not the Patient created, was stored: %s", b)
				}
			}
		})
	}
}

// Two entries whose RESTful fullUrls end in the same Patient/{id} leave a
// relative reference to that id ambiguous: it is not guessed, and stays
// the reference the practice wrote.
func TestTransactionAmbiguousRelativeReference(t *testing.T) {
	r := newRig(t)
	var b map[string]any
	if err := json.Unmarshal(testfiles.Fixture(t, "bundle-referral-transaction.json"), &b); err != nil {
		t.Fatal(err)
	}
	es := b["entry"].([]any)
	first := es[0].(map[string]any)
	var twin map[string]any
	raw, _ := json.Marshal(first)
	_ = json.Unmarshal(raw, &twin)
	res(twin)["identifier"] = []any{map[string]any{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": adapter.SyntheticNHSNumber(7)}}
	first["fullUrl"], twin["fullUrl"] = ehr+"Patient/pat-1", "https://elsewhere.example.org/fhir/Patient/pat-1"
	res(es[1].(map[string]any))["subject"] = map[string]any{"reference": "Patient/pat-1"}
	res(es[2].(map[string]any))["patient"] = map[string]any{"reference": ehr + "Patient/pat-1"}
	b["entry"] = append(es, twin)
	body, _ := json.Marshal(b)
	rs, err := r.tx(t, body)
	if err != nil {
		t.Fatal(err)
	}
	if got := rs[1].Task.Patient; got != "Patient/pat-1" {
		t.Errorf("an ambiguous reference was resolved to %q", got)
	}
	// The absolute reference names one entry: the Consent is the first
	// Patient's.
	consent, _, err := r.store.Consent(bg, rs[2].ID)
	if want := "Patient/" + rs[0].ID; err != nil || jsonField(t, consent, "patient", "reference") != want {
		t.Errorf("stored Consent patient %q, want %q", jsonField(t, consent, "patient", "reference"), want)
	}
}

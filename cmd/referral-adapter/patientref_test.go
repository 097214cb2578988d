package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

// One patient, two references: a practice sends a referral naming the
// patient by the Patient it sent here (Patient/{id}), and the patient's
// Consents by NHS number, or the other way round. A deny sent later, by
// the other reference, governs the referral all the same (README Consent:
// a deny wins for whom it names, the latest consent decides): Citizens
// Advice (X1V01) is passed by and can neither claim nor read it.
func TestConsentGovernsThePatientWhicheverReferenceNamesIt(t *testing.T) {
	for _, c := range []struct{ name, referralBy, consentBy string }{
		{"referral by Patient/id, consents by NHS number", "id", "nhs"},
		{"referral by NHS number, consents by Patient/id", "nhs", "id"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := consentHarness(t)
			gp := h.token(auth.RolePractice, practice)
			cab := h.token(auth.RoleProvider, "X1V01")
			pid := idOf(t, post(t, h, "/fhir/Patient", gp, fixture(t, "patient.json"), http.StatusCreated))
			ref := map[string]map[string]any{
				"id":  {"reference": "Patient/" + pid},
				"nhs": {"type": "Patient", "identifier": map[string]any{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000009"}},
			}
			permit := withJSON(t, consentWith(t, "C-REF-1", "2026-11-20T10:10:00Z", false,
				permitTo([]any{actorAs("IRCP", odsRef("U00001")), actorAs("IRCP", odsRef("X1V01"))})), map[string]any{"patient": ref[c.consentBy]})
			post(t, h, "/fhir/Consent", gp, permit, http.StatusCreated)
			sr := idOf(t, post(t, h, "/fhir/ServiceRequest", gp,
				withJSON(t, fixture(t, "servicerequest-debt.json"), map[string]any{"subject": ref[c.referralBy]}), http.StatusCreated))
			if _, v := readTask(t, h, gp, sr); v.Status != "requested" {
				t.Fatalf("the permitting consent, sent by the other reference, did not release the referral: %+v", v)
			}
			// The patient now keeps the referral from Citizens Advice.
			deny := withJSON(t, consentWith(t, "C-REF-2", "2026-11-21T10:10:00Z", false,
				permitTo([]any{actorAs("IRCP", odsRef("U00001")), actorAs("IRCP", odsRef("X1V01"))},
					map[string]any{"type": "deny", "actor": []any{actorAs("IRCP", odsRef("X1V01"))}})), map[string]any{"patient": ref[c.consentBy]})
			post(t, h, "/fhir/Consent", gp, deny, http.StatusCreated)
			if r := claimFrom(h, "money-advice", cab); r.status == http.StatusOK {
				t.Errorf("Citizens Advice claimed a referral the patient denied it: %s", r.body)
			}
			for _, path := range []string{"/fhir/ServiceRequest/" + sr, "/fhir/Task/" + sr, "/fhir/Patient/" + pid} {
				if r := h.do("GET", path, cab, nil); r.status != http.StatusNotFound {
					t.Errorf("Citizens Advice reads %s: %d", path, r.status)
				}
			}
			// Withdrawn naming the patient the other way: the same patient,
			// so the withdrawal is taken (version 2), and the referral waits.
			for _, id := range []string{"C-REF-1", "C-REF-2"} {
				body := withJSON(t, consentWith(t, id, "2026-11-20T10:10:00Z", false, permitTo([]any{actorAs("IRCP", odsRef("U00001"))})),
					map[string]any{"patient": ref[c.referralBy], "status": "inactive"})
				post(t, h, "/fhir/Consent", gp, body, http.StatusOK)
			}
			if _, v := readTask(t, h, gp, sr); v.Status != "on-hold" {
				t.Errorf("after the withdrawals the referral is %+v", v)
			}
		})
	}
}

// A referral a service accepted and is working, paused when the patient
// withdraws consent, resumes where it was when a new consent arrives:
// the same status and business status, and the same named contact
// (README Consent, Withdrawal: "a new consent resumes them where they
// were").
func TestResumedReferralKeepsItsNamedContact(t *testing.T) {
	h := consentHarness(t)
	gp := h.token(auth.RolePractice, practice)
	cab := h.personToken(auth.RoleProvider, "X1V01", "Practitioner/cab-kim")
	sharing := func(id, dateTime, status string) []byte {
		return withJSON(t, consentWith(t, id, dateTime, false,
			permitTo([]any{actorAs("IRCP", odsRef("U00001")), actorAs("IRCP", odsRef("X1V01"))})), map[string]any{"status": status})
	}
	post(t, h, "/fhir/Consent", gp, sharing("C-RES-1", "2026-11-20T10:10:00Z", "active"), http.StatusCreated)
	sr := idOf(t, post(t, h, "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-debt.json"), http.StatusCreated))
	if r := claimFrom(h, "money-advice", cab); r.status != http.StatusOK {
		t.Fatalf("claim: %d %s", r.status, r.body)
	}
	for _, body := range []string{`{"status":"accepted"}`, `{"status":"in-progress","businessStatus":{"code":"support-started"}}`} {
		if r := h.api("POST", "/api/v1/referrals/"+sr+"/transition", cab, body); r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", body, r.status, r.body)
		}
	}
	note := func() string {
		r := h.do("GET", "/fhir/Task/"+sr, gp, nil)
		return gjson.GetBytes(r.body, "note.#.text").String()
	}
	if !strings.Contains(note(), "Worker Practitioner/cab-kim") {
		t.Fatalf("no named contact before the pause: %q", note())
	}
	post(t, h, "/fhir/Consent", gp, sharing("C-RES-1", "2026-11-20T10:10:00Z", "inactive"), http.StatusOK)
	if _, v := readTask(t, h, gp, sr); v.Status != "on-hold" {
		t.Fatalf("after the withdrawal: %+v", v)
	}
	post(t, h, "/fhir/Consent", gp, sharing("C-RES-2", "2026-11-22T10:10:00Z", "active"), http.StatusCreated)
	if _, v := readTask(t, h, gp, sr); v.Status != "in-progress" || v.BusinessStatus != "support-started" {
		t.Errorf("resumed as %+v, want in-progress, support-started", v)
	}
	if !strings.Contains(note(), "Worker Practitioner/cab-kim") {
		t.Errorf("the named contact was lost: %q", note())
	}
}

// One transaction: the Patient, its referral by the Patient's urn:uuid,
// and its Consent by NHS number. The Consent is the referral's patient's,
// so the referral is released (requested), not left waiting for consent.
func TestTransactionConsentByNHSNumberReleasesTheReferral(t *testing.T) {
	h := consentHarness(t)
	gp := h.token(auth.RolePractice, practice)
	var b map[string]any
	if err := json.Unmarshal(fixture(t, "bundle-referral-transaction.json"), &b); err != nil {
		t.Fatal(err)
	}
	es := b["entry"].([]any)
	es[2].(map[string]any)["resource"].(map[string]any)["patient"] = map[string]any{"type": "Patient",
		"identifier": map[string]any{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000009"}}
	body, _ := json.Marshal(b)
	r := h.do("POST", "/fhir", gp, body)
	if r.status != http.StatusOK {
		t.Fatalf("transaction: %d %s", r.status, r.body)
	}
	sr := gjson.GetBytes(r.body, "entry.1.resource.id").Str
	if _, v := readTask(t, h, gp, sr); v.Status != "requested" {
		t.Errorf("the referral, its Consent sent by NHS number in the same transaction: %+v", v)
	}
}

// A second referral for the same patient and need is flagged as a
// possible duplicate whichever way each names the patient: by NHS number,
// or as the Patient the practice sent with that number.
func TestDuplicateAcrossPatientReferences(t *testing.T) {
	for _, c := range []struct{ name, first, second string }{
		{"NHS number, then Patient/id", "nhs", "id"},
		{"Patient/id, then NHS number", "id", "nhs"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, nil)
			gp := h.token(auth.RolePractice, practice)
			pid := idOf(t, post(t, h, "/fhir/Patient", gp, fixture(t, "patient.json"), http.StatusCreated))
			ref := map[string]map[string]any{
				"id":  {"reference": "Patient/" + pid},
				"nhs": {"type": "Patient", "identifier": map[string]any{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000009"}},
			}
			first := idOf(t, post(t, h, "/fhir/ServiceRequest", gp,
				withJSON(t, fixture(t, "servicerequest-debt.json"), map[string]any{"subject": ref[c.first]}), http.StatusCreated))
			second := h.do("POST", "/fhir/ServiceRequest", gp, withJSON(t, fixture(t, "servicerequest-debt.json"), map[string]any{"subject": ref[c.second],
				"identifier": []any{map[string]any{"system": referralSys, "value": "SP-2026-000199"}}}), "Prefer", "return=OperationOutcome")
			if second.status != http.StatusCreated || !strings.Contains(string(second.body), "Possible duplicate: Task/"+first) {
				t.Errorf("second referral = %d %s", second.status, second.body)
			}
		})
	}
}

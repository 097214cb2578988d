package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

// The practice sends a Patient again changed (a new mobile number): PUT
// /fhir/Patient/{id} stores version 2, the holder reads the new number,
// and the patient's live referral gets a new Task version so the EHR and
// the holder learn of it. A stale If-Match, another NHS number, another
// id, another practice and another role are refused; sent unchanged it
// stays at its version.
func TestPatientUpdate(t *testing.T) {
	h := newHarness(t, map[string]string{"CONSENT_REQUIRED": "true"})
	gp := h.token(auth.RolePractice, practice)
	post(t, h, "/fhir/Consent", gp, fixture(t, "consent-share-with-link-workers.json"), http.StatusCreated)
	created := post(t, h, "/fhir/Patient", gp, fixture(t, "patient.json"), http.StatusCreated)
	pid := idOf(t, created)
	sr := idOf(t, post(t, h, "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-debt.json"), http.StatusCreated))
	ca := h.personToken(auth.RoleProvider, "X1V01", "Practitioner/ca-kim")
	if r := claimFrom(h, "money-advice", ca); r.status != http.StatusOK {
		t.Fatalf("claim: %d %s", r.status, r.body)
	}
	taskTag := h.do("GET", "/fhir/Task/"+sr, gp, nil).header.Get("ETag")
	path := "/fhir/Patient/" + pid
	read := h.do("GET", path, gp, nil)
	newPhone := withJSON(t, read.body, map[string]any{"telecom": []any{map[string]any{"system": "phone", "value": "07700 900999", "use": "mobile"}}})

	for name, c := range map[string]struct {
		tok    string
		body   []byte
		ifm    string
		status int
	}{
		"another NHS number": {gp, withJSON(t, newPhone, map[string]any{"identifier": []any{map[string]any{
			"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000017"}}}), `W/"1"`, http.StatusUnprocessableEntity},
		"a second NHS number beside its own": {gp, withJSON(t, newPhone, map[string]any{"identifier": []any{
			map[string]any{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000009"},
			map[string]any{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000017"}}}), `W/"1"`, http.StatusUnprocessableEntity},
		"another id":           {gp, withJSON(t, newPhone, map[string]any{"id": "someone-else"}), `W/"1"`, http.StatusBadRequest},
		"another practice":     {h.token(auth.RolePractice, otherPractice), newPhone, "", http.StatusNotFound},
		"a link worker":        {h.token(auth.RoleLinkWorker, "U00001"), newPhone, "", http.StatusForbidden},
		"a stale version":      {gp, newPhone, `W/"7"`, http.StatusPreconditionFailed},
		"a malformed If-Match": {gp, newPhone, "7", http.StatusBadRequest},
	} {
		if r := h.do("PUT", path, c.tok, c.body, "If-Match", c.ifm); r.status != c.status {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	r := h.do("PUT", path, gp, newPhone, "If-Match", `W/"1"`)
	if r.status != http.StatusOK || r.header.Get("ETag") != `W/"2"` || !strings.Contains(string(r.body), "07700 900999") {
		t.Fatalf("update: %d %s %s", r.status, r.header.Get("ETag"), r.body)
	}
	if r := h.do("GET", path, ca, nil); !strings.Contains(string(r.body), "07700 900999") {
		t.Errorf("the holder reads %d %s", r.status, r.body)
	}
	if got := h.do("GET", "/fhir/Task/"+sr, gp, nil).header.Get("ETag"); got == taskTag {
		t.Errorf("the referral's Task kept version %s after the contact details changed", got)
	}
	// The same again, on the version it was made on: 412; unchanged on the
	// current version: 200, still version 2.
	if r := h.do("PUT", path, gp, newPhone, "If-Match", `W/"1"`); r.status != http.StatusPreconditionFailed {
		t.Errorf("stale: %d %s", r.status, r.body)
	}
	if r := h.do("PUT", path, gp, newPhone); r.status != http.StatusOK || r.header.Get("ETag") != `W/"2"` {
		t.Errorf("unchanged: %d %s", r.status, r.header.Get("ETag"))
	}
}

// A referral naming its patient by NHS number only is routed with what the
// Patient the practice sent earlier under that number says (issue 19): the
// patient (born 1958) is past work-and-skills' upper age limit, so the
// employment referral goes to the link workers, as when the Patient comes
// in the same transaction.
func TestEligibilityFromAPatientSentEarlier(t *testing.T) {
	h := newHarness(t, nil)
	gp := h.token(auth.RolePractice, practice)
	post(t, h, "/fhir/Patient", gp, fixture(t, "patient.json"), http.StatusCreated)
	var b struct {
		Entry []struct{ Resource map[string]any }
	}
	if err := json.Unmarshal(fixture(t, "bundle-referral-transaction.json"), &b); err != nil {
		t.Fatal(err)
	}
	sr := b.Entry[1].Resource
	sr["subject"] = map[string]any{"type": "Patient", "identifier": map[string]any{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000009"}}
	body, _ := json.Marshal(sr)
	id := idOf(t, post(t, h, "/fhir/ServiceRequest", gp, body, http.StatusCreated))
	task := h.do("GET", "/fhir/Task/"+id, gp, nil).json(t)
	if task["owner"].(map[string]any)["reference"] != "HealthcareService/riverside-link-workers" ||
		!strings.Contains(fmtJSON(task["statusReason"]), "does not take people of the patient's age") {
		t.Errorf("owner %v, statusReason %v", task["owner"], task["statusReason"])
	}
}

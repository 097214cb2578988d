package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

// A Gravity-conformant platform updates the Task itself (issue 18): PUT
// the Task as read with its status, businessStatus and statusReason
// changed. If-Match makes it conditional: a stale version answers 412 and
// changes nothing; other elements changed, another Task's id, a bad
// If-Match are refused; the lifecycle rules and the doors hold as on the
// transition API.
func TestTaskUpdateThroughFHIR(t *testing.T) {
	h := newHarness(t, map[string]string{"CONSENT_REQUIRED": "true"})
	gp := h.token(auth.RolePractice, practice)
	post(t, h, "/fhir/Consent", gp, fixture(t, "consent-share-with-link-workers.json"), http.StatusCreated)
	sr := idOf(t, post(t, h, "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-debt.json"), http.StatusCreated))
	ca := h.personToken(auth.RoleProvider, "X1V01", "Practitioner/ca-kim")
	if r := claimFrom(h, "money-advice", ca); r.status != http.StatusOK {
		t.Fatalf("claim: %d %s", r.status, r.body)
	}
	read := h.do("GET", "/fhir/Task/"+sr, ca, nil)
	etag := read.header.Get("ETag")
	v, _ := strconv.Atoi(strings.Trim(strings.TrimPrefix(etag, "W/"), `"`))
	put := func(tok string, body []byte, headers ...string) response {
		return h.do("PUT", "/fhir/Task/"+sr, tok, body, headers...)
	}
	accepted := withJSON(t, read.body, map[string]any{"status": "accepted"})

	// Changed beside status: refused, naming the element.
	moved := withJSON(t, accepted, map[string]any{"owner.reference": "HealthcareService/befriending"})
	if r := put(ca, moved, "If-Match", etag); r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "owner") {
		t.Errorf("owner changed: %d %s", r.status, r.body)
	}
	if r := put(ca, withJSON(t, accepted, map[string]any{"id": "another"}), "If-Match", etag); r.status != http.StatusBadRequest {
		t.Errorf("another id: %d %s", r.status, r.body)
	}
	if r := put(ca, accepted, "If-Match", "yesterday"); r.status != http.StatusBadRequest {
		t.Errorf("a bad If-Match: %d %s", r.status, r.body)
	}
	// Well formed, naming a version no resource has: it does not match.
	if r := put(ca, accepted, "If-Match", `W/"0"`); r.status != http.StatusPreconditionFailed {
		t.Errorf("If-Match W/\"0\": %d %s", r.status, r.body)
	}
	if r := put(h.personToken(auth.RoleProvider, "X1V02", "Practitioner/h-1"), accepted); r.status != http.StatusNotFound {
		t.Errorf("another provider: %d %s", r.status, r.body)
	}
	if r := put(gp, withJSON(t, read.body, map[string]any{"status": "completed"})); r.status != http.StatusForbidden {
		t.Errorf("the practice completes it: %d %s", r.status, r.body)
	}

	r := put(ca, accepted, "If-Match", etag)
	if r.status != http.StatusOK || r.json(t)["status"] != "accepted" || r.header.Get("ETag") != `W/"`+strconv.Itoa(v+1)+`"` {
		t.Fatalf("accepted: %d %s %s", r.status, r.header.Get("ETag"), r.body)
	}
	// The same change again on the version it was made on: 412, nothing
	// changes.
	if r := put(ca, withJSON(t, accepted, map[string]any{"status": "in-progress"}), "If-Match", etag); r.status != http.StatusPreconditionFailed ||
		issue(t, r)["code"] != "conflict" {
		t.Errorf("stale If-Match: %d %s", r.status, r.body)
	}
	now := h.do("GET", "/fhir/Task/"+sr, ca, nil)
	if now.json(t)["status"] != "accepted" {
		t.Errorf("after the stale update: %s", now.body)
	}
	// A business status of the adapter's code system and a reason, on the
	// current version; a businessStatus from another system is refused.
	contacted := withJSON(t, now.body, map[string]any{
		"businessStatus": map[string]any{"coding": []any{map[string]any{
			"system": "https://social-prescribing.github.io/referral-adapter/CodeSystem/task-business-status", "code": "contacted"}}},
		"statusReason": map[string]any{"text": "rang the patient"}})
	if r := put(ca, withJSON(t, contacted, map[string]any{"businessStatus": map[string]any{"text": "rang"}}), "If-Match", now.header.Get("ETag")); r.status != http.StatusBadRequest {
		t.Errorf("a businessStatus of no known system: %d %s", r.status, r.body)
	}
	r = put(ca, contacted, "If-Match", now.header.Get("ETag"))
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `"code":"contacted"`) {
		t.Errorf("contacted: %d %s", r.status, r.body)
	}
	// Sent again unchanged: 200, the same version.
	same := h.do("GET", "/fhir/Task/"+sr, ca, nil)
	if r := put(ca, same.body); r.status != http.StatusOK || r.header.Get("ETag") != same.header.Get("ETag") {
		t.Errorf("unchanged: %d %s", r.status, r.header.Get("ETag"))
	}
	// A reason alone, the status and businessStatus as they are: refused
	// as a business rule naming statusReason, not as a move to the same
	// status, and nothing changes.
	reasonOnly := withJSON(t, same.body, map[string]any{"statusReason": map[string]any{"text": "still trying"}})
	if r := put(ca, reasonOnly); r.status != http.StatusUnprocessableEntity || issue(t, r)["code"] != "business-rule" ||
		!strings.Contains(string(r.body), "Task.statusReason") {
		t.Errorf("a reason alone: %d %s", r.status, r.body)
	}
	if after := h.do("GET", "/fhir/Task/"+sr, ca, nil); after.header.Get("ETag") != same.header.Get("ETag") {
		t.Errorf("the refused reason changed the Task: %s", after.header.Get("ETag"))
	}
	// The lifecycle's rules: closing for non-contact needs the attempts.
	if r := put(ca, withJSON(t, same.body, map[string]any{"status": "failed", "businessStatus": map[string]any{"coding": []any{map[string]any{
		"system": "https://social-prescribing.github.io/referral-adapter/CodeSystem/task-business-status", "code": "not-contactable"}}}})); r.status != http.StatusConflict {
		t.Errorf("not contactable at once: %d %s", r.status, r.body)
	}
}

package main

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

// Every read and write of patient data leaves an AuditEvent that only an
// admin can search, and which names who and what but holds no patient data.
func TestAuditTrail(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.token(auth.RolePractice, practice)
	id := h.do("POST", "/fhir/ServiceRequest", tok, fixture(t, "servicerequest-debt.json")).json(t)["id"].(string)
	h.do("GET", "/fhir/Task/"+id, tok, nil)
	h.do("GET", "/fhir/ServiceRequest?identifier="+url.QueryEscape(referralSys+"|SP-2026-000101"), tok, nil)
	h.do("GET", "/fhir/Task/"+id, h.token(auth.RolePractice, otherPractice), nil) // refused: 404

	admin := h.token(auth.RoleAdmin, "U00001")
	r := h.do("GET", "/fhir/AuditEvent?entity=Task/"+id, admin, nil)
	if r.status != 200 {
		t.Fatalf("= %d %s", r.status, r.body)
	}
	if _, err := h.app.parser.Parse(r.body, "Bundle"); err != nil {
		t.Fatalf("searchset is not valid FHIR: %v", err)
	}
	b := r.json(t)
	if b["total"] != float64(2) {
		t.Fatalf("want 2 audited Task reads, got %v: %s", b["total"], r.body)
	}
	body := string(r.body)
	for _, want := range []string{`"action":"R"`, `"outcome":"0"`, `"outcome":"4"`, "practice@" + otherPractice} {
		if !strings.Contains(body, want) {
			t.Errorf("audit lacks %s", want)
		}
	}
	all := h.do("GET", "/fhir/AuditEvent?_count=50", admin, nil)
	for _, secret := range []string{"9000000009", "SP-2026-000101", "rent arrears"} {
		if strings.Contains(string(all.body), secret) {
			t.Errorf("audit trail holds patient data %q", secret)
		}
	}
	// A search is recorded as entity.query (its parameter names, base64).
	query := base64.StdEncoding.EncodeToString([]byte("ServiceRequest?identifier"))
	if !strings.Contains(string(all.body), `"query":"`+query+`"`) || !strings.Contains(string(all.body), `"action":"C"`) {
		t.Errorf("search and create not audited: %s", all.body)
	}
	for _, role := range []auth.Role{auth.RolePractice, auth.RoleCommissioner, auth.RoleLinkWorker} {
		if got := h.do("GET", "/fhir/AuditEvent", h.token(role, "X"), nil); got.status != 403 {
			t.Errorf("%s reading audit = %d", role, got.status)
		}
	}
}

func TestRateLimit(t *testing.T) {
	h := newHarness(t, map[string]string{"RATE_LIMIT_PER_MINUTE": "3"})
	// The budget is per fixed minute: should the minute turn during the
	// four requests, they are sent again by another subject in the new one.
	var r response
	for attempt := range 2 {
		tok := h.personToken(auth.RolePractice, practice, fmt.Sprintf("Practitioner/gp-%d", attempt))
		minute := time.Now().Truncate(time.Minute)
		for i := range 3 {
			if r := h.do("GET", "/fhir/HealthcareService", tok, nil); r.status != 200 {
				t.Fatalf("request %d = %d", i, r.status)
			}
		}
		r = h.do("GET", "/fhir/HealthcareService", tok, nil)
		if r.status == 429 || time.Now().Truncate(time.Minute).Equal(minute) {
			break
		}
	}
	if r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Fatalf("4th request = %d (Retry-After %q)", r.status, r.header.Get("Retry-After"))
	}
	if is := issue(t, r); is["code"] != "throttled" {
		t.Errorf("issue = %v", is)
	}
	if r := h.do("GET", "/fhir/HealthcareService", h.token(auth.RolePractice, otherPractice), nil); r.status != 200 {
		t.Errorf("another client is throttled too: %d", r.status)
	}
}

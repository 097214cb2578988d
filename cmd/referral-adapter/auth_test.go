package main

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

func TestAuthFailures(t *testing.T) {
	h := newHarness(t, nil)
	sr := fixture(t, "servicerequest-debt.json")
	expired, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, auth.Claims{
		RegisteredClaims: jwt.RegisteredClaims{Issuer: auth.DevIssuer, Subject: "x",
			ExpiresAt: jwt.NewNumericDate(time.Now().Add(-2 * time.Minute))},
		Role: "practice", Org: practice, Scope: "system/ServiceRequest.c"}).SignedString([]byte(testSecret))
	wrongKey, _ := auth.Mint("another-secret-0123456789abcdef", auth.MintOptions{Role: auth.RolePractice, Org: practice})
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"role": "practice", "org": practice, "sub": "x",
		"exp": time.Now().Add(time.Hour).Unix()}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	cases := []struct {
		name, token string
		status      int
		code        string
	}{
		{"no token", "", 401, "login"},
		{"garbage", "not-a-jwt", 401, "login"},
		{"expired", expired, 401, "login"},
		{"wrong signature", wrongKey, 401, "login"},
		{"alg none", none, 401, "login"},
		{"wrong role", h.token(auth.RoleCommissioner, "QWO"), 403, "forbidden"},
		{"missing scope", h.token(auth.RolePractice, practice, "system/Task.rs"), 403, "forbidden"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do("POST", "/fhir/ServiceRequest", tc.token, sr)
			if r.status != tc.status {
				t.Fatalf("= %d, want %d: %s", r.status, tc.status, r.body)
			}
			if is := issue(t, r); is["code"] != tc.code {
				t.Errorf("issue = %v", is)
			}
			if tc.status == 401 && r.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}

func TestSMARTv1ScopesAccepted(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.token(auth.RolePractice, practice, "system/ServiceRequest.write", "system/ServiceRequest.read")
	if r := h.do("POST", "/fhir/ServiceRequest", tok, fixture(t, "servicerequest-debt.json")); r.status != 201 {
		t.Errorf("v1 write scope = %d %s", r.status, r.body)
	}
}

// A practice sees only its own referrals: another practice's ids answer
// 404, so existence does not leak.
func TestTenantIsolation(t *testing.T) {
	h := newHarness(t, nil)
	mine := h.token(auth.RolePractice, practice)
	theirs := h.token(auth.RolePractice, otherPractice)
	id := h.do("POST", "/fhir/ServiceRequest", mine, fixture(t, "servicerequest-debt.json")).json(t)["id"].(string)
	for _, p := range []string{"/fhir/ServiceRequest/" + id, "/fhir/Task/" + id} {
		if r := h.do("GET", p, theirs, nil); r.status != 404 {
			t.Errorf("other practice GET %s = %d, want 404", p, r.status)
		}
	}
	if r := h.do("GET", "/fhir/Task?focus=ServiceRequest/"+id, theirs, nil).json(t); r["total"] != float64(0) {
		t.Errorf("other practice's Task search found %v", r["total"])
	}
	// The service the referral was routed to can read it.
	provider := h.token(auth.RoleProvider, "X1V01")
	if r := h.do("GET", "/fhir/Task/"+id, provider, nil); r.status != 200 {
		t.Errorf("owning provider = %d", r.status)
	}
	if r := h.do("GET", "/fhir/Task/"+id, h.token(auth.RoleProvider, "X1V02"), nil); r.status != 404 {
		t.Errorf("unrelated provider = %d, want 404", r.status)
	}
}

func TestLogsCarryNoPatientData(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.token(auth.RolePractice, practice)
	h.do("POST", "/fhir/ServiceRequest", tok, fixture(t, "servicerequest-debt.json"))
	h.do("POST", "/fhir", tok, fixture(t, "bundle-referral-transaction.json"))
	h.do("POST", "/fhir/ServiceRequest", tok, withJSON(t, fixture(t, "servicerequest-debt.json"), map[string]any{"status": "bogus"}))
	logs := h.logs.String()
	if logs == "" {
		t.Fatal("no access logs written")
	}
	for _, secret := range []string{"9000000009", "Testpatient", "rent arrears", "Example Row", "LS6 1AA", tok} {
		if contains(logs, secret) {
			t.Errorf("logs contain %q", secret)
		}
	}
}

// A VCSE provider reads the referral routed to it without the GP's clinical
// narrative, and is told something was withheld; the practice sees it all.
func TestProviderSeesMinimumNecessary(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.token(auth.RolePractice, practice)
	id := h.do("POST", "/fhir/ServiceRequest", tok, fixture(t, "servicerequest-debt.json")).json(t)["id"].(string)
	prov := h.do("GET", "/fhir/ServiceRequest/"+id, h.token(auth.RoleProvider, "X1V01"), nil)
	if prov.status != 200 {
		t.Fatalf("= %d", prov.status)
	}
	if _, err := h.app.parser.Parse(prov.body, "ServiceRequest"); err != nil {
		t.Fatalf("redacted resource is not valid FHIR: %v", err)
	}
	sr := prov.json(t)
	if sr["note"] != nil || !contains(string(prov.body), `"code":"REDACTED"`) {
		t.Errorf("provider view: %s", prov.body)
	}
	if sr["reasonCode"] == nil || sr["subject"] == nil {
		t.Error("provider lost the reason for referral or the patient reference")
	}
	if full := h.do("GET", "/fhir/ServiceRequest/"+id, tok, nil); !contains(string(full.body), "rent arrears") {
		t.Error("the referring practice should see its own note")
	}
}

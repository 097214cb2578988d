package main

import (
	"fmt"
	"testing"
)

// Hardening (issue 21), over HTTP.

// A physician associate's referral is counted as another clinician's, not
// a GP's: the whole title is matched before its words.
func TestPhysicianAssociateIsOtherClinician(t *testing.T) {
	h := newHarness(t, nil)
	pa := staff(t, practice, "pa@A81001", "Physician associate")
	if r := h.do("POST", "/fhir/ServiceRequest", pa, fixture(t, "servicerequest-crisis.json")); r.status != 201 {
		t.Fatalf("referral = %d %s", r.status, r.body)
	}
	pr := h.do("GET", "/api/v1/reports/practice", pa, nil).json(t)
	byRole := map[string]any{}
	for _, r := range pr["safetyScreensByReferrerRole"].([]any) {
		m := r.(map[string]any)
		byRole[m["referrerRole"].(string)] = m["clinicalRedirect"]
	}
	if _, ok := byRole["other-clinician"]; !ok || len(byRole) != 1 {
		t.Errorf("referrer roles %v, want the physician associate's as other-clinician only", fmt.Sprint(byRole))
	}
}

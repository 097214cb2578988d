package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
	"github.com/social-prescribing/referral-adapter/internal/testfiles"
)

func writeFile(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Every ServiceRequest, Consent and transaction Bundle among the FHIR R4
// standard's own examples goes through the HTTP API: each is accepted or
// rejected with a 4xx OperationOutcome; none causes a 5xx.
func TestStandardExamplesOverHTTP(t *testing.T) {
	examples := testfiles.IntakeExamples(t)
	h := newHarness(t, nil)
	tok := h.token(auth.RolePractice, practice)
	seen := map[string]int{}
	for _, ex := range examples {
		path, body := "/fhir/"+ex.Type, ex.Body
		if ex.Type == "Bundle" {
			path = "/fhir"
		}
		r := h.do("POST", path, tok, body)
		seen[ex.Type]++
		switch {
		case r.status >= 500:
			t.Errorf("%s: %d %s", ex.Name, r.status, r.body)
		case r.status >= 400:
			issue(t, r)
		}
	}
	if seen["ServiceRequest"] == 0 || seen["Consent"] == 0 {
		t.Errorf("examples exercised: %v", seen)
	}
	t.Logf("examples exercised: %v", seen)
}

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
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
	dir := filepath.Join(repoRoot(t), "..", "shared", "fhir-r4-examples")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) == 0 {
		t.Skipf("FHIR R4 examples not found at %s", dir)
	}
	h := newHarness(t, nil)
	tok := h.token(auth.RolePractice, practice)
	seen := map[string]int{}
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var head struct{ ResourceType, Type string }
		if json.Unmarshal(body, &head) != nil {
			continue
		}
		path := ""
		switch {
		case head.ResourceType == "ServiceRequest", head.ResourceType == "Consent":
			path = "/fhir/" + head.ResourceType
		case head.ResourceType == "Bundle" && head.Type == "transaction":
			path = "/fhir"
		default:
			continue
		}
		r := h.do("POST", path, tok, body)
		seen[head.ResourceType]++
		switch {
		case r.status >= 500:
			t.Errorf("%s: %d %s", filepath.Base(f), r.status, r.body)
		case r.status >= 400:
			issue(t, r)
		}
	}
	if seen["ServiceRequest"] == 0 || seen["Consent"] == 0 {
		t.Errorf("examples exercised: %v", seen)
	}
	t.Logf("examples exercised: %v", seen)
}

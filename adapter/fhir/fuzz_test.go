package fhir_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/adapter/routing"
	"github.com/social-prescribing/referral-adapter/mappings"
)

// seedCorpus adds the fixtures and the FHIR R4 standard's ServiceRequest,
// Consent and Bundle examples.
func seedCorpus(f *testing.F) {
	f.Helper()
	globs := []string{"../../fixtures/*.json", "../../../shared/fhir-r4-examples/ServiceRequest*.json",
		"../../../shared/fhir-r4-examples/Consent*.json", "../../../shared/fhir-r4-examples/Bundle*.json"}
	for _, g := range globs {
		files, _ := filepath.Glob(g)
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil && len(b) < 64<<10 {
				f.Add(b)
			}
		}
	}
	f.Add([]byte(`{"resourceType":"ServiceRequest","status":"active","status":"draft"}`))
	f.Add([]byte(`{"resourceType":"ServiceRequest","x":1e99999}`))
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`))
}

// FuzzIntakePath runs the pure part of intake (strict scan, FHIR parse and
// validation, referral extraction, routing) on arbitrary bytes: it never
// panics, and every failure is a domain error that maps to a 4xx, never an
// internal error.
func FuzzIntakePath(f *testing.F) {
	seedCorpus(f)
	p, err := fhir.NewParser()
	if err != nil {
		f.Fatal(err)
	}
	m, err := routing.Load(mappings.Default, "mappings")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := p.Parse(body, "ServiceRequest", "Consent", "Bundle")
		if err != nil {
			mustBeClientError(t, err)
			return
		}
		if res.Type != "ServiceRequest" {
			return
		}
		ref, err := fhir.ReferralFrom(res)
		if err != nil {
			mustBeClientError(t, err)
			return
		}
		if _, err := m.Route(ref); err != nil {
			mustBeClientError(t, err)
		}
	})
}

func mustBeClientError(t *testing.T, err error) {
	t.Helper()
	var e *adapter.Error
	if !errors.As(err, &e) {
		t.Fatalf("not a domain error: %T %v", err, err)
	}
	if e.Code == adapter.EINTERNAL || e.Code == adapter.EUNAVAILABLE || e.Code == "" {
		t.Fatalf("bad input classified as %s: %v", e.Code, e)
	}
}

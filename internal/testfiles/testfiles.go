// Package testfiles finds the files tests read from outside their package:
// the golden inputs in fixtures/ and the FHIR R4 standard's examples in
// ../shared/fhir-r4-examples/ beside the repository. Paths are found by
// walking up from the test's working directory (its package directory) to
// the module root, so tests do not depend on how deep their package is.
package testfiles

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Root returns the module root: the nearest directory at or above the
// working directory that holds go.mod.
func Root(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("testfiles: no go.mod at or above the working directory")
		}
		dir = parent
	}
}

// Fixture returns the contents of fixtures/name.
func Fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(Root(tb), "fixtures", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// Fixtures returns the names of every fixtures/*.json file.
func Fixtures(tb testing.TB) []string {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(Root(tb), "fixtures", "*.json"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("testfiles: no fixtures/*.json (%v)", err)
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	return names
}

// SharedExamplesDir returns ../shared/fhir-r4-examples relative to the
// module root. When it is absent (a clone without the shared examples) the
// test is skipped, saying so.
func SharedExamplesDir(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join(filepath.Dir(Root(tb)), "shared", "fhir-r4-examples")
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		tb.Skipf("the FHIR R4 examples are not at %s (they sit beside the repository, in ../shared/fhir-r4-examples); skipping", dir)
	}
	return dir
}

// Example is one of the FHIR R4 standard's examples.
type Example struct {
	Name string // the file's name, e.g. "ServiceRequest-di.json"
	Type string // its resourceType
	Body []byte
}

// IntakeExamples returns, in name order, every ServiceRequest, Consent and
// transaction Bundle among the shared examples: what intake takes. When
// the examples are absent the test is skipped, saying so.
func IntakeExamples(tb testing.TB) []Example {
	tb.Helper()
	var out []Example
	for _, e := range SharedExamples(tb, "*.json") {
		var head struct {
			ResourceType string
			Type         json.RawMessage // a code in a Bundle, a list elsewhere
		}
		if err := json.Unmarshal(e.Body, &head); err != nil {
			tb.Fatalf("%s: not JSON: %v", e.Name, err)
		}
		e.Type = head.ResourceType
		switch {
		case e.Type == "ServiceRequest", e.Type == "Consent",
			e.Type == "Bundle" && string(head.Type) == `"transaction"`:
			out = append(out, e)
		}
	}
	return out
}

// SharedExamples returns, in name order, the shared examples whose names
// match pattern (a filepath.Match pattern such as "Consent-*.json"). When
// the examples are absent the test is skipped, saying so.
func SharedExamples(tb testing.TB, pattern string) []Example {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(SharedExamplesDir(tb), pattern))
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]Example, 0, len(paths))
	for _, p := range paths {
		body, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, Example{Name: filepath.Base(p), Body: body})
	}
	return out
}

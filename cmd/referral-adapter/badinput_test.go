package main

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

// Every class of bad input gets its own precise 4xx OperationOutcome and
// writes nothing.
func TestBadInputIsAPrecise4xx(t *testing.T) {
	h := newHarness(t, map[string]string{"MAX_BODY_BYTES": "65536"})
	tok := h.token(auth.RolePractice, practice)
	sr := fixture(t, "servicerequest-debt.json")
	before := h.dataKeys()
	cases := []struct {
		name, contentType string
		body              []byte
		status            int
		code, expr        string
	}{
		{"malformed JSON", "", []byte(`{"resourceType": "ServiceRequest",`), 400, "structure", ""},
		{"not an object", "", []byte(`["ServiceRequest"]`), 400, "structure", ""},
		{"duplicate member", "", []byte(`{"resourceType":"ServiceRequest","status":"active","status":"draft"}`), 400, "structure", "ServiceRequest.status"},
		{"empty body", "", []byte{}, 400, "required", ""},
		{"no resourceType", "", withJSON(t, sr, map[string]any{"resourceType": nil}), 400, "required", "resourceType"},
		{"wrong resourceType", "", fixture(t, "consent-share-with-link-workers.json"), 400, "invalid", "resourceType"},
		{"unknown element", "", withJSON(t, sr, map[string]any{"colour": "blue"}), 400, "structure", "ServiceRequest.colour"},
		{"missing required", "", withJSON(t, sr, map[string]any{"intent": nil}), 400, "required", "ServiceRequest.intent"},
		{"unknown code", "", withJSON(t, sr, map[string]any{"status": "bogus"}), 400, "code-invalid", "ServiceRequest.status"},
		{"bad dateTime", "", withJSON(t, sr, map[string]any{"authoredOn": "yesterday"}), 400, "value", "ServiceRequest.authoredOn"},
		{"not active", "", withJSON(t, sr, map[string]any{"status": "draft"}), 422, "business-rule", "ServiceRequest.status"},
		{"oversized", "", append(append([]byte(`{"resourceType":"ServiceRequest","x":"`), bytes.Repeat([]byte("a"), 70000)...), '"', '}'), 413, "too-long", ""},
		{"wrong content type", "text/plain", sr, 415, "not-supported", ""},
		{"XML", "application/fhir+xml", []byte(`<ServiceRequest/>`), 415, "not-supported", ""},
		{"non-UTF-8 charset", "application/fhir+json; charset=latin1", sr, 415, "not-supported", ""},
		{"FHIR R5", "application/fhir+json; fhirVersion=5.0", sr, 415, "not-supported", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ct := tc.contentType
			if ct == "" {
				ct = "application/fhir+json"
			}
			r := h.do("POST", "/fhir/ServiceRequest", tok, tc.body, "Content-Type", ct)
			if r.status != tc.status {
				t.Fatalf("status = %d, want %d: %s", r.status, tc.status, r.body)
			}
			is := issue(t, r)
			if is["code"] != tc.code || is["severity"] != "error" {
				t.Errorf("issue = %v, want code %s", is, tc.code)
			}
			if tc.expr != "" {
				ex, _ := is["expression"].([]any)
				if len(ex) == 0 || ex[0] != tc.expr {
					t.Errorf("expression = %v, want %s", ex, tc.expr)
				}
			}
			if strings.Contains(string(r.body), "rent arrears") {
				t.Error("the error echoes free text from the body")
			}
		})
	}
	if keys := h.dataKeys(); !slices.Equal(keys, before) {
		t.Errorf("rejected requests wrote keys: %v, before %v", keys, before)
	}
}

func TestNegotiationAndRouting(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.token(auth.RolePractice, practice)
	cases := []struct {
		name, method, path string
		headers            []string
		status             int
		code               string
	}{
		{"Accept XML", "GET", "/fhir/metadata", []string{"Accept", "application/fhir+xml"}, 406, "not-supported"},
		{"_format xml", "GET", "/fhir/metadata?_format=xml", nil, 406, "not-supported"},
		{"unknown endpoint", "GET", "/fhir/Practitioner/1", nil, 404, "not-found"},
		{"method not allowed", "DELETE", "/fhir/ServiceRequest/1", nil, 405, "not-supported"},
		{"unknown resource id", "GET", "/fhir/Task/does-not-exist", nil, 404, "not-found"},
		{"unsupported search param", "GET", "/fhir/Task?status=requested&subject=x", nil, 400, "not-supported"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(tc.method, tc.path, tok, nil, tc.headers...)
			if r.status != tc.status {
				t.Fatalf("status = %d, want %d: %s", r.status, tc.status, r.body)
			}
			if is := issue(t, r); is["code"] != tc.code {
				t.Errorf("issue = %v", is)
			}
		})
	}
}

func TestMetadataListsWhatIsServed(t *testing.T) {
	h := newHarness(t, nil)
	r := h.do("GET", "/fhir/metadata", "", nil)
	if r.status != http.StatusOK {
		t.Fatalf("= %d", r.status)
	}
	parsed, err := h.app.parser.Parse(r.body, "CapabilityStatement")
	if err != nil {
		t.Fatalf("CapabilityStatement is not valid FHIR: %v", err)
	}
	cs := parsed.Msg.GetCapabilityStatement()
	tok := h.token(auth.RoleAdmin, "U00001")
	for _, res := range cs.GetRest()[0].GetResource() {
		typ := res.GetType().GetValue().String()
		name := resourceTypeName(typ)
		for _, sp := range res.GetSearchParam() {
			p := "/fhir/" + name + "?" + sp.GetName().GetValue() + "=x"
			if name == "Task" {
				p = "/fhir/Task?focus=ServiceRequest/x"
			}
			if got := h.do("GET", p, tok, nil); got.status >= 500 || got.status == 404 || got.status == 405 {
				t.Errorf("advertised search %s answers %d", p, got.status)
			}
		}
	}
}

// resourceTypeName turns a resource type enum name (SERVICE_REQUEST) into
// the FHIR type name (ServiceRequest).
func resourceTypeName(enum string) string {
	var b strings.Builder
	for _, w := range strings.Split(strings.ToLower(enum), "_") {
		if w != "" {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

// A request line or headers over the bound (a 100,000-character id, an
// outsized Authorization header) get a 431 OperationOutcome, not the HTTP
// server's plain text.
func TestOversizedHeadersAnsweredAsOperationOutcome(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.token(auth.RolePractice, practice)
	for name, r := range map[string]response{
		"long id":            h.do("GET", "/fhir/Task/"+strings.Repeat("a", 100_000), tok, nil),
		"long Authorization": h.do("GET", "/fhir/Task/x", tok+strings.Repeat("a", 40_000), nil),
	} {
		if r.status != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("%s: %d %.200s", name, r.status, r.body)
			continue
		}
		if is := issue(t, r); is["code"] != "too-long" {
			t.Errorf("%s: issue %v", name, is)
		}
	}
}

package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/auth"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/adapter/httpapi"
	"github.com/social-prescribing/referral-adapter/adapter/routing"
	"github.com/social-prescribing/referral-adapter/mappings"
)

// Tokens of the fake verifier: each names one principal.
const (
	tokPractice = "practice"
	tokProvider = "provider" // Riverside Citizens Advice (money-advice)
	tokLinker   = "link-worker"
	tokAdmin    = "admin"
	tokNoScope  = "practice-without-scopes"
)

var principals = map[string]*auth.Principal{
	tokPractice: {Subject: "gp-system", Role: auth.RolePractice, Org: "A81001", Scopes: []string{"system/*.*"}},
	tokProvider: {Subject: "cab-system", Role: auth.RoleProvider, Org: "X1V01", Scopes: []string{"system/*.*"}},
	tokLinker:   {Subject: "lw-1", Role: auth.RoleLinkWorker, Org: "U00001", Scopes: []string{"system/*.*"}},
	tokAdmin:    {Subject: "ops", Role: auth.RoleAdmin, Org: "U00001", Scopes: []string{"system/*.*"}},
	tokNoScope:  {Subject: "gp-system", Role: auth.RolePractice, Org: "A81001"},
}

// fakeVerifier knows the tokens above; any other is refused as the real
// verifier refuses a bad one.
type fakeVerifier struct{}

func (fakeVerifier) Verify(tok string) (*auth.Principal, error) {
	if p, ok := principals[tok]; ok {
		cp := *p
		return &cp, nil
	}
	return nil, adapter.Errorf(adapter.EUNAUTHORIZED, "the token is not valid")
}

// rig is a server over fakes of its consumer-side interfaces; a test sets
// what the fakes answer before it sends requests.
type rig struct {
	t      *testing.T
	deps   httpapi.Deps
	srv    http.Handler
	intake *fakeIntake
	store  *fakeStore
	access *fakeAccess
	caps   *fakeCapacity
}

func newRig(t *testing.T, edit ...func(*httpapi.Deps)) *rig {
	t.Helper()
	m, err := routing.Load(mappings.Default, "mappings")
	if err != nil {
		t.Fatal(err)
	}
	p, err := fhir.NewParser()
	if err != nil {
		t.Fatal(err)
	}
	render, err := fhir.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, intake: &fakeIntake{}, store: newFakeStore(), access: &fakeAccess{}, caps: &fakeCapacity{}}
	r.deps = httpapi.Deps{Log: slog.New(slog.DiscardHandler), Verifier: fakeVerifier{}, Intake: r.intake, Store: r.store,
		Mappings: m, Parser: p, Render: render, Access: r.access, Capacity: r.caps}
	for _, e := range edit {
		e(&r.deps)
	}
	cfg := httpapi.Config{MaxBodyBytes: 4096, RequestTimeout: 5 * time.Second, ShutdownTimeout: time.Second,
		BaseURL: "https://sp.example/fhir"}
	r.srv = httpapi.New(cfg, r.deps).Handler()
	return r
}

// req is one request of a table.
type req struct {
	method, path, token string
	body                string
	header              map[string]string
}

// resp is what came back.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r *rig) do(q req) resp {
	r.t.Helper()
	var body io.Reader = http.NoBody
	if q.body != "" {
		body = bytes.NewBufferString(q.body)
	}
	hr := httptest.NewRequestWithContext(context.Background(), q.method, q.path, body)
	if q.token != "" {
		hr.Header.Set("Authorization", "Bearer "+q.token)
	}
	if q.body != "" {
		hr.Header.Set("Content-Type", "application/fhir+json")
	}
	for k, v := range q.header {
		hr.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	r.srv.ServeHTTP(w, hr)
	return resp{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
}

// outcome is the first issue of an OperationOutcome answer.
type outcome struct {
	ResourceType string
	Issue        []struct {
		Severity, Code, Diagnostics string
		Expression                  []string
	}
}

// wantOutcome checks an error answer: the status, an OperationOutcome as
// FHIR JSON, and its first issue's code (and expression, when given).
func wantOutcome(t *testing.T, got resp, status int, issueCode string, expr ...string) outcome {
	t.Helper()
	var oo outcome
	if got.status != status {
		t.Errorf("status %d, want %d: %s", got.status, status, got.body)
	}
	if ct := got.header.Get("Content-Type"); ct != httpapi.ContentTypeFHIR {
		t.Errorf("Content-Type %q, want %q", ct, httpapi.ContentTypeFHIR)
	}
	if err := json.Unmarshal(got.body, &oo); err != nil || oo.ResourceType != "OperationOutcome" || len(oo.Issue) == 0 {
		t.Fatalf("not an OperationOutcome (%v): %s", err, got.body)
	}
	if oo.Issue[0].Code != issueCode || oo.Issue[0].Severity != "error" {
		t.Errorf("issue %s %s, want error %s: %s", oo.Issue[0].Severity, oo.Issue[0].Code, issueCode, got.body)
	}
	if len(expr) > 0 && (len(oo.Issue[0].Expression) == 0 || oo.Issue[0].Expression[0] != expr[0]) {
		t.Errorf("expression %v, want %s", oo.Issue[0].Expression, expr[0])
	}
	return oo
}

// The doors every request passes: health, unknown routes and methods,
// authentication and the policy table, content negotiation, and the
// headers every answer carries.
func TestServerDoors(t *testing.T) {
	r := newRig(t, func(d *httpapi.Deps) {
		d.Ready = func(context.Context) error { return errors.New("redis down") }
	})
	cases := []struct {
		name      string
		req       req
		status    int
		issueCode string // "": not an OperationOutcome
		header    map[string]string
	}{
		{"healthz", req{method: "GET", path: "/healthz"}, 200, "", nil},
		{"readyz with the store down", req{method: "GET", path: "/readyz"}, 503, "", map[string]string{"Retry-After": "5"}},
		{"unknown path", req{method: "GET", path: "/fhir/Nothing/1", token: tokPractice}, 404, "not-found", nil},
		{"method not allowed", req{method: "DELETE", path: "/fhir/ServiceRequest/1", token: tokPractice}, 405, "not-supported", nil},
		{"no token", req{method: "GET", path: "/fhir/Task/1"}, 401, "login",
			map[string]string{"WWW-Authenticate": `Bearer realm="referral-adapter"`}},
		{"not a bearer token", req{method: "GET", path: "/fhir/Task/1", header: map[string]string{"Authorization": "Basic eDp5"}}, 401, "login", nil},
		{"bad token", req{method: "GET", path: "/fhir/Task/1", token: "forged"}, 401, "login", nil},
		{"role the policy refuses", req{method: "POST", path: "/fhir/ServiceRequest", token: tokProvider, body: "{}"}, 403, "forbidden", nil},
		{"scope missing", req{method: "GET", path: "/fhir/Task/1", token: tokNoScope}, 403, "forbidden", nil},
		{"Accept names no format we produce", req{method: "GET", path: "/fhir/metadata", header: map[string]string{"Accept": "application/xml"}},
			406, "not-supported", nil},
		{"metadata", req{method: "GET", path: "/fhir/metadata"}, 200, "", map[string]string{"Content-Type": httpapi.ContentTypeFHIR}},
		{"request id echoed", req{method: "GET", path: "/healthz", header: map[string]string{"X-Request-ID": "abc-123"}}, 200, "",
			map[string]string{"X-Request-ID": "abc-123"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := r.do(c.req)
			if c.issueCode != "" {
				wantOutcome(t, got, c.status, c.issueCode)
			} else if got.status != c.status {
				t.Errorf("status %d, want %d: %s", got.status, c.status, got.body)
			}
			for k, v := range c.header {
				if got.header.Get(k) != v {
					t.Errorf("%s: %q, want %q", k, got.header.Get(k), v)
				}
			}
			// Every answer carries the security headers.
			for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", "X-Frame-Options": "DENY"} {
				if got.header.Get(k) != v {
					t.Errorf("%s: %q, want %q", k, got.header.Get(k), v)
				}
			}
		})
	}
	var cs struct{ ResourceType, FhirVersion string }
	if err := json.Unmarshal(r.do(req{method: "GET", path: "/fhir/metadata"}).body, &cs); err != nil ||
		cs.ResourceType != "CapabilityStatement" || cs.FhirVersion != "4.0.1" {
		t.Errorf("metadata: %+v, %v", cs, err)
	}
}

// A referral source that POSTs a Task for its referral, as Gravity SDOH
// Clinical Care has a source create one on the performer's system, is told
// that the adapter creates it and where to read it; other methods not
// served are refused plainly.
func TestTaskPostPointsToTheTask(t *testing.T) {
	r := newRig(t)
	oo := wantOutcome(t, r.do(req{method: "POST", path: "/fhir/Task", token: tokPractice, body: `{"resourceType":"Task"}`}), 405, "not-supported")
	if d := oo.Issue[0].Diagnostics; !strings.Contains(d, "GET /fhir/Task?focus=ServiceRequest/{id}") {
		t.Errorf("diagnostics %q", d)
	}
	oo = wantOutcome(t, r.do(req{method: "DELETE", path: "/fhir/Task/1", token: tokPractice}), 405, "not-supported")
	if d := oo.Issue[0].Diagnostics; d != "method DELETE is not allowed here" {
		t.Errorf("diagnostics %q", d)
	}
}

package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/intake"
)

const srBody = `{"resourceType":"ServiceRequest","id":"sr1","meta":{"versionId":"1","lastUpdated":"2026-11-24T09:30:00.000Z"},"status":"active"}`

// A create answers 201 with Location (absolute, naming the version), a
// weak ETag and the stored resource; an identifier already received
// answers 200 with the earlier one; Prefer chooses the body. Intake is
// given the practice from the token, the body and the If-None-Exist.
func TestCreateServiceRequest(t *testing.T) {
	rejected := &adapter.Task{ID: "t9", Status: adapter.TaskRejected, BusinessStatus: adapter.Coding{Code: "safety-crisis"}}
	cases := []struct {
		name     string
		res      intake.Result
		header   map[string]string
		status   int
		location string
		etag     string
		body     string // a substring of the body; "" for none
		extra    map[string]string
	}{
		{"created", intake.Result{Kind: "ServiceRequest", ID: "sr1", JSON: []byte(srBody)}, nil,
			201, "https://sp.example/fhir/ServiceRequest/sr1/_history/1", `W/"1"`, `"id":"sr1"`, nil},
		{"already received", intake.Result{Kind: "ServiceRequest", ID: "sr0", JSON: []byte(srBody), Existing: true},
			map[string]string{"If-None-Exist": "identifier=https://example.org/ids|R1"},
			200, "https://sp.example/fhir/ServiceRequest/sr0/_history/1", `W/"1"`, `"id":"sr1"`, nil},
		{"a new version", intake.Result{Kind: "ServiceRequest", ID: "sr1", JSON: []byte(srBody), Version: 3}, nil,
			200, "https://sp.example/fhir/ServiceRequest/sr1/_history/3", `W/"3"`, `"id":"sr1"`, nil},
		{"return=minimal", intake.Result{Kind: "ServiceRequest", ID: "sr1", JSON: []byte(srBody)},
			map[string]string{"Prefer": "return=minimal"}, 201, "https://sp.example/fhir/ServiceRequest/sr1/_history/1", `W/"1"`, "", nil},
		{"return=OperationOutcome", intake.Result{Kind: "ServiceRequest", ID: "sr1", JSON: []byte(srBody)},
			map[string]string{"Prefer": "return=OperationOutcome"}, 201, "https://sp.example/fhir/ServiceRequest/sr1/_history/1", `W/"1"`,
			`"diagnostics":"ServiceRequest/sr1 created"`, nil},
		{"stopped by the safety screen", intake.Result{Kind: "ServiceRequest", ID: "sr1", JSON: []byte(srBody), Task: rejected}, nil,
			201, "https://sp.example/fhir/ServiceRequest/sr1/_history/1", `W/"1"`, `"id":"sr1"`,
			map[string]string{"X-Task-Status": "rejected; reason=safety-crisis; task=Task/t9"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t)
			r.intake.res = &c.res
			got := r.do(req{method: "POST", path: "/fhir/ServiceRequest", token: tokPractice, body: `{"resourceType":"ServiceRequest"}`, header: c.header})
			if got.status != c.status {
				t.Fatalf("status %d, want %d: %s", got.status, c.status, got.body)
			}
			if h := got.header.Get("Location"); h != c.location {
				t.Errorf("Location %q, want %q", h, c.location)
			}
			if h := got.header.Get("ETag"); h != c.etag {
				t.Errorf("ETag %q, want %q", h, c.etag)
			}
			if c.body == "" && len(got.body) != 0 {
				t.Errorf("body %s, want none", got.body)
			}
			if c.body != "" {
				if ct := got.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/fhir+json") {
					t.Errorf("Content-Type %q", ct)
				}
				if !strings.Contains(string(got.body), c.body) {
					t.Errorf("body %s, want it to hold %s", got.body, c.body)
				}
			}
			for k, v := range c.extra {
				if got.header.Get(k) != v {
					t.Errorf("%s: %q, want %q", k, got.header.Get(k), v)
				}
			}
			if r.intake.caller.Org != "A81001" || r.intake.caller.Role != adapter.RolePractice || r.intake.caller.Subject != "gp-system" ||
				string(r.intake.body) != `{"resourceType":"ServiceRequest"}` {
				t.Errorf("intake was given %+v %s", r.intake.caller, r.intake.body)
			}
			if _, ok := c.header["If-None-Exist"]; ok && r.intake.cond.Value != "R1" {
				t.Errorf("If-None-Exist reached intake as %+v", r.intake.cond)
			}
		})
	}
}

// A create is refused before intake when the body is not FHIR JSON or is
// too large, or the If-None-Exist is not an identifier search.
func TestCreateRefusedAtTheDoor(t *testing.T) {
	cases := []struct {
		name      string
		req       req
		status    int
		issueCode string
	}{
		{"no Content-Type", req{header: map[string]string{"Content-Type": ""}}, 415, "not-supported"},
		{"XML", req{header: map[string]string{"Content-Type": "application/fhir+xml"}}, 415, "not-supported"},
		{"latin-1", req{header: map[string]string{"Content-Type": "application/fhir+json; charset=iso-8859-1"}}, 415, "not-supported"},
		{"FHIR STU3", req{header: map[string]string{"Content-Type": "application/fhir+json; fhirVersion=3.0"}}, 415, "not-supported"},
		{"asks for FHIR STU3", req{header: map[string]string{"Accept": "application/fhir+json; fhirVersion=3.0"}}, 406, "not-supported"},
		{"too large", req{body: `{"resourceType":"ServiceRequest","note":[{"text":"` + strings.Repeat("x", 5000) + `"}]}`}, 413, "too-long"},
		{"gzip that is not", req{header: map[string]string{"Content-Encoding": "gzip"}}, 400, "structure"},
		{"unknown encoding", req{header: map[string]string{"Content-Encoding": "br"}}, 415, "not-supported"},
		{"If-None-Exist not an identifier", req{header: map[string]string{"If-None-Exist": "status=active"}}, 400, ""},
		{"If-None-Exist given empty", req{header: map[string]string{"If-None-Exist": " "}}, 400, "invalid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t)
			q := c.req
			q.method, q.path, q.token = "POST", "/fhir/ServiceRequest", tokPractice
			if q.body == "" {
				q.body = `{"resourceType":"ServiceRequest"}`
			}
			got := r.do(q)
			if c.issueCode == "" {
				if got.status != c.status {
					t.Errorf("status %d, want %d: %s", got.status, c.status, got.body)
				}
			} else {
				wantOutcome(t, got, c.status, c.issueCode)
			}
			if r.intake.calls != 0 {
				t.Errorf("intake was called")
			}
		})
	}
}

// Every domain error intake returns is answered by the one error table:
// its HTTP status and OperationOutcome issue code, with every issue and
// its expression; an error that is not a domain error is a 500 that says
// nothing of itself.
func TestCreateErrors(t *testing.T) {
	cases := []struct {
		code      string
		status    int
		issueCode string
	}{
		{adapter.EINVALID, 400, "invalid"},
		{adapter.ESTRUCTURE, 400, "structure"},
		{adapter.EREQUIRED, 400, "required"},
		{adapter.EVALUE, 400, "value"},
		{adapter.ECODEINVALID, 400, "code-invalid"},
		{adapter.ENOTSUPPORTED, 400, "not-supported"},
		{adapter.EBUSINESSRULE, 422, "business-rule"},
		{adapter.EINVARIANT, 400, "invariant"},
		{adapter.EUNAUTHORIZED, 401, "login"},
		{adapter.EFORBIDDEN, 403, "forbidden"},
		{adapter.ENOTFOUND, 404, "not-found"},
		{adapter.ECONFLICT, 409, "conflict"},
		{adapter.EPRECONDITION, 412, "multiple-matches"},
		{adapter.EVERSION, 412, "conflict"},
		{adapter.ETOOLARGE, 413, "too-long"},
		{adapter.ERATELIMIT, 429, "throttled"},
		{adapter.EUNAVAILABLE, 503, "transient"},
		{adapter.EINTERNAL, 500, "exception"},
		{"no-such-code", 500, "exception"},
	}
	for _, c := range cases {
		t.Run(c.code, func(t *testing.T) {
			r := newRig(t)
			r.intake.err = adapter.Combine([]*adapter.Error{
				adapter.Errorf(c.code, "first").At("ServiceRequest.status"),
				adapter.Errorf(adapter.EREQUIRED, "second").At("ServiceRequest.subject")})
			got := r.do(req{method: "POST", path: "/fhir/ServiceRequest", token: tokPractice, body: `{"resourceType":"ServiceRequest"}`})
			oo := wantOutcome(t, got, c.status, c.issueCode, "ServiceRequest.status")
			if len(oo.Issue) != 2 || oo.Issue[1].Code != "required" || oo.Issue[1].Expression[0] != "ServiceRequest.subject" {
				t.Errorf("issues %+v", oo.Issue)
			}
			if retry := got.header.Get("Retry-After"); (c.status == 503 || c.status == 429) != (retry == "5") {
				t.Errorf("Retry-After %q on %d", retry, c.status)
			}
		})
	}
	r := newRig(t)
	r.intake.err = fmt.Errorf("redis: secret detail")
	got := r.do(req{method: "POST", path: "/fhir/ServiceRequest", token: tokPractice, body: `{"resourceType":"ServiceRequest"}`})
	if oo := wantOutcome(t, got, http.StatusInternalServerError, "exception"); strings.Contains(string(got.body), "secret") ||
		!strings.Contains(oo.Issue[0].Diagnostics, "quote request id "+got.header.Get("X-Request-ID")) {
		t.Errorf("internal error answered %s", got.body)
	}
}

// A read answers the referral with its ETag and Last-Modified; 304 when
// If-None-Match names that version; 404 alike for a referral that is not
// there, one the caller may not see, and a version that is not kept.
func TestReadServiceRequest(t *testing.T) {
	r := newRig(t)
	r.store.srs["sr1"] = []byte(srBody)
	r.store.tasks["sr1"] = &adapter.Task{ID: "sr1", ReferralID: "sr1", Practice: "A81001", Owner: "money-advice"}
	r.store.srs["sr2"] = []byte(strings.Replace(srBody, "sr1", "sr2", 1))
	r.store.tasks["sr2"] = &adapter.Task{ID: "sr2", ReferralID: "sr2", Practice: "B99999"}
	cases := []struct {
		name   string
		req    req
		status int
		etag   string
	}{
		{"read", req{path: "/fhir/ServiceRequest/sr1"}, 200, `W/"1"`},
		{"vread of the current version", req{path: "/fhir/ServiceRequest/sr1/_history/1"}, 200, `W/"1"`},
		{"not modified", req{path: "/fhir/ServiceRequest/sr1", header: map[string]string{"If-None-Match": `W/"1"`}}, 304, `W/"1"`},
		{"modified since", req{path: "/fhir/ServiceRequest/sr1", header: map[string]string{"If-None-Match": `W/"0"`}}, 200, `W/"1"`},
		{"an earlier version", req{path: "/fhir/ServiceRequest/sr1/_history/0"}, 404, ""},
		{"another practice's", req{path: "/fhir/ServiceRequest/sr2"}, 404, ""},
		{"not there", req{path: "/fhir/ServiceRequest/nope"}, 404, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := c.req
			q.method, q.token = "GET", tokPractice
			got := r.do(q)
			if got.status == 404 {
				if oo := wantOutcome(t, got, c.status, "not-found"); c.name != "an earlier version" && oo.Issue[0].Diagnostics != "ServiceRequest not found" {
					t.Errorf("diagnostics %q: not found and not visible must read alike", oo.Issue[0].Diagnostics)
				}
				return
			}
			if got.status != c.status {
				t.Fatalf("status %d, want %d: %s", got.status, c.status, got.body)
			}
			if h := got.header.Get("ETag"); h != c.etag {
				t.Errorf("ETag %q, want %q", h, c.etag)
			}
			if h := got.header.Get("Last-Modified"); h != "Tue, 24 Nov 2026 09:30:00 GMT" {
				t.Errorf("Last-Modified %q", h)
			}
			if c.status == 304 && len(got.body) != 0 {
				t.Errorf("304 with a body: %s", got.body)
			}
			if c.status == 200 {
				var sr struct{ ID string }
				if err := json.Unmarshal(got.body, &sr); err != nil || sr.ID != "sr1" {
					t.Errorf("body %s", got.body)
				}
			}
		})
	}
	// A store that is down is 503, not 404.
	r.store.err = adapter.Errorf(adapter.EUNAVAILABLE, "store unavailable")
	wantOutcome(t, r.do(req{method: "GET", path: "/fhir/ServiceRequest/sr1", token: tokPractice}), 503, "transient")
}

// A Consent is read only by the practice that sent it; another practice
// gets 404 as for one that is not there.
func TestReadConsent(t *testing.T) {
	r := newRig(t)
	r.store.consents["c1"] = [2]string{`{"resourceType":"Consent","id":"c1","meta":{"versionId":"2"}}`, "A81001"}
	r.store.consents["c2"] = [2]string{`{"resourceType":"Consent","id":"c2","meta":{"versionId":"1"}}`, "B99999"}
	got := r.do(req{method: "GET", path: "/fhir/Consent/c1", token: tokPractice})
	if got.status != 200 || got.header.Get("ETag") != `W/"2"` || !strings.Contains(string(got.body), `"id":"c1"`) {
		t.Errorf("own Consent: %d %s %s", got.status, got.header.Get("ETag"), got.body)
	}
	wantOutcome(t, r.do(req{method: "GET", path: "/fhir/Consent/c2", token: tokPractice}), 404, "not-found")
	wantOutcome(t, r.do(req{method: "GET", path: "/fhir/Consent/c3", token: tokPractice}), 404, "not-found")
	// Only practices read Consents (the policy table).
	wantOutcome(t, r.do(req{method: "GET", path: "/fhir/Consent/c1", token: tokLinker}), 403, "forbidden")
}

// A create's answer arrives whole over a real connection, as declared:
// a recorder alone once let a body be lost on the wire (issue 22).
func TestCreateAnswerOverTheWire(t *testing.T) {
	r := newRig(t)
	r.intake.res = &intake.Result{Kind: "ServiceRequest", ID: "sr1", JSON: []byte(srBody)}
	ts := httptest.NewServer(r.srv)
	defer ts.Close()
	for range 2 { // the second on the same connection
		hr, err := http.NewRequestWithContext(context.Background(), "POST", ts.URL+"/fhir/ServiceRequest",
			strings.NewReader(`{"resourceType":"ServiceRequest"}`))
		if err != nil {
			t.Fatal(err)
		}
		hr.Header.Set("Authorization", "Bearer "+tokPractice)
		hr.Header.Set("Content-Type", "application/fhir+json")
		res, err := ts.Client().Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusCreated || int64(len(body)) != res.ContentLength ||
			!strings.Contains(string(body), `"id":"sr1"`) || !strings.HasSuffix(string(body), "}\n") {
			t.Fatalf("%d, Content-Length %d, %d bytes %q, %v", res.StatusCode, res.ContentLength, len(body), body, err)
		}
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
	"github.com/social-prescribing/referral-adapter/internal/redistest"
)

const testSecret = "test-secret-0123456789abcdef"

// harness is the whole service, wired as in production, over a real Redis
// server in a private namespace.
type harness struct {
	t    testing.TB
	srv  *httptest.Server
	app  *app
	logs *lockedWriter
}

func newHarness(t testing.TB, env map[string]string) *harness {
	t.Helper()
	base := map[string]string{
		"AUTH_DEV_HS256_SECRET": testSecret,
		"REDIS_URL":             redistest.URL(t),
		"REDIS_NAMESPACE":       redistest.Namespace(t),
		// Referrals go straight to routing here; consent_test.go runs with
		// CONSENT_REQUIRED=true, as deployed by default.
		"CONSENT_REQUIRED": "false",
	}
	for k, v := range env {
		base[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cfg, m, err := loadConfig(ctx, base)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	logs := &lockedWriter{w: &bytes.Buffer{}}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := build(ctx, cfg, m, log)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	t.Cleanup(a.close)
	srv := httptest.NewServer(a.handler)
	t.Cleanup(srv.Close)
	return &harness{t: t, srv: srv, app: a, logs: logs}
}

// token mints a dev token for a role and organisation.
func (h *harness) token(role auth.Role, org string, scopes ...string) string {
	h.t.Helper()
	o := auth.MintOptions{Role: role, Org: org, TTL: time.Hour}
	if len(scopes) > 0 {
		o.Scopes = scopes
	}
	tok, err := auth.Mint(testSecret, o)
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not JSON (%d): %v", r.status, err)
	}
	return m
}

func (h *harness) do(method, path, token string, body []byte, headers ...string) response {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	h.validate(method, path, res, b)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// validate checks every FHIR resource the suite receives with the FHIR
// library's validating parser and the adapter's invariant checks (issue
// 18): what the adapter answers must be valid FHIR R4, whatever the test
// was about.
func (h *harness) validate(method, path string, res *http.Response, body []byte) {
	h.t.Helper()
	if len(body) == 0 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/fhir+json") {
		return
	}
	if _, err := h.app.parser.Parse(body); err != nil {
		h.t.Errorf("the answer to %s %s is not valid FHIR R4: %v", method, clipPath(path), err)
	}
}

func clipPath(p string) string {
	if len(p) > 120 {
		return p[:120] + "..."
	}
	return p
}

// repoRoot is the repository root, found from this file's location.
func repoRoot(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withJSON returns doc with the top-level (or dotted-path) members set.
func withJSON(t testing.TB, doc []byte, set map[string]any) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatal(err)
	}
	for path, v := range set {
		cur := m
		parts := strings.Split(path, ".")
		for _, p := range parts[:len(parts)-1] {
			cur = cur[p].(map[string]any)
		}
		if v == nil {
			delete(cur, parts[len(parts)-1])
		} else {
			cur[parts[len(parts)-1]] = v
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// issue returns the first OperationOutcome issue of a response, failing the
// test if the body is not an OperationOutcome in FHIR JSON.
func issue(t *testing.T, r response) map[string]any {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/fhir+json") {
		t.Fatalf("Content-Type = %q, want application/fhir+json", ct)
	}
	m := r.json(t)
	if m["resourceType"] != "OperationOutcome" {
		t.Fatalf("want an OperationOutcome, got %s", r.body)
	}
	issues, _ := m["issue"].([]any)
	if len(issues) == 0 {
		t.Fatalf("OperationOutcome without issues: %s", r.body)
	}
	return issues[0].(map[string]any)
}

// dataKeys lists, sorted, the namespace's keys that hold referral data:
// everything except the audit trail and rate-limit counters, which every
// request touches. The store already holds each service's capacity at
// start-up (seeded from the mappings), so tests that check a request wrote
// nothing compare against a snapshot.
func (h *harness) dataKeys() []string {
	h.t.Helper()
	keys, err := h.app.store.Client().Keys(context.Background(), h.app.store.KeyPattern()).Result()
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, k := range keys {
		if !strings.HasSuffix(k, ":audit") && !strings.Contains(k, ":rl:") {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// locationID is the id in a Location header: [base]/[type]/[id]/_history/[vid].
func locationID(loc string) string {
	loc, _, _ = strings.Cut(loc, "/_history/")
	return loc[strings.LastIndexByte(loc, '/')+1:]
}

// locationIs reports whether a Location is absolute and names the type, id
// and a version, as R4 has it.
func locationIs(loc, kind, id string) bool {
	return strings.HasPrefix(loc, "http") && strings.Contains(loc, "/fhir/"+kind+"/"+id+"/_history/")
}

// asPractice returns a fixture ServiceRequest as the practice ods would
// send it: the practice itself as requester (the fixtures name A81001).
func asPractice(t testing.TB, sr []byte, ods string) []byte {
	t.Helper()
	return withJSON(t, sr, map[string]any{"requester": map[string]any{"type": "Organization",
		"identifier": map[string]any{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": ods}}})
}

package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/auth"
	"github.com/social-prescribing/referral-adapter/adapter/capacity"
	"github.com/social-prescribing/referral-adapter/internal/redistest"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestHealthAndReadiness(t *testing.T) {
	rs := redistest.NewServer(t)
	h := newHarness(t, map[string]string{"REDIS_URL": rs.URL(), "REDIS_OP_TIMEOUT": "300ms", "REDIS_DIAL_TIMEOUT": "300ms"})
	if r := h.do("GET", "/healthz", "", nil); r.status != 200 {
		t.Fatalf("healthz = %d", r.status)
	}
	if r := h.do("GET", "/readyz", "", nil); r.status != 200 {
		t.Fatalf("readyz = %d", r.status)
	}
	tok := h.token(auth.RolePractice, practice)

	rs.Stop()
	if r := h.do("GET", "/readyz", "", nil); r.status != 503 {
		t.Errorf("readyz with Redis down = %d", r.status)
	}
	r := h.do("POST", "/fhir/ServiceRequest", tok, fixture(t, "servicerequest-debt.json"))
	if r.status != 503 || r.header.Get("Retry-After") == "" {
		t.Fatalf("write with Redis down = %d %s (Retry-After %q)", r.status, r.body, r.header.Get("Retry-After"))
	}
	if is := issue(t, r); is["code"] != "transient" {
		t.Errorf("issue = %v", is)
	}

	if err := rs.Start(); err != nil {
		t.Fatal(err)
	}
	if r := h.do("GET", "/readyz", "", nil); r.status != 200 {
		t.Errorf("readyz after Redis returned = %d", r.status)
	}
	if r := h.do("POST", "/fhir/ServiceRequest", tok, fixture(t, "servicerequest-debt.json")); r.status != 201 {
		t.Errorf("write after Redis returned = %d %s", r.status, r.body)
	}
}

func TestConfigReportsEveryProblemAtOnce(t *testing.T) {
	_, _, err := loadConfig(context.Background(), map[string]string{
		"MAX_BODY_BYTES":       "10",
		"REDIS_URL":            "http://nope",
		"REDIS_NAMESPACE":      "a:b",
		"LOG_LEVEL":            "loud",
		"SIGNOFF_HOLD_MAX_AGE": "10m",
	})
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, want := range []string{"AUTH_JWKS_FILE", "MAX_BODY_BYTES", "REDIS_URL", "REDIS_NAMESPACE", "LOG_LEVEL", "SIGNOFF_HOLD_MAX_AGE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
}

func TestBadMappingsRefuseToStartNamingFileAndLine(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "net.yaml", "network: {id: n, name: N, ods: U1, linkWorkerService: lw}\nruleSet: test\n")
	writeFile(t, dir, "svc.yaml", "services:\n  - id: lw\n    name: LW\n    kind: link-worker\n    providedBy: {ods: U1}\n")
	writeFile(t, dir, "rules.yaml", "rules:\n  - name: r\n    match: {code: [{system: s, code: c}]}\n    target: nowhere\n    fallback: [lw]\n    colour: blue\n")
	_, _, err := loadConfig(context.Background(), map[string]string{
		"AUTH_DEV_HS256_SECRET": testSecret, "MAPPINGS_DIR": dir,
	})
	if err == nil {
		t.Fatal("bad mappings accepted")
	}
	for _, want := range []string{"rules.yaml:6", "colour", "rules.yaml:2", "nowhere"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

func TestTokenCommand(t *testing.T) {
	t.Setenv("AUTH_DEV_HS256_SECRET", testSecret)
	var out, errOut strings.Builder
	if err := realMain(context.Background(), []string{"token", "--role", "practice", "--org", "A81001"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, nil)
	tok := strings.TrimSpace(out.String())
	if r := h.do("POST", "/fhir/ServiceRequest", tok, fixture(t, "servicerequest-debt.json")); r.status != 201 {
		t.Errorf("minted token rejected: %d %s", r.status, r.body)
	}
	if err := realMain(context.Background(), []string{"token", "--role", "wizard", "--org", "A81001"}, &out, &errOut); err == nil {
		t.Error("unknown role accepted")
	}
	if err := realMain(context.Background(), []string{"token", "--role", "practice", "--org", "A81001", "--ttl", "25h"}, &out, &errOut); err == nil ||
		!strings.Contains(err.Error(), "AUTH_MAX_TOKEN_LIFETIME") {
		t.Errorf("a token longer-lived than the service accepts: %v", err)
	}
	if err := realMain(context.Background(), []string{"frobnicate"}, &out, &errOut); err == nil {
		t.Error("unknown command accepted")
	}
}

// Operators list the jobs and run one on demand.
func TestJobsCommand(t *testing.T) {
	t.Setenv("AUTH_DEV_HS256_SECRET", testSecret)
	t.Setenv("REDIS_URL", redistest.URL(t))
	t.Setenv("REDIS_NAMESPACE", redistest.Namespace(t))
	var out, errOut strings.Builder
	if err := realMain(context.Background(), []string{"jobs", "list"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	for _, job := range []string{"lease-sweep", "closure-summary", "provider-deadline", "sla-breach", "capacity-staleness", "waitlist-promotion", "retention-purge", "daily-snapshot", "consent-hold-expiry", "sign-off-hold-expiry"} {
		if !strings.Contains(out.String(), job) {
			t.Errorf("jobs list lacks %s:\n%s", job, out.String())
		}
	}
	out.Reset()
	if err := realMain(context.Background(), []string{"jobs", "run", "daily-snapshot"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "daily-snapshot: ok services=7") {
		t.Errorf("run output %q", out.String())
	}
	if err := realMain(context.Background(), []string{"jobs", "run", "nope"}, &out, &errOut); err == nil {
		t.Error("unknown job ran")
	}
}

// The capacity-staleness job names the services nobody confirmed within
// CAPACITY_STALE_AFTER; a provider's update confirms its service again.
func TestCapacityStalenessJob(t *testing.T) {
	h := newHarness(t, map[string]string{"CAPACITY_STALE_AFTER": "7d"})
	ctx := context.Background()
	later := time.Now().Add(8 * 24 * time.Hour)
	h.app.caps.SetClock(func() time.Time { return later })
	all := len(h.app.mappings.ServiceIDs())
	rep, err := h.app.caps.CheckStaleness(ctx, 0)
	if err != nil || rep["stale"] != all || rep["services"] != all {
		t.Fatalf("8 days after seeding every service is stale: %v %v", rep, err)
	}
	if _, err := h.app.caps.Update(ctx, "money-advice", capacity.Update{Status: adapter.CapacityOpen, MaxOpen: 60},
		adapter.CapacityChange{By: "provider"}); err != nil {
		t.Fatal(err)
	}
	if rep, err := h.app.caps.CheckStaleness(ctx, 0); err != nil || rep["stale"] != all-1 {
		t.Fatalf("after one confirmation: %v %v", rep, err)
	}
}

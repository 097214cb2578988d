package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/internal/redistest"
)

func TestNHSNumbersAreValidAndDistinct(t *testing.T) {
	seen := map[string]bool{}
	for n := int64(1); n < 2000; n++ {
		s := nhsNumber(n)
		if !adapter.ValidNHSNumber(s) || s[0] != '9' || seen[s] {
			t.Fatalf("%d → %q", n, s)
		}
		seen[s] = true
	}
}

func TestGeneratedReferralsAreJSONAndUnique(t *testing.T) {
	seen, priorities := map[string]bool{}, map[string]bool{}
	for range 100 {
		var sr struct {
			ResourceType string
			Identifier   []struct{ Value string }
			Priority     string
			Subject      struct{ Identifier struct{ Value string } }
		}
		body, nhs := referralFor("t")
		if err := json.Unmarshal(body, &sr); err != nil || sr.ResourceType != "ServiceRequest" {
			t.Fatalf("bad referral: %v", err)
		}
		if seen[sr.Identifier[0].Value] || sr.Subject.Identifier.Value != nhs {
			t.Fatalf("identifier %q (repeated: %v), patient %q, NHS number given %q", sr.Identifier[0].Value, seen[sr.Identifier[0].Value], sr.Subject.Identifier.Value, nhs)
		}
		if strings.Contains(string(body), "@@") || strings.Contains(string(consentFor("t", nhs)), "@@") {
			t.Fatalf("a template slot left unfilled: %s", body)
		}
		seen[sr.Identifier[0].Value], priorities[sr.Priority] = true, true
	}
	if !priorities["routine"] || !priorities["urgent"] {
		t.Errorf("priorities seen: %v", priorities)
	}
	for range 50 {
		kind, body := hostile("t")
		if json.Valid(body) && kind == "malformed" {
			t.Errorf("malformed body is valid JSON")
		}
	}
}

func TestPercentiles(t *testing.T) {
	r := newResults()
	for i := 1; i <= 100; i++ {
		r.add("good", 201, time.Duration(i)*time.Millisecond, nil)
	}
	r.add("good", 500, time.Millisecond, nil)
	r.add("malformed", 400, time.Millisecond, nil)
	if r.pct(0.5) != 50 || r.pct(0.99) != 99 || r.pct(1) != 100 {
		t.Errorf("p50 %v p99 %v max %v", r.pct(0.5), r.pct(0.99), r.pct(1))
	}
	if r.non2xx != 1 || r.badAs4xx != 1 || r.ok != 100 {
		t.Errorf("counts: %+v", r)
	}
}

// The baseline handler does real Redis work; a short run stores referrals
// and the summary line carries the keys scripts read.
func TestBaselineRunPrintsSummary(t *testing.T) {
	t.Setenv("AUTH_DEV_HS256_SECRET", "loadgen-test-secret-0123456789")
	var out bytes.Buffer
	o, err := parseFlags([]string{"-duration", "300ms", "-workers", "2", "-redis", redistest.URL(t)}, &out)
	if err != nil {
		t.Fatal(err)
	}
	o.token = mustToken(t, o)
	res, err := runBaseline(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.ok == 0 || res.non2xx != 0 || res.errors != 0 {
		t.Fatalf("baseline run: ok %d non2xx %d errors %d %v", res.ok, res.non2xx, res.errors, res.byStatus)
	}
	b, _ := json.Marshal(res.summary())
	for _, k := range []string{"intake_rps", "p50_ms", "p99_ms", "errors", "non_2xx"} {
		if !strings.Contains(string(b), `"`+k+`"`) {
			t.Errorf("summary lacks %s: %s", k, b)
		}
	}
}

// The baseline served in a process of its own is driven like the adapter,
// and the run reports its server CPU per referral from its /metrics; it
// stops when its context ends.
func TestServedBaselineReportsItsCPU(t *testing.T) {
	t.Setenv("AUTH_DEV_HS256_SECRET", "loadgen-test-secret-0123456789")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	redisURL := redistest.URL(t)
	var out bytes.Buffer
	o, err := parseFlags([]string{"-serve-baseline", addr, "-redis", redisURL, "-duration", "300ms", "-workers", "2",
		"-target", "http://" + addr, "-metrics", "http://" + addr + "/metrics"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	o.token = mustToken(t, o)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serveBaseline(ctx, o, addr) }()
	for i := 0; ; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		} else if i == 100 {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	res, err := run(context.Background(), o, o.target)
	if err != nil {
		t.Fatal(err)
	}
	cpu, ok := res.summary()["cpu_ms_per_referral"].(float64)
	if res.ok == 0 || res.non2xx != 0 || !ok || cpu <= 0 {
		t.Fatalf("run against the served baseline: ok %d non2xx %d, cpu %v ms per referral", res.ok, res.non2xx, cpu)
	}
	cancel()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
}

func mustToken(t *testing.T, o *options) string {
	t.Helper()
	tok, err := mint(o)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestMixedCountsOtherOperations(t *testing.T) {
	r := newResults()
	r.elapsed = time.Second
	r.addOther("claim", 200, 2*time.Millisecond)
	r.addOther("claim", 204, time.Millisecond)
	r.addOther("claim", 503, time.Millisecond)
	r.addOther("claim", 0, time.Millisecond) // cut off by the end of the run
	m := r.summary()
	if m["claim_rps"] != 2.0 || m["claim_failed"] != 1 {
		t.Errorf("summary %v", m)
	}
}

// The generator's transaction Bundle is one the adapter's parser accepts:
// a Consent and a referral for the same patient.
func TestBundleIsAValidTransaction(t *testing.T) {
	p, err := fhir.NewParser()
	if err != nil {
		t.Fatal(err)
	}
	sr, nhs := referralFor("run")
	entries, err := p.Transaction(bundleFor("run", sr, nhs))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Resource.Type != "Consent" || entries[1].Resource.Type != "ServiceRequest" {
		t.Fatalf("entries %+v", entries)
	}
	for _, e := range entries {
		if !strings.Contains(string(e.Resource.Raw), nhs) {
			t.Errorf("%s does not name the patient %s", e.Resource.Type, nhs)
		}
	}
}

func TestRedisCountersFromInfo(t *testing.T) {
	info := "# Stats\r\ntotal_connections_received:3\r\ntotal_commands_processed:120\r\ntotal_reads_processed:45\r\n\r\n" +
		"# CPU\r\nused_cpu_sys:1.250000\r\nused_cpu_user:2.500000\r\nused_cpu_sys_children:9.000000\r\n"
	c, ok := parseRedisCounters(info)
	if !ok || c.commands != 120 || c.reads != 45 || c.cpu != 3.75 {
		t.Fatalf("%+v %v", c, ok)
	}
	if _, ok := parseRedisCounters("# Stats\r\n"); ok {
		t.Error("counters read from an INFO without them")
	}
	if d := redisCost(redisCounters{reads: 10, commands: 20, cpu: 1}, redisCounters{reads: 31, commands: 61, cpu: 1.5}); d.reads != 20 || d.commands != 40 || d.cpu != 0.5 {
		t.Errorf("cost %+v", d)
	}
	r := newResults()
	r.add("good", 201, time.Millisecond, nil)
	r.addOther("consent", 201, time.Millisecond)
	r.redis = &redisCounters{reads: 4, commands: 30}
	m := r.summary()
	if m["redis_roundtrips_per_request"] != 2.0 || m["redis_roundtrips_per_referral"] != 4.0 || m["requests"] != 2 {
		t.Errorf("summary %v", m)
	}
}

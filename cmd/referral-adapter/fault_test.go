package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
	"github.com/social-prescribing/referral-adapter/adapter/redis"
	"github.com/social-prescribing/referral-adapter/internal/redistest"
)

// Redis is killed (SIGKILL) in the middle of a load and started again from
// its append-only file: during the outage writes answer 503 with
// Retry-After (never 500), /readyz goes red then green without a restart,
// and every referral acknowledged with 201 is there afterwards, whole,
// with its audit record.
func TestRedisCrashMidLoadLosesNothingAcknowledged(t *testing.T) {
	rs := redistest.NewServer(t, "--appendonly", "yes", "--appendfsync", "always")
	// No rate limit: load and the checks after it come from one token.
	h := newHarness(t, map[string]string{"REDIS_URL": rs.URL(), "REDIS_OP_TIMEOUT": "300ms", "REDIS_DIAL_TIMEOUT": "300ms",
		"RATE_LIMIT_PER_MINUTE": "0"})
	tok := h.token(auth.RolePractice, practice)
	base := fixture(t, "servicerequest-debt.json")

	var (
		mu       sync.Mutex
		acked    []string
		statuses = map[int]int{}
		seq      atomic.Int64
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				n := seq.Add(1)
				body := withJSON(t, base, map[string]any{"identifier": []any{map[string]any{"system": referralSys, "value": fmt.Sprintf("load-%d", n)}},
					"subject": map[string]any{"reference": fmt.Sprintf("Patient/load-%d", n)}})
				r := h.do("POST", "/fhir/ServiceRequest", tok, body)
				mu.Lock()
				statuses[r.status]++
				if r.status == 201 {
					acked = append(acked, locationID(r.header.Get("Location")))
				}
				if r.status == 503 && r.header.Get("Retry-After") == "" {
					t.Error("503 without Retry-After")
				}
				// It says what failed first: the store, not the audit
				// trail the adapter then could not write either.
				if r.status == 503 && !strings.Contains(string(r.body), "the store is unavailable") {
					t.Errorf("503 during the outage says: %.200s", r.body)
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(400 * time.Millisecond)
	rs.Stop()
	// The outage lasts until requests have been refused (the client's
	// retries can carry a request across a short one), at most 5 s.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		refused := statuses[503]
		mu.Unlock()
		if refused >= 3 {
			break
		}
	}
	if r := h.do("GET", "/readyz", "", nil); r.status != 503 {
		t.Errorf("readyz during the outage = %d", r.status)
	}
	if err := rs.Start(); err != nil {
		t.Fatal(err)
	}
	// Recovery needs no restart: the client reconnects by itself (its pool
	// tries again about once a second), with the load still running.
	recovered := false
	for deadline := time.Now().Add(10 * time.Second); !recovered && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		recovered = h.do("GET", "/readyz", "", nil).status == 200
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()

	t.Logf("statuses %v, acknowledged %d", statuses, len(acked))
	for st := range statuses {
		if st != 201 && st != 503 {
			t.Errorf("status %d under outage (only 201 and 503 are acceptable)", st)
		}
	}
	if statuses[503] == 0 || len(acked) == 0 {
		t.Fatalf("the test did not exercise both sides of the outage: %v", statuses)
	}
	if !recovered {
		t.Fatal("readyz still red 10 s after Redis came back")
	}
	for _, id := range acked {
		if r := readAsAClientWould(h, "/fhir/ServiceRequest/"+id, tok); r.status != 200 {
			t.Fatalf("acknowledged referral %s lost: %d", id, r.status)
		}
		r := readAsAClientWould(h, "/fhir/Task/"+id, tok)
		if task := r.json(t); r.status != 200 || task["status"] != "requested" || task["owner"] == nil {
			t.Fatalf("acknowledged referral %s has no placed Task: %d %v", id, r.status, task)
		}
	}
	assertNoHalfReferrals(t, h)
	assertEveryCreateAudited(t, h.app.store, acked)
}

// readAsAClientWould reads path, trying again after a 503 (with
// Retry-After) as a client does, a few times. Right after Redis comes back
// from its append-only file, on a machine busy with other tests, a read's
// audit record (fsync always) can outlast this test's 300 ms operation
// timeout: the read answers 503 and nothing is lost. Anything else is
// the answer.
func readAsAClientWould(h *harness, path, tok string) response {
	h.t.Helper()
	r := h.do("GET", path, tok, nil)
	for try := 0; try < 5 && r.status == 503 && r.header.Get("Retry-After") != ""; try++ {
		time.Sleep(200 * time.Millisecond)
		r = h.do("GET", path, tok, nil)
	}
	return r
}

// assertEveryCreateAudited checks that every referral answered 201 has its
// audit record: a create of ServiceRequest/{id} with outcome 201.
func assertEveryCreateAudited(t *testing.T, st *redis.Store, acked []string) {
	t.Helper()
	key := strings.TrimSuffix(st.KeyPattern(), "*") + "audit"
	msgs, err := st.Client().XRange(context.Background(), key, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	audited := map[string]bool{}
	for _, m := range msgs {
		if m.Values["act"] == "C" && m.Values["out"] == "201" {
			audited[fmt.Sprint(m.Values["ent"])] = true
		}
	}
	missing := 0
	for _, id := range acked {
		if !audited["ServiceRequest/"+id] {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d referrals answered 201 have no audit record", missing, len(acked))
	}
}

// assertNoHalfReferrals checks every stored ServiceRequest has its Task.
func assertNoHalfReferrals(t *testing.T, h *harness) {
	t.Helper()
	for _, k := range mustKeys(t, h, "sr:*") {
		id := k[strings.LastIndex(k, ":")+1:]
		if n, _ := h.app.store.Client().Exists(context.Background(), strings.Replace(k, ":sr:", ":task:", 1)).Result(); n != 1 {
			t.Errorf("ServiceRequest %s stored without its Task", id)
		}
	}
}

// A Redis that stalls (DEBUG SLEEP) makes requests fail cleanly with 503
// within the request deadline instead of hanging.
func TestSlowRedisTimesOutCleanly(t *testing.T) {
	rs := redistest.NewServer(t, "--enable-debug-command", "yes")
	h := newHarness(t, map[string]string{"REDIS_URL": rs.URL(), "REDIS_OP_TIMEOUT": "200ms", "REQUEST_TIMEOUT": "500ms"})
	tok := h.token(auth.RolePractice, practice)
	sleeper := goredis.NewClient(&goredis.Options{Addr: rs.Addr, ReadTimeout: 5 * time.Second})
	defer sleeper.Close()
	done := make(chan error, 1)
	go func() { done <- sleeper.Do(context.Background(), "DEBUG", "SLEEP", "1.5").Err() }()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	r := h.do("POST", "/fhir/ServiceRequest", tok, fixture(t, "servicerequest-debt.json"))
	took := time.Since(start)
	t.Logf("answered %d after %v while Redis slept", r.status, took)
	if r.status != 503 {
		t.Fatalf("= %d %s, want 503", r.status, r.body)
	}
	if is := issue(t, r); is["code"] != "transient" {
		t.Errorf("issue = %v", is)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Once Redis answers again, so does the adapter; whatever the timed-out
	// request did or did not write, it is never half a referral.
	if r := h.do("POST", "/fhir/ServiceRequest", tok, fixture(t, "servicerequest-loneliness.json")); r.status != 201 {
		t.Errorf("after the stall = %d", r.status)
	}
	assertNoHalfReferrals(t, h)
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
	"github.com/social-prescribing/referral-adapter/adapter/redis"
	"github.com/social-prescribing/referral-adapter/internal/redistest"
)

// childEnv, set in the environment of a re-executed test binary, makes it
// run the service itself (serve) instead of the tests: the crash test
// needs a real process it can SIGKILL.
const childEnv = "REFERRAL_ADAPTER_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "serve" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := realMain(ctx, []string{"serve"}, os.Stdout, os.Stderr)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "referral-adapter:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// adapterProcess is the service running as its own OS process.
type adapterProcess struct {
	t    *testing.T
	env  []string
	addr string
	cmd  *exec.Cmd
	logs *lockedWriter
}

func startAdapterProcess(t *testing.T, env map[string]string) *adapterProcess {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	p := &adapterProcess{t: t, addr: addr, logs: &lockedWriter{w: &bytes.Buffer{}}}
	p.env = append(os.Environ(), childEnv+"=serve", "ADDR="+addr, "METRICS_ADDR=off", "LOG_LEVEL=warn")
	for k, v := range env {
		p.env = append(p.env, k+"="+v)
	}
	p.start()
	t.Cleanup(p.kill)
	return p
}

func (p *adapterProcess) start() {
	p.t.Helper()
	p.cmd = exec.Command(os.Args[0], "-test.run=^$")
	p.cmd.Env = p.env
	p.cmd.Stdout, p.cmd.Stderr = io.Discard, p.logs
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get("http://" + p.addr + "/readyz"); err == nil {
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.t.Fatalf("adapter process not ready within 60s")
}

// kill sends SIGKILL: no shutdown hook, no drain, as in a crash.
func (p *adapterProcess) kill() {
	if p.cmd != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	}
}

func (p *adapterProcess) do(method, path, token string, body []byte) (int, http.Header, []byte, error) {
	req, err := http.NewRequest(method, "http://"+p.addr+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, b, err
}

// The adapter process is SIGKILLed in the middle of a load and started
// again: every referral it acknowledged with 201 is there, with its Task,
// its queue entry and its audit record, and a client retrying every
// identifier it sent (acknowledged or not) never gets a duplicate.
func TestAdapterKilledMidLoadLosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the service as a separate process")
	}
	ns := redistest.Namespace(t)
	url := redistest.URL(t)
	p := startAdapterProcess(t, map[string]string{"AUTH_DEV_HS256_SECRET": testSecret, "REDIS_URL": url,
		"REDIS_NAMESPACE": ns, "CONSENT_REQUIRED": "false", "JOBS_ENABLED": "false", "NOTIFY_DISPATCH": "false",
		"RATE_LIMIT_PER_MINUTE": "0"})
	tok, err := auth.Mint(testSecret, auth.MintOptions{Role: auth.RolePractice, Org: practice, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	base := fixture(t, "servicerequest-general.json")
	body := func(n int64) []byte {
		return withJSON(t, base, map[string]any{"identifier": []any{map[string]any{"system": referralSys, "value": fmt.Sprintf("crash-%d", n)}},
			"subject": map[string]any{"reference": fmt.Sprintf("Patient/crash-%d", n)}})
	}

	var (
		mu      sync.Mutex
		acked   = map[int64]string{} // identifier number → id answered with 201
		sent    atomic.Int64
		other   []int
		stop    atomic.Bool
		wg      sync.WaitGroup
		started = make(chan struct{})
		once    sync.Once
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				n := sent.Add(1)
				status, h, _, err := p.do("POST", "/fhir/ServiceRequest", tok, body(n))
				if err != nil {
					continue // the process died under this request: in doubt, retried below
				}
				mu.Lock()
				switch status {
				case http.StatusCreated:
					acked[n] = locationID(h.Get("Location"))
					if len(acked) == 50 {
						once.Do(func() { close(started) })
					}
				default:
					other = append(other, status)
				}
				mu.Unlock()
			}
		}()
	}
	select {
	case <-started:
	case <-time.After(60 * time.Second):
		t.Fatal("no load got through within 60s")
	}
	p.kill() // mid-load, with requests in flight
	stop.Store(true)
	wg.Wait()
	if len(other) > 0 {
		t.Errorf("answers other than 201 before the crash: %v", other)
	}
	p.start()

	st := redis.New(redistest.Client(t), ns)
	ctx := context.Background()
	// Waiting means queued, or waitlisted once the link workers' 120
	// places are taken.
	waiting := func() []string {
		q, err := st.QueuedTaskIDs(ctx, "riverside-link-workers")
		if err != nil {
			t.Fatal(err)
		}
		w, err := st.Waitlist(ctx, "riverside-link-workers")
		if err != nil {
			t.Fatal(err)
		}
		return append(q, w...)
	}
	queued := waiting()
	for n, id := range acked {
		task, err := st.Task(ctx, id)
		if err != nil || task.Owner != "riverside-link-workers" || task.Status != "requested" {
			t.Fatalf("acknowledged referral %d (%s) after the crash: task %+v, %v", n, id, task, err)
		}
		if !slices.Contains(queued, id) {
			t.Errorf("acknowledged referral %s is neither queued nor waitlisted after the crash", id)
		}
		if status, _, _, err := p.do("GET", "/fhir/ServiceRequest/"+id, tok, nil); err != nil || status != 200 {
			t.Errorf("GET acknowledged referral %s = %d %v", id, status, err)
		}
	}
	// The client retries everything it sent: acknowledged ones answer 200
	// with the same id; in-doubt ones are created once or found.
	for n := int64(1); n <= sent.Load(); n++ {
		status, h, _, err := p.do("POST", "/fhir/ServiceRequest", tok, body(n))
		if err != nil {
			t.Fatal(err)
		}
		id, ok := acked[n]
		switch {
		case ok && (status != 200 || locationID(h.Get("Location")) != id):
			t.Errorf("retry of acknowledged %d = %d %s, want 200 for %s", n, status, h.Get("Location"), id)
		case !ok && status != 200 && status != 201:
			t.Errorf("retry of in-doubt %d = %d", n, status)
		}
	}
	queued = waiting()
	if int64(len(queued)) != sent.Load() {
		t.Errorf("%d queue and waitlist entries for %d distinct identifiers: lost or duplicated", len(queued), sent.Load())
	}
	assertEveryCreateAudited(t, st, slices.Collect(maps.Values(acked)))
	t.Logf("%d sent, %d acknowledged before SIGKILL; all present, none duplicated", sent.Load(), len(acked))
}

// The load generator's hostile mode mixes malformed, oversized, deeply
// nested, wrongly typed, badly coded and huge-number bodies with good
// referrals: every bad one is a 4xx, every good one is stored once, and
// the service stays healthy.
func TestHostileInputAtVolume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the load generator")
	}
	bin := t.TempDir() + "/referral-loadgen"
	build := exec.Command("go", "build", "-o", bin, "./cmd/referral-loadgen")
	build.Dir = repoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the load generator: %v\n%s", err, out)
	}
	h := newHarness(t, map[string]string{"RATE_LIMIT_PER_MINUTE": "0"})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	lg := exec.CommandContext(ctx, bin, "-target", h.srv.URL, "-mode", "hostile", "-duration", "3s", "-workers", "8", "-consent=false")
	lg.Env = append(os.Environ(), "AUTH_DEV_HS256_SECRET="+testSecret)
	out, err := lg.Output()
	if err != nil {
		t.Fatalf("load generator: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var sum map[string]float64
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatalf("last line is not the JSON summary: %v\n%s", err, out)
	}
	if sum["hostile_4xx"] < 20 || sum["stored"] < 20 {
		t.Fatalf("too little traffic to judge: %v", sum)
	}
	if sum["hostile_other"] != 0 || sum["errors"] != 0 {
		t.Errorf("bad input not all answered 4xx, or transport errors: %v", sum)
	}
	if sum["non_2xx"] != 0 {
		t.Errorf("%v good referrals were refused", sum["non_2xx"])
	}
	tasks := 0
	for _, k := range h.dataKeys() {
		if strings.Contains(k, "}:task:") {
			tasks++
		}
	}
	if float64(tasks) != sum["stored"] {
		t.Errorf("%d Tasks stored for %v good referrals acknowledged", tasks, sum["stored"])
	}
	if r := h.do("GET", "/readyz", "", nil); r.status != 200 {
		t.Errorf("readyz after hostile load = %d", r.status)
	}
	if strings.Contains(h.logs.String(), "panic") {
		t.Error("a panic was logged under hostile input")
	}
	t.Logf("hostile load: %v", sum)
}

package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/adapter/notify"
	"github.com/social-prescribing/referral-adapter/adapter/redis"
	"github.com/social-prescribing/referral-adapter/internal/redistest"
)

// clock is a settable clock shared by a test's dispatchers.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is one test's store, clock and services over a private namespace of
// a real Redis.
type env struct {
	t      testing.TB
	store  *redis.Store
	clock  *clock
	cfg    notify.Config
	parser *fhir.Parser
	render *fhir.Renderer
	subs   *notify.Subscriptions
}

func newEnv(t testing.TB) *env {
	t.Helper()
	p, _ := fhir.NewParser()
	r, _ := fhir.NewRenderer()
	cfg := notify.Config{AllowHTTP: true, MaxAttempts: 4, RetryBase: 30 * time.Second, RetryMax: 16 * time.Minute,
		Timeout: 30 * time.Second, ClaimFor: time.Minute} // generous: a loaded CI machine must not time out a 200 into a retry
	e := &env{t: t, store: redis.New(redistest.Client(t), redistest.Namespace(t)), cfg: cfg, parser: p, render: r,
		clock: &clock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}}
	e.subs = notify.NewSubscriptions(cfg, p, e.store)
	return e
}

func (e *env) dispatcher(name string) *notify.Dispatcher {
	return notify.New(e.cfg, notify.Deps{Store: e.store, Render: e.render, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		BaseURL: "https://sp.example/fhir", Consumer: name, Now: e.clock.Now, Batch: 5, Block: -1})
}

// subscribe creates a Subscription for the practice pointing at the
// receiver, with an optional criteria override.
func (e *env) subscribe(practice string, rc *receiver, criteria string) *adapter.Subscription {
	e.t.Helper()
	if criteria == "" {
		criteria = fhir.TopicTask
	}
	body := fmt.Sprintf(`{"resourceType":"Subscription","status":"requested","reason":"test","criteria":%q,
	  "channel":{"type":"rest-hook","endpoint":%q,"payload":"application/fhir+json","header":["Authorization: Bearer %s"]}}`,
		criteria, rc.srv.URL+"/notify", practice)
	sub, err := e.subs.Create(context.Background(), practice, []byte(body))
	if err != nil {
		e.t.Fatal(err)
	}
	return sub
}

func (e *env) publish(practice, task string, st adapter.TaskStatus) {
	e.t.Helper()
	ev := adapter.TaskEvent{TaskID: task, ReferralID: task, Practice: practice, Status: st, Time: e.clock.Now()}
	if err := e.store.PublishTaskEvent(context.Background(), ev); err != nil {
		e.t.Fatal(err)
	}
}

// poll runs dispatcher polls until one handles nothing.
func (e *env) poll(d *notify.Dispatcher) {
	e.t.Helper()
	for {
		n, err := d.Poll(context.Background())
		if err != nil {
			e.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// retry runs the retry job once, under its lock, as the scheduler does.
func (e *env) retry(d *notify.Dispatcher) map[string]int {
	e.t.Helper()
	ctx := context.Background()
	lease, ok, err := e.store.Acquire(ctx, notify.JobName, time.Minute)
	if err != nil || !ok {
		e.t.Fatalf("retry lock: %v %v", ok, err)
	}
	defer func() { _ = lease.Release(ctx) }()
	rep, err := d.RetryDue(ctx, lease.Fence())
	if err != nil {
		e.t.Fatal(err)
	}
	return rep
}

func (e *env) pending() int64 {
	n, err := e.store.PendingDeliveries(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// notice is one notification as a receiver saw it.
type notice struct {
	Type, Status, Number, Focus, Auth string
	Answered                          int
}

// receiver is a practice EHR's notification endpoint. answer gives the
// HTTP status for the n-th event notification (1-based); handshakes get
// handshake.
type receiver struct {
	srv       *httptest.Server
	parser    *fhir.Parser
	answer    func(n int) int
	handshake int
	mu        sync.Mutex
	got       []notice
	problems  []string
}

func newReceiver(t testing.TB, p *fhir.Parser, answer func(n int) int) *receiver {
	rc := &receiver{parser: p, answer: answer, handshake: http.StatusOK}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	n, problem := rc.read(body)
	n.Auth = r.Header.Get("Authorization")
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if r.Header.Get("Content-Type") != "application/fhir+json" {
		problem += " content-type " + r.Header.Get("Content-Type")
	}
	if problem != "" {
		rc.problems = append(rc.problems, problem)
	}
	n.Answered = rc.handshake
	if n.Type == "event-notification" {
		events := 1
		for _, g := range rc.got {
			if g.Type == "event-notification" {
				events++
			}
		}
		n.Answered = rc.answer(events)
	}
	rc.got = append(rc.got, n)
	w.WriteHeader(n.Answered)
}

// read checks a notification is a valid FHIR history Bundle holding one
// Parameters resource and nothing else, and extracts what it says.
func (rc *receiver) read(body []byte) (notice, string) {
	res, err := rc.parser.Parse(body, "Bundle")
	if err != nil {
		return notice{}, "not a valid FHIR Bundle: " + err.Error()
	}
	var b struct {
		Type  string `json:"type"`
		Entry []struct {
			Resource struct {
				ResourceType string `json:"resourceType"`
				Parameter    []struct {
					Name           string
					ValueCode      string
					ValueString    string
					ValueReference struct{ Reference string }
					Part           []struct {
						Name           string
						ValueString    string
						ValueReference struct{ Reference string }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(res.Raw, &b); err != nil {
		return notice{}, err.Error()
	}
	if b.Type != "history" || len(b.Entry) != 1 || b.Entry[0].Resource.ResourceType != "Parameters" {
		return notice{}, "not a history Bundle of one Parameters: " + string(body)
	}
	var n notice
	for _, p := range b.Entry[0].Resource.Parameter {
		switch p.Name {
		case "type":
			n.Type = p.ValueCode
		case "status":
			n.Status = p.ValueCode
		case "notification-event":
			for _, part := range p.Part {
				switch part.Name {
				case "event-number":
					n.Number = part.ValueString
				case "focus":
					n.Focus = part.ValueReference.Reference
				}
			}
		}
	}
	return n, ""
}

func (rc *receiver) events() []notice {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []notice
	for _, n := range rc.got {
		if n.Type == "event-notification" {
			out = append(out, n)
		}
	}
	return out
}

func (rc *receiver) check(t *testing.T) {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, p := range rc.problems {
		t.Error(p)
	}
}

func always(status int) func(int) int { return func(int) int { return status } }

func TestHandshakeActivatesSubscription(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, e.parser, always(200))
	sub := e.subscribe("A81001", rc, "")
	if sub.Status != adapter.SubscriptionRequested {
		t.Fatalf("new Subscription is %s", sub.Status)
	}
	e.poll(e.dispatcher("d1"))
	got, _ := e.store.Subscription(context.Background(), sub.ID)
	if got.Status != adapter.SubscriptionActive {
		t.Errorf("after handshake: %s", got.Status)
	}
	rc.mu.Lock()
	hs := rc.got
	rc.mu.Unlock()
	if len(hs) != 1 || hs[0].Type != "handshake" || hs[0].Status != "requested" || hs[0].Auth != "Bearer A81001" {
		t.Errorf("handshake = %+v", hs)
	}
	rc.check(t)
}

func TestFailedHandshakeMarksSubscriptionError(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, e.parser, always(200))
	rc.handshake = http.StatusForbidden
	sub := e.subscribe("A81001", rc, "")
	d := e.dispatcher("d1")
	e.poll(d)
	got, _ := e.store.Subscription(context.Background(), sub.ID)
	if got.Status != adapter.SubscriptionError || got.Error != "handshake failed: http-403" {
		t.Errorf("after failed handshake: %s %q", got.Status, got.Error)
	}
	e.publish("A81001", "t1", adapter.TaskAccepted)
	e.poll(d)
	if ev := rc.events(); len(ev) != 0 {
		t.Errorf("a Subscription in error was notified: %v", ev)
	}
	dead, _ := e.store.DeadLetters(context.Background(), 10)
	if len(dead) != 1 || dead[0].Type != "handshake" || dead[0].LastError != "http-403" {
		t.Errorf("dead letters = %+v", dead)
	}
}

// The receiver fails the first two attempts and accepts the third: the
// notification arrives after two retries, driven by the retry job on an
// advancing clock, with the same event number each time.
func TestDeliveredAfterRetries(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, e.parser, func(n int) int {
		if n <= 2 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	e.subscribe("A81001", rc, "")
	d := e.dispatcher("d1")
	e.poll(d)
	e.publish("A81001", "task-1", adapter.TaskAccepted)
	e.poll(d)
	if got := len(rc.events()); got != 1 {
		t.Fatalf("first attempt: %d notifications", got)
	}

	e.clock.Advance(29 * time.Second)
	if rep := e.retry(d); rep["claimed"] != 0 {
		t.Errorf("retried before the 30s backoff: %v", rep)
	}
	e.clock.Advance(2 * time.Second)
	if rep := e.retry(d); rep["claimed"] != 1 || rep["retried"] != 1 {
		t.Errorf("second attempt: %v", rep)
	}
	e.clock.Advance(59 * time.Second) // the second backoff is 1m
	if rep := e.retry(d); rep["claimed"] != 0 {
		t.Errorf("retried before the 1m backoff: %v", rep)
	}
	e.clock.Advance(2 * time.Second)
	if rep := e.retry(d); rep["delivered"] != 1 {
		t.Errorf("third attempt: %v", rep)
	}

	evs := rc.events()
	if len(evs) != 3 {
		t.Fatalf("notifications = %d, want 3", len(evs))
	}
	for _, n := range evs {
		if n.Number != "1" || n.Focus != "https://sp.example/fhir/Task/task-1" || n.Status != "active" {
			t.Errorf("notification = %+v", n)
		}
	}
	if e.pending() != 0 {
		t.Errorf("%d deliveries still pending", e.pending())
	}
	if dead, _ := e.store.DeadLetters(context.Background(), 10); len(dead) != 0 {
		t.Errorf("dead letters = %v", dead)
	}
	rc.check(t)
}

// A receiver that always fails: after MaxAttempts the notification is
// dead-lettered, with ids and an error code only, and not tried again.
func TestDeadLetterAfterMaxAttempts(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, e.parser, always(http.StatusInternalServerError))
	sub := e.subscribe("A81001", rc, "")
	d := e.dispatcher("d1")
	e.poll(d)
	e.publish("A81001", "task-1", adapter.TaskCompleted)
	e.poll(d)
	for i := 0; i < 10 && e.pending() > 0; i++ {
		e.clock.Advance(e.cfg.RetryMax)
		e.retry(d)
	}
	if got := len(rc.events()); got != e.cfg.MaxAttempts {
		t.Errorf("attempts = %d, want %d", got, e.cfg.MaxAttempts)
	}
	dead, err := e.store.DeadLetters(context.Background(), 10)
	if err != nil || len(dead) != 1 {
		t.Fatalf("dead letters = %v, %v", dead, err)
	}
	dl := dead[0]
	if dl.Subscription != sub.ID || dl.Practice != "A81001" || dl.Task != "task-1" || dl.EventNumber != 1 ||
		dl.Attempts != e.cfg.MaxAttempts || dl.LastError != "http-500" || dl.Type != "event-notification" {
		t.Errorf("dead letter = %+v", dl)
	}
	e.clock.Advance(time.Hour)
	if rep := e.retry(d); rep["claimed"] != 0 {
		t.Errorf("a dead letter was retried: %v", rep)
	}
	rc.check(t)
}

// Two dispatchers on one Redis: every event is delivered exactly once.
func TestTwoDispatchersDeliverEachEventOnce(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, e.parser, always(200))
	e.subscribe("A81001", rc, "")
	const events = 40
	for i := range events {
		e.publish("A81001", fmt.Sprintf("task-%02d", i), adapter.TaskAccepted)
	}
	ds := []*notify.Dispatcher{e.dispatcher("d1"), e.dispatcher("d2")}
	handled := make([]int, len(ds))
	// Each takes a batch in turn, then both run at once.
	for i, d := range ds {
		n, err := d.Poll(context.Background())
		if err != nil || n == 0 {
			t.Fatalf("dispatcher %d: %d, %v", i, n, err)
		}
		handled[i] += n
	}
	var wg sync.WaitGroup
	for i, d := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n, err := d.Poll(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				handled[i] += n
				if n == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	// The handshake made the Subscription active only after some events
	// were fanned out: those wait for the retry job.
	for i := 0; i < 5 && e.pending() > 0; i++ {
		e.clock.Advance(time.Minute)
		e.retry(ds[0])
	}
	seen := map[string]int{}
	numbers := map[string]int{}
	for _, n := range rc.events() {
		if n.Answered == http.StatusOK {
			seen[n.Focus]++
			numbers[n.Number]++
		}
	}
	if len(seen) != events {
		t.Errorf("%d distinct Tasks delivered, want %d", len(seen), events)
	}
	for focus, c := range seen {
		if c != 1 {
			t.Errorf("%s delivered %d times", focus, c)
		}
	}
	for i := 1; i <= events; i++ {
		if numbers[fmt.Sprint(i)] != 1 {
			t.Errorf("event number %d delivered %d times", i, numbers[fmt.Sprint(i)])
		}
	}
	if handled[0]+handled[1] != events+1 { // + the handshake
		t.Errorf("triggers handled %v, want %d in all", handled, events+1)
	}
	t.Logf("triggers handled per dispatcher: %v", handled)
	rc.check(t)
}

// A practice is told only about its own Tasks, and only those its filter
// lets through.
func TestPracticeNeverNotifiedOfAnotherPracticesTask(t *testing.T) {
	e := newEnv(t)
	ra := newReceiver(t, e.parser, always(200))
	rb := newReceiver(t, e.parser, always(200))
	rf := newReceiver(t, e.parser, always(200))
	e.subscribe("A81001", ra, "")
	e.subscribe("B82002", rb, "")
	e.subscribe("A81001", rf, "Task?status=completed")
	d := e.dispatcher("d1")
	e.poll(d)
	e.publish("A81001", "task-a", adapter.TaskAccepted)
	e.publish("B82002", "task-b", adapter.TaskRejected)
	e.poll(d)

	if evs := ra.events(); len(evs) != 1 || !strings.HasSuffix(evs[0].Focus, "/Task/task-a") {
		t.Errorf("practice A got %+v", evs)
	}
	if evs := rb.events(); len(evs) != 1 || !strings.HasSuffix(evs[0].Focus, "/Task/task-b") {
		t.Errorf("practice B got %+v", evs)
	}
	if evs := rf.events(); len(evs) != 0 {
		t.Errorf("completed-only Subscription got %+v", evs)
	}
	for _, rc := range []*receiver{ra, rb, rf} {
		rc.check(t)
	}
}

// A Task event that arrives while the handshake is still pending is not
// lost: it is delivered by a retry once the Subscription is active.
func TestEventBeforeHandshakeIsDeliveredLater(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, e.parser, always(200))
	sub := e.subscribe("A81001", rc, "")
	e.publish("A81001", "task-1", adapter.TaskAccepted)
	// Fan the event out first, then the handshake, as a second dispatcher
	// could when it reads the event while the first handles the handshake.
	ctx := context.Background()
	d := e.dispatcher("d1")
	if err := e.store.EnsureNotifyGroup(ctx); err != nil {
		t.Fatal(err)
	}
	trigs, err := e.store.ReadTriggers(ctx, "manual", 10, 0)
	if err != nil || len(trigs) != 2 {
		t.Fatalf("triggers = %v %v", trigs, err)
	}
	got, _ := e.store.Subscription(ctx, sub.ID)
	if _, err := e.store.FanOut(ctx, trigs[1], []*adapter.Subscription{got}, e.clock.Now(), e.clock.Now(), "x"); err != nil {
		t.Fatal(err)
	}
	if rep := e.retry(d); rep["retried"] != 1 {
		t.Fatalf("event before handshake: %v", rep)
	}
	if _, err := e.store.FanOut(ctx, trigs[0], []*adapter.Subscription{got}, e.clock.Now(), e.clock.Now(), "x"); err != nil {
		t.Fatal(err)
	}
	e.retry(d) // the handshake
	e.clock.Advance(31 * time.Second)
	if rep := e.retry(d); rep["delivered"] != 1 {
		t.Errorf("event after handshake: %v", rep)
	}
	if evs := rc.events(); len(evs) != 1 || evs[0].Number != "1" {
		t.Errorf("events = %+v", evs)
	}
}

func TestRetryDelay(t *testing.T) {
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 16 * time.Minute}
	for i, w := range want {
		if got := notify.RetryDelay(i+1, 30*time.Second, 16*time.Minute); got != w {
			t.Errorf("after %d failures: %s, want %s", i+1, got, w)
		}
	}
}

// A redirect to another host is not followed: the notification and its
// headers never leave for a host the practice did not name.
func TestRedirectToAnotherHostIsNotFollowed(t *testing.T) {
	e := newEnv(t)
	elsewhere := newReceiver(t, e.parser, always(200))
	rc := newReceiver(t, e.parser, always(200))
	rc.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.srv.URL+"/steal", http.StatusTemporaryRedirect)
	})
	sub := e.subscribe("A81001", rc, "")
	e.poll(e.dispatcher("d1"))
	got, _ := e.store.Subscription(context.Background(), sub.ID)
	if got.Status != adapter.SubscriptionError || got.Error != "handshake failed: http-307" {
		t.Errorf("subscription after a redirected handshake: %s %q", got.Status, got.Error)
	}
	elsewhere.mu.Lock()
	defer elsewhere.mu.Unlock()
	if len(elsewhere.got) != 0 {
		t.Errorf("the redirect target received %d notifications", len(elsewhere.got))
	}
}

// RunDispatcher delivers until its context ends, then returns.
func TestRunDispatcherStopsWithContext(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, e.parser, always(200))
	e.subscribe("A81001", rc, "")
	e.publish("A81001", "task-1", adapter.TaskAccepted)
	d := notify.New(e.cfg, notify.Deps{Store: e.store, Render: e.render, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: e.clock.Now})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.RunDispatcher(ctx); close(done) }()
	for deadline := time.Now().Add(10 * time.Second); len(rc.events()) == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if evs := rc.events(); len(evs) != 1 || evs[0].Focus != "Task/task-1" {
		t.Errorf("delivered %+v", evs)
	}
}

// Task events no Subscription wants (a practice without any, or a filter
// that does not match) are acknowledged all the same: none stays pending
// for another dispatcher to take over, and the wanted ones are delivered.
func TestTriggersNobodyWantsAreAcknowledged(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, e.parser, always(200))
	e.subscribe("A81001", rc, "Task?status=completed")
	d := e.dispatcher("d1")
	e.poll(d)
	for i := range 7 { // more than one poll's batch (5)
		e.publish("B82002", fmt.Sprintf("task-b%d", i), adapter.TaskAccepted)
	}
	e.publish("A81001", "task-a1", adapter.TaskAccepted)
	e.publish("A81001", "task-a2", adapter.TaskCompleted)
	e.poll(d)

	if evs := rc.events(); len(evs) != 1 || !strings.HasSuffix(evs[0].Focus, "/Task/task-a2") {
		t.Errorf("the Subscription got %+v, want only task-a2", evs)
	}
	left, err := e.store.ClaimStaleTriggers(context.Background(), "probe", 0, 100)
	if err != nil || len(left) != 0 {
		t.Errorf("triggers left pending: %+v, %v", left, err)
	}
	rc.check(t)
}

// A trigger another dispatcher read and never acknowledged is taken over
// once it has been idle ClaimFor, and a dispatcher looks for such triggers
// at most every ClaimFor/4 of its clock, not at every poll.
func TestStaleTriggersAreLookedForEveryQuarterClaim(t *testing.T) {
	e := newEnv(t)
	e.cfg.ClaimFor = 200 * time.Millisecond // real time: Redis measures the idle time
	ctx := context.Background()
	d := e.dispatcher("d2")
	if _, err := d.Poll(ctx); err != nil { // creates the group, looks for stale triggers: none
		t.Fatal(err)
	}
	e.publish("A81001", "task-1", adapter.TaskAccepted)
	if got, err := e.store.ReadTriggers(ctx, "died", 10, -1); err != nil || len(got) != 1 {
		t.Fatalf("the dispatcher that dies read %v, %v", got, err)
	}
	time.Sleep(300 * time.Millisecond) // idle past ClaimFor
	if n, err := d.Poll(ctx); err != nil || n != 0 {
		t.Fatalf("within ClaimFor/4 of the last look: handled %d, %v; want none", n, err)
	}
	e.clock.Advance(e.cfg.ClaimFor / 4)
	if n, err := d.Poll(ctx); err != nil || n != 1 {
		t.Fatalf("a quarter ClaimFor later: handled %d, %v; want the stale trigger", n, err)
	}
}

// A dispatcher that lingers between polls still delivers every event.
func TestLingeringDispatcherDeliversEveryEvent(t *testing.T) {
	e := newEnv(t)
	e.cfg.Linger = 20 * time.Millisecond
	rc := newReceiver(t, e.parser, always(200))
	sub := e.subscribe("A81001", rc, "")
	d := notify.New(e.cfg, notify.Deps{Store: e.store, Render: e.render, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: e.clock.Now, Batch: 5, Block: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.RunDispatcher(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	active := func() bool {
		got, err := e.store.Subscription(context.Background(), sub.ID)
		return err == nil && got.Status == adapter.SubscriptionActive
	}
	for deadline := time.Now().Add(10 * time.Second); !active() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	for i := range 12 {
		e.publish("A81001", fmt.Sprintf("task-%02d", i), adapter.TaskAccepted)
		if i%4 == 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); len(rc.events()) < 12 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if evs := rc.events(); len(evs) != 12 {
		t.Errorf("delivered %d events, want 12", len(evs))
	}
}

package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/adapter/jobs"
)

// JobName is the scheduled job that retries failed deliveries.
const JobName = "notification-retry"

// readBatch is how many triggers Poll reads at a time; parallelism how
// many deliveries are attempted at once (and how many a retry run claims
// at a time, so every claimed delivery is attempted within one timeout).
const (
	readBatch   = 50
	parallelism = 8
)

// Store is what the dispatcher needs from the store.
type Store interface {
	EnsureNotifyGroup(ctx context.Context) error
	ReadTriggers(ctx context.Context, consumer string, count int, block time.Duration) ([]adapter.NotifyTrigger, error)
	ClaimStaleTriggers(ctx context.Context, consumer string, minIdle time.Duration, count int) ([]adapter.NotifyTrigger, error)
	Subscription(ctx context.Context, id string) (*adapter.Subscription, error)
	SubscriptionsFor(ctx context.Context, practice string) ([]*adapter.Subscription, error)
	SetSubscriptionStatus(ctx context.Context, id string, from, to adapter.SubscriptionStatus, note string, at time.Time) (bool, error)
	FanOut(ctx context.Context, t adapter.NotifyTrigger, subs []*adapter.Subscription, now, claimUntil time.Time, claim string) ([]*adapter.Delivery, error)
	Acknowledge(ctx context.Context, ids ...string) error
	ClaimDue(ctx context.Context, job string, fence int64, now, claimUntil time.Time, limit int, claim string) ([]*adapter.Delivery, error)
	Delivered(ctx context.Context, d *adapter.Delivery) (bool, error)
	RetryAt(ctx context.Context, d *adapter.Delivery, next time.Time) (bool, error)
	DeadLetter(ctx context.Context, d *adapter.Delivery, dl adapter.DeadLetter) (bool, error)
	PendingDeliveries(ctx context.Context) (int64, error)
}

// Deps are the dispatcher's collaborators. Consumer, Now, Log, Client,
// Batch and Block default to the host name plus a random suffix,
// time.Now, slog.Default, a client built from the Config, 50 and one
// second.
type Deps struct {
	Store    Store
	Render   *fhir.Renderer
	Log      *slog.Logger
	BaseURL  string // public FHIR base for references in notifications
	Consumer string // this replica's name in the consumer group
	Now      func() time.Time
	Client   *http.Client
	Batch    int           // triggers read at a time
	Block    time.Duration // how long Poll waits for new triggers; negative: not at all
}

// Dispatcher delivers notifications.
type Dispatcher struct {
	Deps
	cfg       Config
	grouped   atomic.Bool  // the consumer group is known to exist
	claimedAt atomic.Int64 // when this dispatcher last took over stale triggers (unix ns; 0: never)
}

// New returns a Dispatcher.
func New(cfg Config, d Deps) *Dispatcher {
	if d.Consumer == "" {
		host, _ := os.Hostname()
		d.Consumer = host + "-" + token()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Client == nil {
		d.Client = newClient(cfg.Timeout, newAddressPolicy(cfg))
	}
	if d.Batch <= 0 {
		d.Batch = readBatch
	}
	if d.Block == 0 {
		d.Block = time.Second
	}
	return &Dispatcher{Deps: d, cfg: cfg}
}

func token() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// RunDispatcher reads and delivers notifications until ctx ends. Errors
// (Redis unavailable) are logged and retried with a growing pause.
func (d *Dispatcher) RunDispatcher(ctx context.Context) {
	pause := time.Second
	for ctx.Err() == nil {
		n, err := d.Poll(ctx)
		if err != nil && ctx.Err() == nil {
			d.Log.WarnContext(ctx, "notification dispatcher", "error", err.Error(), "retry_in", pause.String())
			sleep(ctx, pause)
			pause = min(2*pause, 30*time.Second)
			continue
		}
		pause = time.Second
		if n > 0 && n < d.Batch && d.cfg.Linger > 0 {
			sleep(ctx, d.cfg.Linger) // let the next events gather (a poll finding none has already waited)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// Poll takes over triggers other dispatchers left unacknowledged, reads new
// ones (waiting up to Block for some), fans each out, then attempts the
// deliveries. It returns how many triggers it handled.
func (d *Dispatcher) Poll(ctx context.Context) (int, error) {
	if !d.grouped.Load() {
		if err := d.Store.EnsureNotifyGroup(ctx); err != nil {
			return 0, err
		}
		d.grouped.Store(true)
	}
	stale, err := d.claimStale(ctx)
	if err != nil {
		return 0, err
	}
	fresh, err := d.Store.ReadTriggers(ctx, d.Consumer, d.Batch, d.Block)
	if err != nil {
		return 0, err
	}
	now := d.Now()
	claimUntil := now.Add(d.cfg.ClaimFor)
	claim := d.Consumer + ":" + token()
	ds, n, err := d.fanOutAll(ctx, append(stale, fresh...), now, claimUntil, claim)
	if err != nil {
		// Deliveries fanned out so far stay claimed until claimUntil, then
		// the retry job attempts them.
		return n, err
	}
	// Handshakes first: an event for a Subscription created moments ago
	// then finds it active.
	var handshakes, events []*adapter.Delivery
	for _, dl := range ds {
		if dl.Type == adapter.NotifyHandshake {
			handshakes = append(handshakes, dl)
		} else {
			events = append(events, dl)
		}
	}
	d.attemptAll(ctx, handshakes, claimUntil)
	d.attemptAll(ctx, events, claimUntil)
	return n, nil
}

// claimStale takes over triggers another dispatcher read but left
// unacknowledged for ClaimFor (it died before fanning them out). Nothing
// can go stale faster than that, so it looks at most every ClaimFor/4,
// not at every poll: takeover comes within 1.25 × ClaimFor.
func (d *Dispatcher) claimStale(ctx context.Context) ([]adapter.NotifyTrigger, error) {
	now := d.Now().UnixNano()
	if last := d.claimedAt.Load(); last != 0 && time.Duration(now-last) < d.cfg.ClaimFor/4 {
		return nil, nil
	}
	stale, err := d.Store.ClaimStaleTriggers(ctx, d.Consumer, d.cfg.ClaimFor, d.Batch)
	if err == nil {
		d.claimedAt.Store(now)
	}
	return stale, err
}

// fanOutAll turns triggers into deliveries to the Subscriptions they
// concern, acknowledging each; those that concern none are acknowledged
// together at the end. A practice's Subscriptions are read once: every
// trigger read was published before they were.
func (d *Dispatcher) fanOutAll(ctx context.Context, ts []adapter.NotifyTrigger, now, claimUntil time.Time, claim string) ([]*adapter.Delivery, int, error) {
	var ds []*adapter.Delivery
	var quiet []adapter.NotifyTrigger
	practices := map[string][]*adapter.Subscription{}
	n := 0
	for _, t := range ts {
		subs, err := d.interested(ctx, t, now, practices)
		if err != nil {
			return ds, n, err
		}
		if len(subs) == 0 {
			quiet = append(quiet, t)
			continue
		}
		got, err := d.Store.FanOut(ctx, t, subs, now, claimUntil, claim)
		if err != nil {
			return ds, n, err
		}
		triggers.WithLabelValues(string(t.Type)).Inc()
		ds, n = append(ds, got...), n+1
	}
	ids := make([]string, len(quiet))
	for i, t := range quiet {
		ids[i] = t.ID
	}
	if err := d.Store.Acknowledge(ctx, ids...); err != nil {
		return ds, n, err
	}
	for _, t := range quiet {
		triggers.WithLabelValues(string(t.Type)).Inc()
	}
	return ds, n + len(quiet), nil
}

// interested lists the Subscriptions a trigger goes to: for a handshake,
// the one Subscription if it still awaits it; for a Task event, the live
// Subscriptions of the practice that sent the referral whose filter
// matches (read once per poll, into practices). Another practice's
// Subscriptions are never considered.
func (d *Dispatcher) interested(ctx context.Context, t adapter.NotifyTrigger, now time.Time, practices map[string][]*adapter.Subscription) ([]*adapter.Subscription, error) {
	if t.Type == adapter.NotifyHandshake {
		sub, err := d.Store.Subscription(ctx, t.Subscription)
		if adapter.ErrorCode(err) == adapter.ENOTFOUND {
			return nil, nil
		}
		if err != nil || sub.Status != adapter.SubscriptionRequested {
			return nil, err
		}
		return []*adapter.Subscription{sub}, nil
	}
	all, ok := practices[t.Event.Practice]
	if !ok {
		var err error
		if all, err = d.Store.SubscriptionsFor(ctx, t.Event.Practice); err != nil {
			return nil, err
		}
		practices[t.Event.Practice] = all
	}
	var out []*adapter.Subscription
	for _, s := range all {
		if s.Wants(t.Event, now) {
			out = append(out, s)
		}
	}
	return out, nil
}

// attemptAll attempts deliveries a few at a time. A delivery whose attempt
// could not finish before its claim ends is left for the retry job, so no
// notification is ever sent twice by two claim holders. Attempts run on a
// context that outlives ctx by up to the delivery timeout, so a shutdown
// lets in-flight notifications finish rather than count as failures.
func (d *Dispatcher) attemptAll(ctx context.Context, ds []*adapter.Delivery, claimUntil time.Time) Tally {
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, parallelism)
		tal = Tally{}
	)
	actx := context.WithoutCancel(ctx)
	for _, dl := range ds {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			res := resDeferred
			if d.Now().Add(d.cfg.Timeout).Before(claimUntil) {
				res = d.attempt(actx, dl)
			}
			mu.Lock()
			tal[res]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	return tal
}

// Tally counts attempt results by name.
type Tally map[string]int

// Results of one attempt.
const (
	resDelivered = "delivered"
	resRetry     = "retried"
	resDead      = "dead"
	resDropped   = "dropped"
	resLost      = "lost"     // the claim passed to someone else meanwhile
	resDeferred  = "deferred" // not attempted: the claim would end first
	resError     = "store-error"
)

// attempt tries one delivery once and settles it.
func (d *Dispatcher) attempt(ctx context.Context, dl *adapter.Delivery) string {
	sub, err := d.Store.Subscription(ctx, dl.Subscription)
	if adapter.ErrorCode(err) == adapter.ENOTFOUND {
		return d.drop(ctx, dl, "subscription deleted")
	}
	if err != nil {
		d.Log.WarnContext(ctx, "notification: load subscription", "subscription", dl.Subscription, "error", err.Error())
		return resError
	}
	if dl.Type == adapter.NotifyEvent {
		switch {
		case sub.Status == adapter.SubscriptionOff || sub.Status == adapter.SubscriptionError:
			return d.drop(ctx, dl, "subscription "+string(sub.Status))
		case !sub.End.IsZero() && !d.Now().Before(sub.End):
			return d.drop(ctx, dl, "subscription ended")
		case sub.Status == adapter.SubscriptionRequested:
			return d.failed(ctx, dl, "awaiting-handshake")
		}
	}
	reason := d.send(ctx, sub, dl)
	if dl.Type == adapter.NotifyHandshake {
		return d.handshakeDone(ctx, sub, dl, reason)
	}
	if reason != "" {
		return d.failed(ctx, dl, reason)
	}
	return d.delivered(ctx, dl)
}

// send renders and POSTs the notification; "" means delivered.
func (d *Dispatcher) send(ctx context.Context, sub *adapter.Subscription, dl *adapter.Delivery) string {
	if err := fhir.CheckEndpoint(sub.Endpoint, d.cfg.AllowHTTP); err != nil {
		return "endpoint-refused"
	}
	n := fhir.Notification{Subscription: sub, Type: dl.Type, BaseURL: d.BaseURL, Now: d.Now()}
	if dl.Type == adapter.NotifyEvent {
		ev := dl.Event
		n.Event = &ev
	}
	body, err := d.Render.Notification(n)
	if err != nil {
		d.Log.ErrorContext(ctx, "notification: render", "subscription", sub.ID, "error", err.Error())
		return "render"
	}
	actx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	start := time.Now()
	reason := post(actx, d.Client, sub.Endpoint, sub.Headers, body)
	result := resDelivered
	if reason != "" {
		result = "failed"
	}
	attemptSeconds.WithLabelValues(result).Observe(time.Since(start).Seconds())
	attempts.WithLabelValues(string(dl.Type), result).Inc()
	return reason
}

// handshakeDone activates the Subscription when its handshake was
// accepted, or marks it error when not: the Backport IG gives a
// handshake one chance.
func (d *Dispatcher) handshakeDone(ctx context.Context, sub *adapter.Subscription, dl *adapter.Delivery, reason string) string {
	to, note := adapter.SubscriptionActive, ""
	if reason != "" {
		to, note = adapter.SubscriptionError, "handshake failed: "+reason
	}
	if _, err := d.Store.SetSubscriptionStatus(ctx, sub.ID, adapter.SubscriptionRequested, to, note, d.Now()); err != nil {
		d.Log.WarnContext(ctx, "notification: set subscription status", "subscription", sub.ID, "error", err.Error())
		return resError
	}
	if reason != "" {
		dl.Attempts, dl.LastError = dl.Attempts+1, reason
		return d.dead(ctx, dl)
	}
	return d.delivered(ctx, dl)
}

func (d *Dispatcher) delivered(ctx context.Context, dl *adapter.Delivery) string {
	return d.settled(ctx, dl, resDelivered, func() (bool, error) { return d.Store.Delivered(ctx, dl) })
}

func (d *Dispatcher) drop(ctx context.Context, dl *adapter.Delivery, why string) string {
	d.Log.InfoContext(ctx, "notification dropped", "subscription", dl.Subscription, "practice", dl.Practice, "why", why)
	return d.settled(ctx, dl, resDropped, func() (bool, error) { return d.Store.Delivered(ctx, dl) })
}

// failed records a failed attempt: retried after a backoff, or
// dead-lettered after the last attempt.
func (d *Dispatcher) failed(ctx context.Context, dl *adapter.Delivery, reason string) string {
	dl.Attempts, dl.LastError = dl.Attempts+1, reason
	if dl.Attempts >= d.cfg.MaxAttempts {
		return d.dead(ctx, dl)
	}
	next := d.Now().Add(RetryDelay(dl.Attempts, d.cfg.RetryBase, d.cfg.RetryMax))
	return d.settled(ctx, dl, resRetry, func() (bool, error) { return d.Store.RetryAt(ctx, dl, next) })
}

func (d *Dispatcher) dead(ctx context.Context, dl *adapter.Delivery) string {
	letter := adapter.DeadLetter{Delivery: dl.ID, Subscription: dl.Subscription, Practice: dl.Practice, Type: string(dl.Type),
		Task: dl.Event.TaskID, EventNumber: dl.Event.Number, Attempts: dl.Attempts, LastError: dl.LastError,
		Created: dl.Created, DeadAt: d.Now().UTC()}
	return d.settled(ctx, dl, resDead, func() (bool, error) { return d.Store.DeadLetter(ctx, dl, letter) })
}

// settled runs a store settlement and logs and counts its outcome.
func (d *Dispatcher) settled(ctx context.Context, dl *adapter.Delivery, res string, fn func() (bool, error)) string {
	ok, err := fn()
	if err != nil {
		d.Log.WarnContext(ctx, "notification: settle", "subscription", dl.Subscription, "error", err.Error())
		return resError
	}
	if !ok {
		return resLost
	}
	if res != resRetry {
		outcomes.WithLabelValues(string(dl.Type), res).Inc()
	}
	lvl := slog.LevelInfo
	if res == resDead {
		lvl = slog.LevelWarn
	}
	d.Log.Log(ctx, lvl, "notification "+res, "subscription", dl.Subscription, "practice", dl.Practice,
		"type", string(dl.Type), "event_number", dl.Event.Number, "attempts", dl.Attempts, "last_error", dl.LastError)
	return res
}

// RetryDue attempts every delivery whose retry is due, for one run of the
// notification-retry job holding fencing token fence (the store refuses a
// stale token). It claims batches until none is due or ctx ends, and
// reports how many it claimed, delivered, retried, dead-lettered and
// dropped.
func (d *Dispatcher) RetryDue(ctx context.Context, fence int64) (jobs.Report, error) {
	rep := jobs.Report{}
	for ctx.Err() == nil {
		now := d.Now()
		claimUntil := now.Add(d.cfg.ClaimFor)
		ds, err := d.Store.ClaimDue(ctx, JobName, fence, now, claimUntil, parallelism, d.Consumer+":"+token())
		if err != nil {
			return rep, err
		}
		if len(ds) == 0 {
			break
		}
		rep["claimed"] += len(ds)
		for k, v := range d.attemptAll(ctx, ds, claimUntil) {
			rep[k] += v
		}
	}
	if n, err := d.Store.PendingDeliveries(ctx); err == nil {
		pending.Set(float64(n))
	}
	return rep, ctx.Err()
}

package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Notification stream and delivery bookkeeping. A trigger (Task event or
// handshake) is XADDed to the stream; one dispatcher of the consumer
// group reads it, fans it out into one delivery per interested
// Subscription (fan_out.lua, atomic with the XACK), and attempts each at
// once. A failed delivery waits in the due set until a retry run claims
// it (claim.lua); every outcome is settled by whoever holds the claim
// (settle.lua). A trigger read by a dispatcher that died before fanning
// it out stays pending in the group and is claimed by another with
// XAUTOCLAIM.

const (
	// notifyGroup is the consumer group of the trigger stream.
	notifyGroup = "notify"
	// maxTaskEvents bounds the trigger stream (approximate trimming).
	maxTaskEvents = 100_000
	// maxDeadLetters bounds the dead-letter list.
	maxDeadLetters = 10_000
)

// Stream entry fields. A Lua script that changes a Task can publish the
// same event with:
//
//	XADD <taskEvents key> MAXLEN ~ 100000 * k ev task <id> ref <referral id>
//	     prac <ODS> st <status> t <unix ms>
const (
	tKind     = "k" // "ev" (Task event) or "hs" (handshake)
	tTask     = "task"
	tReferral = "ref"
	tPractice = "prac"
	tStatus   = "st"
	tTime     = "t"
	tSub      = "sub" // handshake: the Subscription id
)

// PublishTaskEvent appends a Task change to the notification stream.
func (s *NotifyStore) PublishTaskEvent(ctx context.Context, ev adapter.TaskEvent) error {
	return s.fail(s.c.XAdd(ctx, s.triggerArgs(adapter.NotifyTrigger{Type: adapter.NotifyEvent, Event: ev})).Err())
}

// taskLog is where a script that changes Tasks records that they changed,
// in its payload: the index of Tasks by last change, and the notification
// stream with its length bound.
type taskLog struct {
	TMod   string `json:"tmod"`
	Events string `json:"events"`
	EvMax  int    `json:"evmax"`
}

func (s *conn) taskLog() taskLog {
	return taskLog{TMod: s.k.taskIndex(), Events: s.k.taskEvents(), EvMax: maxTaskEvents}
}

// eventFields are a Task event's stream fields, as the scripts that
// change Tasks add them (intake.lua, update_task.lua,
// apply_consent_moves.lua): each announces its change in the same atomic
// step, so a change stored is a change notified, whatever becomes of the
// adapter after.
func (s *conn) eventFields(ev adapter.TaskEvent) []string {
	vals := s.triggerArgs(adapter.NotifyTrigger{Type: adapter.NotifyEvent, Event: ev}).Values.([]any)
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i], _ = v.(string)
	}
	return out
}

func (s *conn) triggerArgs(t adapter.NotifyTrigger) *goredis.XAddArgs {
	a := &goredis.XAddArgs{Stream: s.k.taskEvents(), MaxLen: maxTaskEvents, Approx: true}
	if t.Type == adapter.NotifyHandshake {
		a.Values = []any{tKind, "hs", tSub, t.Subscription}
		return a
	}
	ev := t.Event
	a.Values = []any{tKind, "ev", tTask, ev.TaskID, tReferral, ev.ReferralID, tPractice, ev.Practice,
		tStatus, string(ev.Status), tTime, msString(ev.Time)}
	return a
}

func triggerFrom(m goredis.XMessage) (adapter.NotifyTrigger, bool) {
	str := func(k string) string { v, _ := m.Values[k].(string); return v }
	switch str(tKind) {
	case "hs":
		return adapter.NotifyTrigger{ID: m.ID, Type: adapter.NotifyHandshake, Subscription: str(tSub)}, str(tSub) != ""
	case "ev":
		ev := adapter.TaskEvent{TaskID: str(tTask), ReferralID: str(tReferral), Practice: str(tPractice),
			Status: adapter.TaskStatus(str(tStatus)), Time: msTime(str(tTime))}
		return adapter.NotifyTrigger{ID: m.ID, Type: adapter.NotifyEvent, Event: ev}, ev.TaskID != "" && ev.Practice != ""
	}
	return adapter.NotifyTrigger{ID: m.ID}, false
}

// EnsureNotifyGroup creates the consumer group (and the stream) if
// missing. The group starts at the beginning of the stream, so triggers
// published before any dispatcher ran are not lost.
func (s *NotifyStore) EnsureNotifyGroup(ctx context.Context) error {
	err := s.c.XGroupCreateMkStream(ctx, s.k.taskEvents(), notifyGroup, "0").Err()
	if err != nil && strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return nil
	}
	return s.fail(err)
}

// ReadTriggers reads new triggers for one consumer of the group, waiting
// up to block for some (not at all when block <= 0). Malformed entries are
// acknowledged and skipped.
func (s *NotifyStore) ReadTriggers(ctx context.Context, consumer string, count int, block time.Duration) ([]adapter.NotifyTrigger, error) {
	if block <= 0 {
		block = -1 // go-redis: no BLOCK argument; BLOCK 0 would wait forever
	}
	res, err := s.c.XReadGroup(ctx, &goredis.XReadGroupArgs{Group: notifyGroup, Consumer: consumer,
		Streams: []string{s.k.taskEvents(), ">"}, Count: int64(count), Block: block}).Result()
	if errors.Is(err, goredis.Nil) {
		return nil, nil
	}
	if err != nil && strings.HasPrefix(err.Error(), "NOGROUP") {
		return nil, s.EnsureNotifyGroup(ctx)
	}
	if err != nil {
		return nil, s.fail(err)
	}
	var msgs []goredis.XMessage
	for _, st := range res {
		msgs = append(msgs, st.Messages...)
	}
	return s.triggers(ctx, msgs)
}

// ClaimStaleTriggers takes over triggers another consumer read but did not
// acknowledge within minIdle (it died before fanning them out).
func (s *NotifyStore) ClaimStaleTriggers(ctx context.Context, consumer string, minIdle time.Duration, count int) ([]adapter.NotifyTrigger, error) {
	msgs, _, err := s.c.XAutoClaim(ctx, &goredis.XAutoClaimArgs{Stream: s.k.taskEvents(), Group: notifyGroup,
		Consumer: consumer, MinIdle: minIdle, Start: "0-0", Count: int64(count)}).Result()
	if err != nil && strings.HasPrefix(err.Error(), "NOGROUP") {
		return nil, s.EnsureNotifyGroup(ctx)
	}
	if err != nil {
		return nil, s.fail(err)
	}
	return s.triggers(ctx, msgs)
}

func (s *NotifyStore) triggers(ctx context.Context, msgs []goredis.XMessage) ([]adapter.NotifyTrigger, error) {
	out := make([]adapter.NotifyTrigger, 0, len(msgs))
	for _, m := range msgs {
		t, ok := triggerFrom(m)
		if !ok {
			if err := s.c.XAck(ctx, s.k.taskEvents(), notifyGroup, m.ID).Err(); err != nil {
				return nil, s.fail(err)
			}
			continue
		}
		out = append(out, t)
	}
	return out, nil
}

// deliveryRecord is a Delivery as stored in the deliveries hash. Times are
// unix ms strings, so Lua's cjson never rounds them.
type deliveryRecord struct {
	ID       string `json:"id"`
	Sub      string `json:"sub"`
	Practice string `json:"prac"`
	Type     string `json:"type"`
	Task     string `json:"task,omitempty"`
	Referral string `json:"ref,omitempty"`
	Status   string `json:"st,omitempty"`
	Time     string `json:"t,omitempty"`
	Number   int64  `json:"n,omitempty"`
	Attempts int    `json:"att"`
	Created  string `json:"crt"`
	Error    string `json:"err"`
	Claim    string `json:"claim"`
}

func recordOf(d *adapter.Delivery) deliveryRecord {
	return deliveryRecord{ID: d.ID, Sub: d.Subscription, Practice: d.Practice, Type: string(d.Type),
		Task: d.Event.TaskID, Referral: d.Event.ReferralID, Status: string(d.Event.Status), Time: msString(d.Event.Time),
		Number: d.Event.Number, Attempts: d.Attempts, Created: msString(d.Created), Error: d.LastError, Claim: d.Claim}
}

func (r deliveryRecord) delivery() *adapter.Delivery {
	return &adapter.Delivery{ID: r.ID, Subscription: r.Sub, Practice: r.Practice, Type: adapter.NotificationType(r.Type),
		Event: adapter.TaskEvent{TaskID: r.Task, ReferralID: r.Referral, Practice: r.Practice, Status: adapter.TaskStatus(r.Status),
			Time: msTime(r.Time), Number: r.Number},
		Attempts: r.Attempts, Created: msTime(r.Created), LastError: r.Error, Claim: r.Claim}
}

func decodeDeliveries(raws []string) ([]*adapter.Delivery, error) {
	out := make([]*adapter.Delivery, 0, len(raws))
	for _, raw := range raws {
		var r deliveryRecord
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			return nil, fmt.Errorf("redis: delivery record: %w", err)
		}
		out = append(out, r.delivery())
	}
	return out, nil
}

// Acknowledge marks triggers handled that go to no Subscription, in one
// round trip (FanOut with no Subscriptions, for many triggers at once).
func (s *NotifyStore) Acknowledge(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	return s.fail(s.c.XAck(ctx, s.k.taskEvents(), notifyGroup, ids...).Err())
}

// FanOut acknowledges the trigger and stores one delivery per
// Subscription for it, atomically; a trigger no longer pending (fanned
// out by another dispatcher) yields nothing. Each delivery is claimed by
// claim until claimUntil; event notifications get their event number here.
// Subscriptions deleted meanwhile are skipped.
func (s *NotifyStore) FanOut(ctx context.Context, t adapter.NotifyTrigger, subs []*adapter.Subscription, now, claimUntil time.Time, claim string) ([]*adapter.Delivery, error) {
	keys := []string{s.k.taskEvents(), s.k.deliveries(), s.k.deliveryDue()}
	recs := make([]deliveryRecord, len(subs))
	for i, sub := range subs {
		keys = append(keys, s.k.subscription(sub.ID))
		d := &adapter.Delivery{ID: sub.ID + "/" + t.ID, Subscription: sub.ID, Practice: sub.Practice, Type: t.Type,
			Event: t.Event, Created: now, Claim: claim}
		recs[i] = recordOf(d)
	}
	payload, err := json.Marshal(recs)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		payload = []byte("[]")
	}
	raws, err := fanOutScript.Run(ctx, s.c, keys, notifyGroup, t.ID, claimUntil.UnixMilli(), payload).StringSlice()
	if err != nil {
		return nil, s.fail(err)
	}
	return decodeDeliveries(raws)
}

// ErrStaleFence is returned by ClaimDue when a newer run holds the retry
// job's lock.
var ErrStaleFence = errors.New("redis: a newer run holds the lock")

// ClaimDue claims up to limit deliveries due at now for a retry run of the
// named job holding fencing token fence, until claimUntil.
func (s *NotifyStore) ClaimDue(ctx context.Context, job string, fence int64, now, claimUntil time.Time, limit int, claim string) ([]*adapter.Delivery, error) {
	raws, err := claimDueScript.Run(ctx, s.c, []string{s.k.deliveryDue(), s.k.deliveries(), s.k.fence(job)},
		now.UnixMilli(), claimUntil.UnixMilli(), limit, fence, claim).StringSlice()
	if err != nil && strings.HasPrefix(err.Error(), "STALEFENCE") {
		return nil, ErrStaleFence
	}
	if err != nil {
		return nil, s.fail(err)
	}
	return decodeDeliveries(raws)
}

// Delivered removes a delivered delivery. ok is false when the caller no
// longer held its claim.
func (s *NotifyStore) Delivered(ctx context.Context, d *adapter.Delivery) (bool, error) {
	return s.settle(ctx, d, "done", "", time.Time{})
}

// RetryAt records a failed attempt (d.Attempts and d.LastError already
// updated) and makes the delivery due again at next, releasing the claim.
func (s *NotifyStore) RetryAt(ctx context.Context, d *adapter.Delivery, next time.Time) (bool, error) {
	rec := recordOf(d)
	rec.Claim = ""
	b, err := json.Marshal(rec)
	if err != nil {
		return false, err
	}
	return s.settle(ctx, d, "retry", string(b), next)
}

// DeadLetter gives a delivery up and appends the dead letter.
func (s *NotifyStore) DeadLetter(ctx context.Context, d *adapter.Delivery, dl adapter.DeadLetter) (bool, error) {
	b, err := json.Marshal(dl)
	if err != nil {
		return false, err
	}
	return s.settle(ctx, d, "dead", string(b), time.Time{})
}

func (s *NotifyStore) settle(ctx context.Context, d *adapter.Delivery, mode, payload string, due time.Time) (bool, error) {
	n, err := settleScript.Run(ctx, s.c, []string{s.k.deliveryDue(), s.k.deliveries(), s.k.deadLetters()},
		d.ID, d.Claim, mode, payload, due.UnixMilli(), maxDeadLetters).Int()
	if err != nil {
		return false, s.fail(err)
	}
	return n == 1, nil
}

// DeadLetters returns up to limit dead letters, newest first.
func (s *NotifyStore) DeadLetters(ctx context.Context, limit int) ([]adapter.DeadLetter, error) {
	raws, err := s.c.LRange(ctx, s.k.deadLetters(), 0, int64(limit)-1).Result()
	if err != nil {
		return nil, s.fail(err)
	}
	out := make([]adapter.DeadLetter, 0, len(raws))
	for _, raw := range raws {
		var dl adapter.DeadLetter
		if err := json.Unmarshal([]byte(raw), &dl); err != nil {
			return nil, fmt.Errorf("redis: dead letter: %w", err)
		}
		out = append(out, dl)
	}
	return out, nil
}

// PendingDeliveries counts deliveries not yet delivered or dead-lettered.
func (s *NotifyStore) PendingDeliveries(ctx context.Context) (int64, error) {
	n, err := s.c.ZCard(ctx, s.k.deliveryDue()).Result()
	return n, s.fail(err)
}

package redis

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Subscription hash fields.
const (
	sPractice = "prac"
	sStatus   = "st"
	sTopic    = "topic"
	sFilter   = "filt" // comma-separated Task statuses
	sEndpoint = "ep"
	sHeaders  = "hdr" // JSON array of "Name: value"
	sReason   = "rsn"
	sEnd      = "end"
	sCreated  = "crt"
	sUpdated  = "upd"
	sEvents   = "ev" // events since the Subscription started (HINCRBY on fan-out)
	sError    = "err"
	sVersion  = "v"
)

// CreateSubscription stores a new Subscription and, when it is requested,
// queues its handshake, with the request's audit record, in one
// MULTI/EXEC.
func (s *NotifyStore) CreateSubscription(ctx context.Context, sub *adapter.Subscription) error {
	hdr, err := json.Marshal(sub.Headers)
	if err != nil {
		return err
	}
	slot, recs := stepAudit(ctx, http.StatusCreated)
	for i := range recs {
		recs[i].Entity = "Subscription/" + sub.ID
	}
	_, err = s.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		for _, r := range recs {
			p.XAdd(ctx, &goredis.XAddArgs{Stream: s.k.audit(), Values: auditFields(r)})
		}
		p.HSet(ctx, s.k.subscription(sub.ID), subscriptionFields(sub, hdr))
		p.SAdd(ctx, s.k.practiceSubscriptions(sub.Practice), sub.ID)
		if sub.Status == adapter.SubscriptionRequested {
			p.XAdd(ctx, s.triggerArgs(adapter.NotifyTrigger{Type: adapter.NotifyHandshake, Subscription: sub.ID}))
		}
		return nil
	})
	if err != nil {
		return s.fail(err)
	}
	if slot != nil {
		slot.Wrote(recs...)
	}
	return nil
}

func subscriptionFields(sub *adapter.Subscription, hdr []byte) map[string]any {
	st := make([]string, len(sub.Filter.Statuses))
	for i, x := range sub.Filter.Statuses {
		st[i] = string(x)
	}
	return map[string]any{
		sPractice: sub.Practice, sStatus: string(sub.Status), sTopic: sub.Topic, sFilter: strings.Join(st, ","),
		sEndpoint: sub.Endpoint, sHeaders: string(hdr), sReason: sub.Reason, sEnd: msString(sub.End),
		sCreated: msString(sub.Created), sUpdated: msString(sub.Updated), sEvents: sub.Events, sError: sub.Error,
		sVersion: sub.Version,
	}
}

// Subscription returns the Subscription with the given id.
func (s *NotifyStore) Subscription(ctx context.Context, id string) (*adapter.Subscription, error) {
	h, err := s.c.HGetAll(ctx, s.k.subscription(id)).Result()
	if err != nil {
		return nil, s.fail(err)
	}
	sub := subscriptionFromHash(id, h)
	if sub == nil {
		return nil, adapter.Errorf(adapter.ENOTFOUND, "Subscription not found")
	}
	return sub, nil
}

// SubscriptionsFor returns every Subscription of a practice.
func (s *NotifyStore) SubscriptionsFor(ctx context.Context, practice string) ([]*adapter.Subscription, error) {
	ids, err := s.c.SMembers(ctx, s.k.practiceSubscriptions(practice)).Result()
	if err != nil || len(ids) == 0 {
		return nil, s.fail(err)
	}
	cmds := make([]*goredis.MapStringStringCmd, len(ids))
	_, err = s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGetAll(ctx, s.k.subscription(id))
		}
		return nil
	})
	if err != nil {
		return nil, s.fail(err)
	}
	out := make([]*adapter.Subscription, 0, len(ids))
	for i, c := range cmds {
		if sub := subscriptionFromHash(ids[i], c.Val()); sub != nil && sub.Practice == practice {
			out = append(out, sub)
		}
	}
	return out, nil
}

func subscriptionFromHash(id string, h map[string]string) *adapter.Subscription {
	if len(h) == 0 || h[sPractice] == "" {
		return nil
	}
	sub := &adapter.Subscription{
		ID: id, Practice: h[sPractice], Status: adapter.SubscriptionStatus(h[sStatus]), Topic: h[sTopic],
		Endpoint: h[sEndpoint], Reason: h[sReason], End: msTime(h[sEnd]), Created: msTime(h[sCreated]),
		Updated: msTime(h[sUpdated]), Error: h[sError],
	}
	sub.Events, _ = strconv.ParseInt(h[sEvents], 10, 64)
	sub.Version, _ = strconv.Atoi(h[sVersion])
	_ = json.Unmarshal([]byte(h[sHeaders]), &sub.Headers)
	if f := h[sFilter]; f != "" {
		for _, st := range strings.Split(f, ",") {
			sub.Filter.Statuses = append(sub.Filter.Statuses, adapter.TaskStatus(st))
		}
	}
	return sub
}

// deleteSubscriptionScript deletes a Subscription only if the practice
// owns it, adding the request's audit records (ARGV[3], audit_lib.lua) in
// the same step; 0 when it does not exist or belongs to another practice.
var deleteSubscriptionScript = goredis.NewScript(auditLib + `
if redis.call('HGET', KEYS[1], 'prac') ~= ARGV[1] then return 0 end
audit_add(audit_arg(ARGV[3]))
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[2])
return 1`)

// DeleteSubscription removes a practice's Subscription, with the request's
// audit record in the same step. Deliveries still pending for it are
// dropped when their turn comes.
func (s *NotifyStore) DeleteSubscription(ctx context.Context, practice, id string) error {
	slot, recs := stepAudit(ctx, http.StatusNoContent)
	n, err := deleteSubscriptionScript.Run(ctx, s.c,
		[]string{s.k.subscription(id), s.k.practiceSubscriptions(practice)}, practice, id, s.auditArg(recs)).Int()
	if err != nil {
		return s.fail(err)
	}
	if n == 0 {
		return adapter.Errorf(adapter.ENOTFOUND, "Subscription not found")
	}
	if slot != nil {
		slot.Wrote(recs...)
	}
	return nil
}

// setStatusScript moves a Subscription from one status to another, only
// if it is still in the first; returns 1 when it did.
var setStatusScript = goredis.NewScript(`
if redis.call('HGET', KEYS[1], 'st') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'st', ARGV[2], 'err', ARGV[3], 'upd', ARGV[4])
redis.call('HINCRBY', KEYS[1], 'v', 1)
return 1`)

// SetSubscriptionStatus moves a Subscription from one status to another
// (compare-and-set), recording why in its error note. It reports whether
// the Subscription was still in the from status.
func (s *NotifyStore) SetSubscriptionStatus(ctx context.Context, id string, from, to adapter.SubscriptionStatus, note string, at time.Time) (bool, error) {
	n, err := setStatusScript.Run(ctx, s.c, []string{s.k.subscription(id)}, string(from), string(to), note, msString(at)).Int()
	if err != nil {
		return false, s.fail(err)
	}
	return n == 1, nil
}

package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	goredis "github.com/redis/go-redis/v9"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// moveTask is one Task handed to promote_waitlist.lua or reroute.lua.
type moveTask struct {
	ID    string     `json:"id"`
	Key   string     `json:"key"`
	Score float64    `json:"score"`
	Steps []stepJSON `json:"steps,omitempty"`
	// Hold: the patient's consent covers no service the referral could go
	// to; reroute.lua puts it on hold awaiting consent instead.
	Hold bool `json:"hold,omitempty"`
}

// Waitlist returns the Task ids on a service's waitlist, next first.
func (s *CapacityStore) Waitlist(ctx context.Context, service string) ([]string, error) {
	ids, err := s.c.ZRange(ctx, s.k.waitlist(service), 0, -1).Result()
	if err != nil {
		return nil, s.fail(err)
	}
	return ids, nil
}

// QueuedTaskIDs returns the Task ids in a service's queue, next first.
func (s *CapacityStore) QueuedTaskIDs(ctx context.Context, service string) ([]string, error) {
	ids, err := s.c.ZRange(ctx, s.k.queue(service), 0, -1).Result()
	if err != nil {
		return nil, s.fail(err)
	}
	return ids, nil
}

// PromoteWaitlist moves up to limit referrals from the head of the
// service's waitlist into its queue, reserving a slot for each, while the
// service can take them (open, verified recently, with room). Each moved
// Task is routed there, its statusReason says it came off the waitlist, and
// its version goes up. It returns the ids moved, in order.
func (s *CapacityStore) PromoteWaitlist(ctx context.Context, service string, r *adapter.Routing, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, nil
	}
	ids, err := s.c.ZRange(ctx, s.k.waitlist(service), 0, int64(limit-1)).Result()
	if err != nil || len(ids) == 0 {
		return nil, s.fail(err)
	}
	tasks, err := s.moveTasks(ctx, ids, r, "")
	if err != nil {
		return nil, err
	}
	// Only those the patient's consent lets go to the service move up; any
	// other stays where it is until a consent move pauses or releases it.
	tasks = slices.DeleteFunc(tasks, func(t moveTask) bool {
		return !slices.ContainsFunc(t.Steps, func(st stepJSON) bool { return st.Service == service && st.Skip == "" && !st.LastResort })
	})
	if len(tasks) == 0 {
		return nil, nil
	}
	payload, err := json.Marshal(struct {
		Routing *routingJSON `json:"routing"`
		Svc     stepJSON     `json:"svc"`
		Tasks   []moveTask   `json:"tasks"`
	}{s.routing(r), s.serviceKeys(service), tasks})
	if err != nil {
		return nil, err
	}
	raw, err := promoteWaitlistScript.Run(ctx, s.c, nil, payload).Text()
	if err != nil {
		return nil, s.fail(err)
	}
	var res struct {
		Promoted []string `json:"promoted"`
	}
	if err := json.Unmarshal([]byte(raw), &res); err != nil {
		return nil, fmt.Errorf("redis: promote result: %w", err)
	}
	return res.Promoted, nil
}

// moveTasks loads the Tasks (skipping any that no longer exist) with their
// queue scores and the steps each may be placed along: its route without
// the service except ("" for none) or, for a promotion (except ""), the
// service it waits at, marked by the routing's consent gate (issue 17).
func (s *CapacityStore) moveTasks(ctx context.Context, ids []string, r *adapter.Routing, except string) ([]moveTask, error) {
	if r.Gate == nil {
		return nil, errNoGate
	}
	cmds := make([]*goredis.MapStringStringCmd, len(ids))
	_, err := s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGetAll(ctx, s.k.task(id))
		}
		return nil
	})
	if err != nil {
		return nil, s.fail(err)
	}
	out := make([]moveTask, 0, len(ids))
	for i, id := range ids {
		t := taskFromHash(id, cmds[i].Val())
		if t == nil {
			t = &adapter.Task{ID: id}
		}
		route := t.Route
		if except == "" {
			route = []adapter.RouteStep{{Service: t.Owner}}
		} else {
			route = slices.DeleteFunc(slices.Clone(route), func(st adapter.RouteStep) bool { return st.Service == except })
		}
		marked, ok, err := r.Gate(ctx, t, route)
		if err != nil {
			return nil, err
		}
		out = append(out, moveTask{ID: id, Key: s.k.task(id), Score: queueScore(t), Steps: s.steps(marked, except), Hold: !ok})
	}
	return out, nil
}

// errNoGate refuses to move referrals without a consent gate: a move that
// ignored the patient's consent could send a referral to someone they did
// not agree to.
var errNoGate = errors.New("redis: routing without a consent gate")

// rerouteBatch bounds how many Tasks one reroute script moves, so a large
// queue does not hold Redis for long.
const rerouteBatch = 50

// RerouteWaiting re-routes every referral waiting at a service (in its
// queue and not yet claimed, or on its waitlist), as after the service
// closed: each is placed again along its route without that service, by
// the same capacity rules as at intake, and its statusReason says why.
// Referrals claimed or ended meanwhile are left alone.
func (s *CapacityStore) RerouteWaiting(ctx context.Context, service string, r *adapter.Routing) ([]adapter.Rerouted, error) {
	queued, err := s.c.ZRange(ctx, s.k.queue(service), 0, -1).Result()
	if err != nil {
		return nil, s.fail(err)
	}
	listed, err := s.c.ZRange(ctx, s.k.waitlist(service), 0, -1).Result()
	if err != nil {
		return nil, s.fail(err)
	}
	ids := append(queued, slices.DeleteFunc(listed, func(id string) bool { return slices.Contains(queued, id) })...)
	var out []adapter.Rerouted
	for chunk := range slices.Chunk(ids, rerouteBatch) {
		moved, err := s.reroute(ctx, service, r, chunk)
		if err != nil {
			return out, err
		}
		out = append(out, moved...)
	}
	return out, nil
}

// RerouteTasks re-routes the given referrals still waiting at a service
// (queued, claimed but not accepted, or waitlisted), as RerouteWaiting does
// for all of them: for a provider that did not answer in time.
func (s *CapacityStore) RerouteTasks(ctx context.Context, service string, r *adapter.Routing, ids []string) ([]adapter.Rerouted, error) {
	// A claimed referral goes back to waiting first (atomically), so the
	// script sees it; its lease ends.
	pipe := s.c.TxPipeline()
	for _, id := range ids {
		pipe.ZRem(ctx, s.k.leases(service), id)
		pipe.ZAddNX(ctx, s.k.queue(service), goredis.Z{Score: 0, Member: id})
		pipe.HDel(ctx, s.k.task(id), fClaimant, fClaimNm, fClaimTitle, fLease)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, s.fail(err)
	}
	return s.reroute(ctx, service, r, ids)
}

func (s *CapacityStore) reroute(ctx context.Context, service string, r *adapter.Routing, ids []string) ([]adapter.Rerouted, error) {
	tasks, err := s.moveTasks(ctx, ids, r, service)
	if err != nil {
		return nil, err
	}
	payload, err := json.Marshal(struct {
		Routing *routingJSON `json:"routing"`
		From    stepJSON     `json:"from"`
		Holds   string       `json:"holds"`
		Tasks   []moveTask   `json:"tasks"`
	}{s.routing(r), s.serviceKeys(service), s.k.consentHolds(), tasks})
	if err != nil {
		return nil, err
	}
	raw, err := rerouteScript.Run(ctx, s.c, nil, payload).Text()
	if err != nil {
		return nil, s.fail(err)
	}
	var res struct {
		Results []placementJSON `json:"results"`
	}
	if err := json.Unmarshal([]byte(raw), &res); err != nil {
		return nil, fmt.Errorf("redis: reroute result: %w", err)
	}
	var out []adapter.Rerouted
	for _, p := range res.Results {
		if !p.Gone {
			pl := p.placement()
			pl.Skipped = append([]adapter.Skip{{Service: service, Reason: adapter.SkipClosed}}, pl.Skipped...)
			out = append(out, adapter.Rerouted{TaskID: p.ID, Placement: pl, Held: p.Held})
		}
	}
	return out, nil
}

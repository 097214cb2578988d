package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Fields of a capacity hash (keys.go capacity; capacity.lua reads them too).
const (
	cStatus   = "status"
	cMax      = "max"
	cReserved = "reserved"
	cVerified = "verified"
	cWeekly   = "weekly"
)

// ErrCapacityBusy is returned when a capacity update kept losing races with
// concurrent reservations; nothing was written and the caller may retry.
var ErrCapacityBusy = &adapter.Error{Code: adapter.ECONFLICT, Message: "the service's capacity is changing too fast to update; retry"}

// Capacities returns the live capacity of each service. A service with no
// recorded capacity is open and unlimited, never verified.
func (s *CapacityStore) Capacities(ctx context.Context, ids []string) (map[string]adapter.Capacity, error) {
	hs := make([]*goredis.MapStringStringCmd, len(ids))
	ns := make([]*goredis.IntCmd, len(ids))
	_, err := s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, id := range ids {
			hs[i] = p.HGetAll(ctx, s.k.capacity(id))
			ns[i] = p.ZCard(ctx, s.k.waitlist(id))
		}
		return nil
	})
	if err != nil {
		return nil, s.fail(err)
	}
	out := make(map[string]adapter.Capacity, len(ids))
	for i, id := range ids {
		out[id] = capacityFromHash(id, hs[i].Val(), int(ns[i].Val()))
	}
	return out, nil
}

// Capacity returns one service's live capacity.
func (s *CapacityStore) Capacity(ctx context.Context, id string) (adapter.Capacity, error) {
	m, err := s.Capacities(ctx, []string{id})
	if err != nil {
		return adapter.Capacity{}, err
	}
	return m[id], nil
}

func capacityFromHash(id string, h map[string]string, waiting int) adapter.Capacity {
	c := adapter.Capacity{Service: id, Status: adapter.CapacityStatus(h[cStatus]), Waiting: waiting,
		LastVerified: msTime(h[cVerified])}
	if c.Status == "" {
		c.Status = adapter.CapacityOpen
	}
	c.MaxOpen, _ = strconv.Atoi(h[cMax])
	c.Reserved, _ = strconv.Atoi(h[cReserved])
	c.WeeklyIntake, _ = strconv.Atoi(h[cWeekly])
	return c
}

// SeedCapacity records each service's capacity (open, with its MaxOpen and
// WeeklyIntake, verified now) unless one is already recorded: live values
// are never overwritten. It returns how many services were seeded.
func (s *CapacityStore) SeedCapacity(ctx context.Context, seeds []adapter.Capacity, now time.Time) (int, error) {
	type item struct {
		Key string `json:"key"`
		Svc string `json:"svc"`
		Max int    `json:"max"`
	}
	items := make([]item, len(seeds))
	for i, c := range seeds {
		items[i] = item{Key: s.k.capacity(c.Service), Svc: c.Service, Max: c.MaxOpen}
	}
	payload, err := json.Marshal(struct {
		Now   int64  `json:"now"`
		Items []item `json:"items"`
	}{now.UnixMilli(), items})
	if err != nil {
		return 0, err
	}
	n, err := seedCapacityScript.Run(ctx, s.c, []string{s.k.capacityLog()}, payload).Int()
	if err != nil {
		return 0, s.fail(err)
	}
	return n, nil
}

// updateAttempts bounds how often an update retries after a concurrent
// reservation changed the capacity under it.
const updateAttempts = 20

// UpdateCapacity reads a service's capacity (seed when none is recorded),
// lets fn change it, and writes the provider's fields (status, maxOpen,
// weekly intake) with lastVerified set to ch.At, appending the change to
// the capacity log, atomically: if a reservation changes the capacity
// meanwhile, fn runs again on the new value. An error from fn is returned
// and nothing is written.
func (s *CapacityStore) UpdateCapacity(ctx context.Context, id string, seed adapter.Capacity, ch adapter.CapacityChange,
	fn func(*adapter.Capacity) error) (adapter.Capacity, error) {
	key := s.k.capacity(id)
	var out adapter.Capacity
	slot, recs := stepAudit(ctx, http.StatusOK) // the request's record, in the same transaction
	txf := func(tx *goredis.Tx) error {
		c, err := s.readForUpdate(ctx, tx, id, seed)
		if err != nil {
			return err
		}
		if err := fn(&c); err != nil {
			return err
		}
		c.LastVerified = time.UnixMilli(ch.At.UnixMilli()).UTC()
		_, err = tx.TxPipelined(ctx, func(p goredis.Pipeliner) error {
			for _, r := range recs {
				p.XAdd(ctx, &goredis.XAddArgs{Stream: s.k.audit(), Values: auditFields(r)})
			}
			p.HSet(ctx, key, cStatus, string(c.Status), cMax, c.MaxOpen, cWeekly, c.WeeklyIntake,
				cVerified, c.LastVerified.UnixMilli())
			p.HSetNX(ctx, key, cReserved, 0)
			p.XAdd(ctx, &goredis.XAddArgs{Stream: s.k.capacityLog(), Values: []any{
				"svc", id, "status", string(c.Status), "max", c.MaxOpen, "weekly", c.WeeklyIntake,
				"by", ch.By, "role", ch.Role, "org", ch.Org, "at", c.LastVerified.UnixMilli()}})
			return nil
		})
		out = c
		return err
	}
	for range updateAttempts {
		err := s.c.Watch(ctx, txf, key)
		if errors.Is(err, goredis.TxFailedErr) {
			continue
		}
		if err != nil {
			return adapter.Capacity{}, s.fail(err)
		}
		if slot != nil {
			slot.Wrote(recs...)
		}
		return out, nil
	}
	return adapter.Capacity{}, ErrCapacityBusy
}

func (s *CapacityStore) readForUpdate(ctx context.Context, tx *goredis.Tx, id string, seed adapter.Capacity) (adapter.Capacity, error) {
	h, err := tx.HGetAll(ctx, s.k.capacity(id)).Result()
	if err != nil {
		return adapter.Capacity{}, err
	}
	n, err := tx.ZCard(ctx, s.k.waitlist(id)).Result()
	if err != nil {
		return adapter.Capacity{}, err
	}
	c := capacityFromHash(id, h, int(n))
	if h[cStatus] == "" {
		c.Status, c.MaxOpen, c.WeeklyIntake = adapter.CapacityOpen, seed.MaxOpen, seed.WeeklyIntake
	}
	return c, nil
}

// CapacityLogEntry is one recorded capacity change.
type CapacityLogEntry struct {
	Service string
	Status  adapter.CapacityStatus
	MaxOpen int
	Weekly  int
	Change  adapter.CapacityChange
}

// CapacityLog returns the recorded capacity changes, oldest first, up to
// limit (0: all).
func (s *CapacityStore) CapacityLog(ctx context.Context, limit int64) ([]CapacityLogEntry, error) {
	var msgs []goredis.XMessage
	var err error
	if limit > 0 {
		msgs, err = s.c.XRangeN(ctx, s.k.capacityLog(), "-", "+", limit).Result()
	} else {
		msgs, err = s.c.XRange(ctx, s.k.capacityLog(), "-", "+").Result()
	}
	if err != nil {
		return nil, s.fail(err)
	}
	out := make([]CapacityLogEntry, len(msgs))
	for i, m := range msgs {
		str := func(k string) string { v, _ := m.Values[k].(string); return v }
		num := func(k string) int { n, _ := strconv.Atoi(str(k)); return n }
		out[i] = CapacityLogEntry{Service: str("svc"), Status: adapter.CapacityStatus(str("status")),
			MaxOpen: num("max"), Weekly: num("weekly"),
			Change: adapter.CapacityChange{By: str("by"), Role: str("role"), Org: str("org"), At: msTime(str("at"))}}
	}
	return out, nil
}

// releaseAttempts bounds ReleaseSlot's retries when the Task's reservation
// changes between reading it and releasing it.
const releaseAttempts = 5

// ReleaseSlot gives back the capacity slot the Task holds, if any, for a
// referral that ended: the service's reserved count goes down by one (never
// below zero) and the Task's rsv field is cleared, in one script. It reports
// whether a slot was released; releasing twice releases once. Scripts that
// end a referral themselves call cap_release (lua/capacity.lua) instead.
func (s *CapacityStore) ReleaseSlot(ctx context.Context, taskID string) (bool, error) {
	tk := s.k.task(taskID)
	for range releaseAttempts {
		svc, err := s.c.HGet(ctx, tk, fReserved).Result()
		if errors.Is(err, goredis.Nil) {
			return false, nil
		}
		if err != nil {
			return false, s.fail(err)
		}
		n, err := releaseSlotScript.Run(ctx, s.c, []string{tk, s.k.capacity(svc)}, svc).Int()
		if err != nil {
			return false, s.fail(err)
		}
		if n == 1 {
			return true, nil
		}
	}
	return false, fmt.Errorf("redis: release slot of Task %s: reservation kept changing", taskID)
}

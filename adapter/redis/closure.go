package redis

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// The outbox of closure summaries (issue 19): update_task.lua stores the
// summary an ending owes the practice with the ending itself; it stays
// until the summary is on the thread (ClosureSent).

// ClosuresDue lists the closure summaries owed by referrals that ended
// before cutoff, longest owed first, at most limit.
func (s *LifecycleStore) ClosuresDue(ctx context.Context, cutoff time.Time, limit int64) ([]adapter.DueClosure, error) {
	zs, err := s.c.ZRangeByScoreWithScores(ctx, s.k.closuresDue(), &goredis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(cutoff.UnixMilli(), 10), Count: limit}).Result()
	if err != nil || len(zs) == 0 {
		return nil, s.fail(err)
	}
	keys := make([]string, len(zs))
	for i, z := range zs {
		keys[i] = s.k.closureDue(z.Member.(string))
	}
	vals, err := s.c.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, s.fail(err)
	}
	out := make([]adapter.DueClosure, 0, len(zs))
	for i, z := range zs {
		d := adapter.DueClosure{TaskID: z.Member.(string), Since: time.UnixMilli(int64(z.Score))}
		if raw, ok := vals[i].(string); ok {
			if err := json.Unmarshal([]byte(raw), &d.ClosureDue); err != nil {
				return nil, s.fail(err)
			}
		}
		out = append(out, d)
	}
	return out, nil
}

// ClosureSent clears the closure summary a referral Task owed: it is on
// the thread.
func (s *LifecycleStore) ClosureSent(ctx context.Context, taskID string) error {
	_, err := s.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.Del(ctx, s.k.closureDue(taskID))
		p.ZRem(ctx, s.k.closuresDue(), taskID)
		return nil
	})
	return s.fail(err)
}

// DeferClosure puts a closure summary that could not be sent behind the
// others owed, as if it came due at, so that one that keeps failing does
// not hold up the rest.
func (s *LifecycleStore) DeferClosure(ctx context.Context, taskID string, at time.Time) error {
	return s.fail(s.c.ZAddXX(ctx, s.k.closuresDue(), goredis.Z{Score: float64(at.UnixMilli()), Member: taskID}).Err())
}

package redis

import (
	"context"
	"errors"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/internal/fifo"
)

// Dated counters (issue 20) are kept on the day an event is dated, which
// may be long past: a wellbeing pair on the day of its latest score. Unlike
// the report counters, a bucket of them can change at any time, so it is
// never taken as settled. Instead each bucket hash counts its own writes in
// the field datedVersion (lua/save_outcome.lua), and a reader keeps each
// bucket parsed with the version it read: a report asks Redis for the
// versions of its buckets and reads again only those that changed.
const datedVersion = "~v"

// datedCache holds parsed dated buckets, and the sums of periods asked
// for, each with the versions they were built from.
type datedCache struct {
	buckets fifo.Cache[string, datedBucket]
	sums    fifo.Cache[string, datedBucket]
}

type datedBucket struct {
	version string // a bucket's version; a sum's versions of its buckets
	m       map[adapter.StatKey]int64
}

// Bounds of the dated cache: a year's report reads about 41 buckets.
const (
	datedBucketsMax = 128
	datedSumsMax    = 16
)

func newDatedCache() *datedCache {
	c := &datedCache{}
	c.buckets.Max, c.sums.Max = datedBucketsMax, datedSumsMax
	return c
}

// WellbeingStats sums the dated wellbeing counters of the given days
// (issue 20), reading a month's roll-up for each whole month: one round
// trip for the buckets' versions, and one more only when a bucket changed
// since this replica last read it. The map returned may be shared with
// later calls: callers only read it.
func (s *StatsStore) WellbeingStats(ctx context.Context, days []string) (map[adapter.StatKey]int64, error) {
	buckets := monthsAndDays(days)
	if len(buckets) == 0 {
		return map[adapter.StatKey]int64{}, nil
	}
	pipe := s.c.Pipeline()
	vcmds := make([]*goredis.StringCmd, len(buckets))
	for i, b := range buckets {
		vcmds[i] = pipe.HGet(ctx, s.k.datedStats(b), datedVersion)
	}
	_, _ = pipe.Exec(ctx) // a bucket never written answers nil: each command's error is read below
	versions := make([]string, len(buckets))
	for i, c := range vcmds {
		if err := c.Err(); err != nil && !errors.Is(err, goredis.Nil) {
			return nil, s.fail(err)
		}
		versions[i] = c.Val()
	}
	key, vkey := strings.Join(buckets, ","), strings.Join(versions, ",")
	if sum, ok := s.dated.sums.Get(key); ok && sum.version == vkey {
		return sum.m, nil
	}
	parsed := make([]map[adapter.StatKey]int64, len(buckets))
	var stale []int
	for i, b := range buckets {
		switch kept, ok := s.dated.buckets.Get(b); {
		case versions[i] == "": // never written
		case ok && kept.version == versions[i]:
			parsed[i] = kept.m
		default:
			stale = append(stale, i)
		}
	}
	if len(stale) > 0 {
		pipe := s.c.Pipeline()
		cmds := make([]interface{ Val() map[string]string }, len(stale))
		for j, i := range stale {
			cmds[j] = pipe.HGetAll(ctx, s.k.datedStats(buckets[i]))
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, s.fail(err)
		}
		for j, i := range stale {
			h := cmds[j].Val()
			parsed[i] = parseStats(h)
			// Kept under the version read with it: a write between the two
			// reads only makes the next report read the bucket again.
			s.dated.buckets.Set(buckets[i], datedBucket{version: h[datedVersion], m: parsed[i]})
			versions[i] = h[datedVersion]
		}
	}
	out := map[adapter.StatKey]int64{}
	for _, m := range parsed {
		addStats(out, m)
	}
	s.dated.sums.Set(key, datedBucket{version: strings.Join(versions, ","), m: out})
	return out, nil
}

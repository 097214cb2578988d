package redis

import (
	"sync"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// settledStatsMax bounds the settled buckets kept in memory: a year's
// report reads about 41 (11 months and the days either side), each a few
// hundred KB at most with every service, area and need counted.
const settledStatsMax = 96

var london = func() *time.Location {
	if loc, err := time.LoadLocation("Europe/London"); err == nil {
		return loc
	}
	return time.UTC
}()

// settledStats keeps the parsed counters of settled report buckets. A day
// is counted only while it is today in Europe/London (transitions count on
// the day they happen; the daily snapshot runs at 23:55 that day), and a
// month only while one of its days is, so a bucket that ended before
// yesterday never changes again and every replica may keep it. Reports
// then read from Redis only the recent buckets, whatever the history.
type settledStats struct {
	now   func() time.Time // the clock the counters are written by
	mu    sync.Mutex
	m     map[string]map[adapter.StatKey]int64
	order []string
	// sums of settled buckets by their joined names: a report asked for
	// the same period again adds only its recent buckets.
	sums     map[string]map[adapter.StatKey]int64
	sumOrder []string
}

// settledSumsMax bounds the kept sums (distinct periods asked for).
const settledSumsMax = 16

// split separates the settled buckets from the recent ones (all recent
// when nothing is kept).
func (c *settledStats) split(buckets []string) (settled, recent []string) {
	if c == nil {
		return nil, buckets
	}
	now := c.now()
	for _, b := range buckets {
		if isSettled(b, now) {
			settled = append(settled, b)
		} else {
			recent = append(recent, b)
		}
	}
	return settled, recent
}

func (c *settledStats) sum(key string) (map[adapter.StatKey]int64, bool) {
	if c == nil || key == "" {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.sums[key]
	return m, ok
}

func (c *settledStats) putSum(key string, m map[adapter.StatKey]int64) {
	if c == nil || key == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sums == nil {
		c.sums = map[string]map[adapter.StatKey]int64{}
	}
	if _, ok := c.sums[key]; ok {
		return
	}
	if len(c.sumOrder) >= settledSumsMax {
		delete(c.sums, c.sumOrder[0])
		c.sumOrder = c.sumOrder[1:]
	}
	c.sums[key] = m
	c.sumOrder = append(c.sumOrder, key)
}

// KeepSettledStats makes reports keep settled buckets in memory. now must
// be the clock the counters are written by (time.Now in production); a
// store whose writers run on another clock must not keep them.
func (s *Store) KeepSettledStats(now func() time.Time) { s.settled = &settledStats{now: now} }

// isSettled reports whether a bucket (YYYY-MM-DD or YYYY-MM) ended before
// yesterday, London time.
func isSettled(bucket string, now time.Time) bool {
	yesterday := now.In(london).AddDate(0, 0, -1).Format(time.DateOnly)
	switch len(bucket) {
	case len("2006-01-02"):
		return bucket < yesterday
	case len("2006-01"):
		return bucket < yesterday[:7]
	}
	return false
}

func (c *settledStats) get(bucket string) (map[adapter.StatKey]int64, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.m[bucket]
	return m, ok
}

func (c *settledStats) put(bucket string, m map[adapter.StatKey]int64) {
	if c == nil || !isSettled(bucket, c.now()) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]map[adapter.StatKey]int64{}
	}
	if _, ok := c.m[bucket]; ok {
		return
	}
	if len(c.order) >= settledStatsMax {
		delete(c.m, c.order[0])
		c.order = c.order[1:]
	}
	c.m[bucket] = m
	c.order = append(c.order, bucket)
}

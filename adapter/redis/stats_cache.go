package redis

import (
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/internal/fifo"
)

// settledStatsMax bounds the settled buckets kept in memory: a year's
// report reads about 41 (11 months and the days either side), each a few
// hundred KB at most with every service, area and need counted.
const settledStatsMax = 96

// london is where report days and months are counted.
var london = adapter.London()

// settledStats keeps the parsed counters of settled report buckets. A day
// is counted only while it is today in Europe/London (transitions count on
// the day they happen; the daily snapshot runs at 23:55 that day), and a
// month only while one of its days is, so a bucket that ended before
// yesterday never changes again and every replica may keep it. Reports
// then read from Redis only the recent buckets, whatever the history.
type settledStats struct {
	now     func() time.Time // the clock the counters are written by
	buckets fifo.Cache[string, map[adapter.StatKey]int64]
	// sums of settled buckets by their joined names: a report asked for
	// the same period again adds only its recent buckets.
	sums fifo.Cache[string, map[adapter.StatKey]int64]
}

// settledSumsMax bounds the kept sums (distinct periods asked for): a
// dashboard of a year asks for the period, its 13 trend buckets, and the
// two spans of practice engagement (issue 20).
const settledSumsMax = 24

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
	return c.sums.Get(key)
}

func (c *settledStats) putSum(key string, m map[adapter.StatKey]int64) {
	if c != nil && key != "" {
		c.sums.Put(key, m)
	}
}

// KeepSettledStats makes reports keep settled buckets in memory. now must
// be the clock the counters are written by (time.Now in production); a
// store whose writers run on another clock must not keep them.
func (s *StatsStore) KeepSettledStats(now func() time.Time) {
	s.settled = &settledStats{now: now}
	s.settled.buckets.Max, s.settled.sums.Max = settledStatsMax, settledSumsMax
}

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
	return c.buckets.Get(bucket)
}

func (c *settledStats) put(bucket string, m map[adapter.StatKey]int64) {
	if c != nil && isSettled(bucket, c.now()) {
		c.buckets.Put(bucket, m)
	}
}

package redis

import (
	"context"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Count applies counter increments in one transaction, returning once
// they are applied; concurrent requests' increments share it (groupCommit).
func (s *StatsStore) Count(ctx context.Context, incs []adapter.StatInc) error {
	if len(incs) == 0 {
		return nil
	}
	return s.fail(s.writes.do(ctx, func(pipe goredis.Pipeliner) {
		s.eachInc(incs, func(key, field string, n int64) { pipe.HIncrBy(ctx, key, field, n) })
	}))
}

// eachInc calls add with each hash field an increment adds to: the day's
// counter, the month's roll-up, and the practice's day where the metric
// is counted per practice.
func (s *conn) eachInc(incs []adapter.StatInc, add func(key, field string, n int64)) {
	for _, in := range incs {
		n := in.N
		if n == 0 {
			continue // nothing to add (a snapshot of an empty figure)
		}
		add(s.k.stats(in.Day), in.Key.String(), n)
		if len(in.Day) == 10 {
			add(s.k.stats(in.Day[:7]), in.Key.String(), n) // the month's roll-up
		}
		if in.Practice != "" && in.Key.PracticeCounted() {
			add(s.k.practiceStats(in.Day, in.Practice), in.Key.Metric, n)
		}
	}
}

// incArgs are the increments as a script adds them: key, field, n, ...
func (s *conn) incArgs(incs []adapter.StatInc) []string {
	out := []string{}
	s.eachInc(incs, func(key, field string, n int64) {
		out = append(out, key, field, strconv.FormatInt(n, 10))
	})
	return out
}

// Snapshot sets absolute values on a day (the daily capacity snapshot).
func (s *StatsStore) Snapshot(ctx context.Context, day string, values map[adapter.StatKey]int64) error {
	args := make([]any, 0, 2*len(values))
	for k, v := range values {
		args = append(args, k.String(), v)
	}
	if len(args) == 0 {
		return nil
	}
	return s.fail(s.c.HSet(ctx, s.k.stats(day), args...).Err())
}

// DayStats sums the counters of the given days in one round trip, reading
// a month's roll-up instead of its days when every day of the month is
// asked for: a year's report reads 12 hashes, not 365. With
// KeepSettledStats, settled buckets are read once and then kept in memory,
// and so is their sum for a period asked for again.
func (s *StatsStore) DayStats(ctx context.Context, days []string) (map[adapter.StatKey]int64, error) {
	return s.dayStats(ctx, days, "")
}

// DayStatsMatching is DayStats of only the counters whose metric starts
// with prefix: a report that needs a few counters over a long span (issue
// 20's practice engagement) copies only those.
func (s *StatsStore) DayStatsMatching(ctx context.Context, days []string, prefix string) (map[adapter.StatKey]int64, error) {
	return s.dayStats(ctx, days, prefix)
}

func (s *StatsStore) dayStats(ctx context.Context, days []string, prefix string) (map[adapter.StatKey]int64, error) {
	settled, recent := s.settled.split(monthsAndDays(days))
	key := strings.Join(settled, ",")
	if prefix != "" && key != "" {
		key = prefix + "\x00" + key
	}
	base, haveBase := s.settled.sum(key)
	// The settled buckets found in the cache are kept here as found: the
	// cache is bounded, and one evicted between this look and its use
	// (by this read's own puts, or another request's) must not be read as
	// empty, nor cached so (it was not fetched).
	cached := map[string]map[adapter.StatKey]int64{}
	var fetch []string
	if !haveBase {
		for _, b := range settled {
			if m, ok := s.settled.get(b); ok {
				cached[b] = m
			} else {
				fetch = append(fetch, b)
			}
		}
	}
	got, err := s.readBuckets(ctx, append(fetch, recent...))
	if err != nil {
		return nil, err
	}
	if !haveBase && len(settled) > 0 {
		base = map[adapter.StatKey]int64{}
		for _, b := range settled {
			m, ok := cached[b]
			if !ok {
				m = got[b]
				s.settled.put(b, m)
			}
			addMatching(base, m, prefix)
		}
		s.settled.putSum(key, base)
	}
	out := make(map[adapter.StatKey]int64, len(base))
	addStats(out, base)
	for _, b := range recent {
		addMatching(out, got[b], prefix)
	}
	return out, nil
}

// addMatching adds the counters of m whose metric starts with prefix.
func addMatching(out, m map[adapter.StatKey]int64, prefix string) {
	if prefix == "" {
		addStats(out, m)
		return
	}
	for k, n := range m {
		if strings.HasPrefix(k.Metric, prefix) {
			out[k] += n
		}
	}
}

// readBuckets reads and parses the counter hashes of the buckets in one
// round trip.
func (s *StatsStore) readBuckets(ctx context.Context, buckets []string) (map[string]map[adapter.StatKey]int64, error) {
	out := make(map[string]map[adapter.StatKey]int64, len(buckets))
	if len(buckets) == 0 {
		return out, nil
	}
	pipe := s.c.Pipeline()
	cmds := make([]interface{ Val() map[string]string }, len(buckets))
	for i, d := range buckets {
		cmds[i] = pipe.HGetAll(ctx, s.k.stats(d))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, s.fail(err)
	}
	for i, c := range cmds {
		out[buckets[i]] = parseStats(c.Val())
	}
	return out, nil
}

func parseStats(h map[string]string) map[adapter.StatKey]int64 {
	m := make(map[adapter.StatKey]int64, len(h))
	for f, v := range h {
		k, ok := adapter.ParseStatKey(f)
		n, err := strconv.ParseInt(v, 10, 64)
		if ok && err == nil {
			m[k] += n
		}
	}
	return m
}

func addStats(out, m map[adapter.StatKey]int64) {
	for k, n := range m {
		out[k] += n
	}
}

// PracticeStats reads a practice's own counters over the given days.
func (s *StatsStore) PracticeStats(ctx context.Context, practice string, days []string) (map[string]int64, error) {
	pipe := s.c.Pipeline()
	cmds := make([]interface{ Val() map[string]string }, len(days))
	for i, d := range days {
		cmds[i] = pipe.HGetAll(ctx, s.k.practiceStats(d, practice))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, s.fail(err)
	}
	out := map[string]int64{}
	for _, c := range cmds {
		for f, v := range c.Val() {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				out[f] += n
			}
		}
	}
	return out, nil
}

// monthsAndDays replaces each complete month among days (YYYY-MM-DD) by
// its roll-up (YYYY-MM).
func monthsAndDays(days []string) []string {
	perMonth := map[string]int{}
	for _, d := range days {
		perMonth[d[:7]]++
	}
	length := make(map[string]int, len(perMonth)) // days in each month, parsed once
	for m := range perMonth {
		if t, err := time.Parse("2006-01", m); err == nil {
			length[m] = t.AddDate(0, 1, -1).Day()
		}
	}
	var out []string
	done := map[string]bool{}
	for _, d := range days {
		m := d[:7]
		full := perMonth[m] == length[m]
		switch {
		case full && !done[m]:
			out, done[m] = append(out, m), true
		case !full:
			out = append(out, d)
		}
	}
	return out
}

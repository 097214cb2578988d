package redis

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/internal/redistest"
)

func TestMonthsAndDays(t *testing.T) {
	var days []string
	for d := time.Date(2026, 1, 30, 0, 0, 0, 0, time.UTC); !d.After(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)); d = d.AddDate(0, 0, 1) {
		days = append(days, d.Format(time.DateOnly))
	}
	got := monthsAndDays(days)
	want := []string{"2026-01-30", "2026-01-31", "2026-02", "2026-03-01", "2026-03-02"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// With KeepSettledStats a bucket that ended before yesterday is read from
// Redis once and then from memory, while today's (still counting) is read
// every time.
func TestSettledStatsKeptTodayRead(t *testing.T) {
	ctx := context.Background()
	s := New(redistest.Client(t), redistest.Namespace(t))
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	s.KeepSettledStats(func() time.Time { return now })
	k := adapter.StatKey{Metric: adapter.MReceived, Service: "svc", Area: "LS6", Need: "n"}
	old, today := "2026-11-20", "2026-12-01"
	inc := func(day string) {
		if err := s.Count(ctx, []adapter.StatInc{{Day: day, Key: k, N: 1}}); err != nil {
			t.Fatal(err)
		}
	}
	read := func(day string) int64 {
		m, err := s.DayStats(ctx, []string{day})
		if err != nil {
			t.Fatal(err)
		}
		return m[k]
	}
	inc(old)
	inc(today)
	if read(old) != 1 || read(today) != 1 {
		t.Fatal("first reads wrong")
	}
	inc(old) // never happens in service: a settled day is not counted on
	inc(today)
	if got := read(old); got != 1 {
		t.Errorf("settled day read %d, want the kept 1", got)
	}
	if got := read(today); got != 2 {
		t.Errorf("today read %d, want 2 from Redis", got)
	}
	// A period of both: the settled part's sum is kept, today's is read.
	both := func() int64 {
		m, err := s.DayStats(ctx, []string{old, today})
		if err != nil {
			t.Fatal(err)
		}
		return m[k]
	}
	if got := both(); got != 3 {
		t.Errorf("period read %d, want 1 kept + 2 today", got)
	}
	inc(today)
	if got := both(); got != 4 {
		t.Errorf("period read again %d, want 1 kept + 3 today", got)
	}
	for bucket, want := range map[string]bool{"2026-11-29": true, "2026-11-30": false, "2026-12-01": false, "2026-10": true, "2026-11": false} {
		if got := isSettled(bucket, now); got != want {
			t.Errorf("isSettled(%s) = %v, want %v", bucket, got, want)
		}
	}
}

// A count adds exactly its N: a daily snapshot of an empty figure (no
// reserved slots, a service with no maximum) adds nothing rather than one,
// so utilisation is not inflated.
func TestCountAddsItsN(t *testing.T) {
	ctx := context.Background()
	s := New(redistest.Client(t), redistest.Namespace(t))
	day := "2026-11-20"
	zero := adapter.StatKey{Metric: "snap-reserved", Service: "svc"}
	three := adapter.StatKey{Metric: "snap-max", Service: "svc"}
	if err := s.Count(ctx, []adapter.StatInc{{Day: day, Key: zero}, {Day: day, Key: three, N: 3}}); err != nil {
		t.Fatal(err)
	}
	m, err := s.DayStats(ctx, []string{day})
	if err != nil {
		t.Fatal(err)
	}
	if m[zero] != 0 || m[three] != 3 {
		t.Errorf("counted %d and %d, want 0 and 3", m[zero], m[three])
	}
}

// A settled bucket found in the memory cache and then pushed out of it
// before it is added up (by the same read's own fetches, or another
// report's) still counts, and is never kept as empty: a report read
// after others must give the same figures as before them.
func TestSettledStatsEvictedMidReadStillCount(t *testing.T) {
	ctx := context.Background()
	s := New(redistest.Client(t), redistest.Namespace(t))
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	s.KeepSettledStats(func() time.Time { return now })
	s.settled.buckets.Max = 3 // small, so one read's fetches evict what it found
	k := adapter.StatKey{Metric: adapter.MReceived, Service: "svc", Area: "LS6", Need: "n"}
	days := []string{"2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05"}
	for _, d := range days {
		if err := s.Count(ctx, []adapter.StatInc{{Day: d, Key: k, N: 1}}); err != nil {
			t.Fatal(err)
		}
	}
	read := func(ds ...string) int64 {
		t.Helper()
		m, err := s.DayStats(ctx, ds)
		if err != nil {
			t.Fatal(err)
		}
		return m[k]
	}
	if got := read(days[3], days[4]); got != 2 { // both now cached
		t.Fatalf("first read %d, want 2", got)
	}
	// Five buckets: the last two found cached, the first three fetched and
	// kept, which pushes the two found out of a cache of three before
	// they are added.
	if got := read(days...); got != 5 {
		t.Errorf("a read whose cached buckets were evicted mid-way gave %d, want 5", got)
	}
	if got := read(days[3], days[4]); got != 2 {
		t.Errorf("read again: %d, want 2 (an evicted bucket was kept as empty)", got)
	}
}

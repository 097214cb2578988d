package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
	"github.com/social-prescribing/referral-adapter/internal/redistest"
)

// BenchmarkRedisMemoryPerReferral loads referrals through the full HTTP
// path into a private Redis and reports used_memory per open referral, and
// per closed referral after the retention purge. Run with -benchtime=2000x
// (b.N referrals).
func BenchmarkRedisMemoryPerReferral(b *testing.B) {
	rs := redistest.NewServer(b)
	h := newHarness(b, map[string]string{"REDIS_URL": rs.URL(), "RATE_LIMIT_PER_MINUTE": "0"})
	rdb := goredis.NewClient(&goredis.Options{Addr: rs.Addr})
	defer rdb.Close()
	tok := h.token(auth.RolePractice, practice)
	before := usedMemory(b, rdb)
	base := fixture(b, "servicerequest-debt.json")
	var ids []string
	for i := range b.N {
		body := strings.Replace(string(base), "SP-2026-000101", fmt.Sprintf("MEM-%d", i), 1)
		r := h.do("POST", "/fhir/ServiceRequest", tok, []byte(body))
		if r.status != 201 {
			b.Fatalf("= %d %s", r.status, r.body)
		}
		ids = append(ids, locationID(r.header.Get("Location")))
	}
	b.StopTimer()
	// Audit records and rate-limit counters are excluded: they are not the
	// referral (the audit stream is trimmed by its own retention).
	rdb.Del(context.Background(), strings.TrimSuffix(h.app.store.KeyPattern(), "*")+"audit")
	open := usedMemory(b, rdb)
	b.ReportMetric(float64(open-before)/float64(b.N), "bytes/open-referral")

	// Close them all, long ago, then purge.
	long := time.Now().Add(-10 * 365 * 24 * time.Hour).UnixMilli()
	for _, id := range ids {
		key := strings.TrimSuffix(h.app.store.KeyPattern(), "*") + "task:" + id
		rdb.HSet(context.Background(), key, "st", "completed", "mod", long)
		rdb.ZAdd(context.Background(), strings.TrimSuffix(h.app.store.KeyPattern(), "*")+"tmod", goredis.Z{Score: float64(long), Member: id})
	}
	for {
		purged, err := h.app.store.PurgeClosed(context.Background(), time.Now().Add(-9*365*24*time.Hour), 1000, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		if len(purged) == 0 {
			break
		}
	}
	closed := usedMemory(b, rdb)
	b.ReportMetric(float64(closed-before)/float64(b.N), "bytes/closed-referral")
}

func usedMemory(b *testing.B, rdb *goredis.Client) int64 {
	info, err := rdb.Info(context.Background(), "memory").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	b.Fatal("no used_memory in INFO")
	return 0
}

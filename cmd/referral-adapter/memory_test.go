package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/tidwall/gjson"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/auth"
	"github.com/social-prescribing/referral-adapter/internal/redistest"
)

// BenchmarkRedisMemoryPerReferral loads open referrals through the full
// HTTP path into a private Redis and reports used_memory per open referral,
// and per closed referral after the retention purge. Each referral is for a
// patient of its own, sent with that patient's Consent first as a practice
// sends them, so each is placed in a queue and open, and its bytes include
// its Consent and its patient's indexes. It also reports, per referral, the
// memory of each key family (MEMORY USAGE, the part of the key name after
// the namespace up to the next colon), to show where the bytes go. Run with
// -benchtime=2000x (b.N referrals).
func BenchmarkRedisMemoryPerReferral(b *testing.B) {
	rs := redistest.NewServer(b)
	h := newHarness(b, map[string]string{"REDIS_URL": rs.URL(), "RATE_LIMIT_PER_MINUTE": "0"})
	rdb := goredis.NewClient(&goredis.Options{Addr: rs.Addr})
	defer rdb.Close()
	tok := h.token(auth.RolePractice, practice)
	before := usedMemory(b, rdb)
	sr, consent := string(fixture(b, "servicerequest-debt.json")), string(fixture(b, "consent-share-with-link-workers.json"))
	var ids []string
	for i := range b.N {
		nhs := adapter.SyntheticNHSNumber(i)
		c := strings.NewReplacer("9000000009", nhs, "CON-2026-000101", fmt.Sprintf("MEMC-%d", i)).Replace(consent)
		if r := h.do("POST", "/fhir/Consent", tok, []byte(c)); r.status != 201 {
			b.Fatalf("Consent = %d %s", r.status, r.body)
		}
		body := strings.NewReplacer("9000000009", nhs, "SP-2026-000101", fmt.Sprintf("MEM-%d", i)).Replace(sr)
		r := h.do("POST", "/fhir/ServiceRequest", tok, []byte(body))
		if r.status != 201 {
			b.Fatalf("ServiceRequest = %d %s", r.status, r.body)
		}
		ids = append(ids, locationID(r.header.Get("Location")))
	}
	b.StopTimer()
	// Audit records and rate-limit counters are excluded: they are not the
	// referral (the audit stream is trimmed by its own retention).
	prefix := strings.TrimSuffix(h.app.store.KeyPattern(), "*")
	rdb.Del(context.Background(), prefix+"audit")
	open := usedMemory(b, rdb)
	requireOpen(b, h, tok, ids[len(ids)-1])
	b.ReportMetric(float64(open-before)/float64(b.N), "bytes/open-referral")
	for family, n := range keyFamilies(b, rdb, prefix) {
		if per := float64(n) / float64(b.N); per >= 10 {
			b.ReportMetric(per, family+"-bytes/referral")
		}
	}

	// Close them all, long ago, then purge.
	long := time.Now().Add(-10 * 365 * 24 * time.Hour).UnixMilli()
	for _, id := range ids {
		key := prefix + "task:" + id
		rdb.HSet(context.Background(), key, "st", "completed", "mod", long)
		rdb.ZAdd(context.Background(), prefix+"tmod", goredis.Z{Score: float64(long), Member: id})
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

// requireOpen fails the benchmark unless the referral's Task is open and
// placed: a referral refused or held would not be what is measured.
func requireOpen(b *testing.B, h *harness, tok, id string) {
	r := h.do("GET", "/fhir/Task/"+id, tok, nil)
	if st := gjson.GetBytes(r.body, "status").String(); r.status != 200 || (st != "requested" && st != "ready") {
		b.Fatalf("the last referral's Task = %d, status %q: not an open referral", r.status, st)
	}
}

// keyFamilies sums MEMORY USAGE of the namespace's keys by family: the
// part of the name after the prefix up to the next colon.
func keyFamilies(b *testing.B, rdb *goredis.Client, prefix string) map[string]int64 {
	ctx := context.Background()
	sums := map[string]int64{}
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		n, err := rdb.MemoryUsage(ctx, iter.Val()).Result()
		if err != nil {
			b.Fatal(err)
		}
		family, _, _ := strings.Cut(strings.TrimPrefix(iter.Val(), prefix), ":")
		sums[family] += n
	}
	if err := iter.Err(); err != nil {
		b.Fatal(err)
	}
	return sums
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

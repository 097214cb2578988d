package redis

import (
	"context"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/social-prescribing/referral-adapter/internal/redistest"
)

// Concurrent callers each get their own write applied exactly once, and
// under contention several share a round trip.
func TestGroupCommitConcurrentWritesAllApplied(t *testing.T) {
	ctx := context.Background()
	c := redistest.Client(t)
	key := "sp:{" + redistest.Namespace(t) + "}:gc"
	flushes := 0
	var mu sync.Mutex
	g := &groupCommit{c: c}
	const callers, each = 64, 20
	var wg sync.WaitGroup
	for i := 0; i < callers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < each; j++ {
				err := g.do(ctx, func(p goredis.Pipeliner) {
					if j == 0 && i == 0 {
						mu.Lock()
						flushes++
						mu.Unlock()
					}
					p.HIncrBy(ctx, key, "total", 1)
					p.HIncrBy(ctx, key, string(rune('a'+i%26)), 1)
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}(i)
	}
	wg.Wait()
	got, err := c.HGetAll(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	if got["total"] != "1280" {
		t.Errorf("total = %s, want %d", got["total"], callers*each)
	}
	if got["a"] != "60" { // callers 0, 26 and 52
		t.Errorf("a = %s, want 60", got["a"])
	}
	if r := g.rounds.Load(); r > callers*each/2 {
		t.Errorf("%d round trips for %d concurrent writes: not grouped", r, callers*each)
	}
	t.Logf("%d writes in %d round trips", callers*each, g.rounds.Load())
	if flushes != 1 {
		t.Errorf("a caller's commands were queued %d times", flushes)
	}
	// The flusher stops once it finds nothing queued, which may be just
	// after the last caller returned: wait for it rather than race it.
	idle := func() (bool, int) {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.running, len(g.pending)
	}
	deadline := time.Now().Add(5 * time.Second)
	running, pending := idle()
	for (running || pending != 0) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
		running, pending = idle()
	}
	if running || pending != 0 {
		t.Errorf("flusher left running=%v with %d pending", running, pending)
	}
}

// A failed round trip fails every caller in it, and the next write works.
func TestGroupCommitErrorReachesCaller(t *testing.T) {
	ctx := context.Background()
	c := redistest.Client(t)
	ns := redistest.Namespace(t)
	str, hash := "sp:{"+ns+"}:gc-string", "sp:{"+ns+"}:gc-hash"
	if err := c.Set(ctx, str, "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	g := &groupCommit{c: c}
	err := g.do(ctx, func(p goredis.Pipeliner) { p.HIncrBy(ctx, str, "n", 1) })
	if err == nil {
		t.Fatal("HINCRBY on a string succeeded")
	}
	if err := g.do(ctx, func(p goredis.Pipeliner) { p.HIncrBy(ctx, hash, "n", 1) }); err != nil {
		t.Fatalf("next write: %v", err)
	}
	if n, _ := c.HGet(ctx, hash, "n").Int(); n != 1 {
		t.Errorf("n = %d", n)
	}
}

// A caller whose context ends stops waiting.
func TestGroupCommitCallerContextEnds(t *testing.T) {
	c := redistest.Client(t)
	g := &groupCommit{c: c}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.do(ctx, func(p goredis.Pipeliner) { p.Ping(context.Background()) }); err == nil {
		t.Error("cancelled caller got nil")
	}
}

package redis

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	goredis "github.com/redis/go-redis/v9"
)

// groupCommit sends small writes of concurrent requests (audit records,
// report counters) to Redis together: each caller queues its commands and
// waits; one flusher at a time sends everything queued as one MULTI/EXEC
// round trip and tells every caller the result. A caller is answered only
// after its write is in Redis, so nothing acknowledged is lost; under load
// many requests share a round trip instead of paying one each. With one
// caller at a time it is a plain round trip.
type groupCommit struct {
	c       goredis.UniversalClient
	mu      sync.Mutex
	pending []*commit
	running bool
	rounds  atomic.Int64 // round trips sent
}

type commit struct {
	queue func(goredis.Pipeliner)
	done  chan error
}

// maxCommitBatch bounds one MULTI/EXEC, so one flush never holds Redis long.
const maxCommitBatch = 256

// commitTimeout bounds one flush; callers still return at their own
// context's deadline.
const commitTimeout = 10 * time.Second

var commitBatch = promauto.NewHistogram(prometheus.HistogramOpts{
	Namespace: "referral_adapter", Subsystem: "redis", Name: "group_commit_batch_size",
	Help:    "Writes sent together in one group-commit round trip (audit records, report counters).",
	Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
})

// do queues the commands written by queue and returns when they were
// executed (with their error) or ctx is done. A caller whose ctx has
// already ended queues nothing and gets its error (select would otherwise
// pick at random between that and a quick commit's answer).
func (g *groupCommit) do(ctx context.Context, queue func(goredis.Pipeliner)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := &commit{queue: queue, done: make(chan error, 1)}
	g.mu.Lock()
	g.pending = append(g.pending, c)
	if !g.running {
		g.running = true
		go g.flush()
	}
	g.mu.Unlock()
	select {
	case err := <-c.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flush sends what is queued until nothing is, then stops.
func (g *groupCommit) flush() {
	for {
		batch := g.take()
		if batch == nil {
			return
		}
		commitBatch.Observe(float64(len(batch)))
		g.rounds.Add(1)
		ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
		pipe := g.c.TxPipeline()
		for _, c := range batch {
			c.queue(pipe)
		}
		_, err := pipe.Exec(ctx)
		cancel()
		for _, c := range batch {
			c.done <- err
		}
	}
}

// take removes up to maxCommitBatch queued commits; nil (and the flusher
// marked stopped) when none are left.
func (g *groupCommit) take() []*commit {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := min(len(g.pending), maxCommitBatch)
	if n == 0 {
		g.running = false
		g.pending = nil
		return nil
	}
	batch := g.pending[:n:n]
	g.pending = g.pending[n:]
	return batch
}

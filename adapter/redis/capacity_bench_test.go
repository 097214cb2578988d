package redis

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/internal/redistest"
)

// latencies collects per-operation durations from parallel goroutines.
type latencies struct {
	mu  sync.Mutex
	all []time.Duration
}

func (l *latencies) add(ds []time.Duration) {
	l.mu.Lock()
	l.all = append(l.all, ds...)
	l.mu.Unlock()
}

// report adds throughput and latency percentiles to the benchmark.
func (l *latencies) report(b *testing.B, elapsed time.Duration) {
	slices.Sort(l.all)
	if n := len(l.all); n > 0 {
		b.ReportMetric(float64(n)/elapsed.Seconds(), "referrals/s")
		b.ReportMetric(float64(l.all[n/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(l.all[n*99/100].Microseconds()), "p99-µs")
	}
}

// benchPlace runs referrals in parallel through Intake, every one along
// route, and returns how long it took; per-op latencies go into lat.
func benchPlace(b *testing.B, s *Store, route []adapter.RouteStep, lat *latencies) time.Duration {
	var seq atomic.Int64
	r := &adapter.Routing{Now: time.Now(), StaleAfter: time.Hour, LinkWorker: "lw", Names: testNames, Gate: adapter.OpenGate}
	b.SetParallelism(4) // 4 × GOMAXPROCS clients contend for the same slots
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			id := "t" + strconv.FormatInt(seq.Add(1), 10)
			sub := &adapter.Submission{Kind: adapter.KindServiceRequest, ID: id, JSON: []byte(`{}`), Route: route,
				Task: &adapter.Task{ID: id, Status: adapter.TaskRequested, AuthoredOn: r.Now, Version: 1, Route: route}}
			t := time.Now()
			if err := s.Intake(context.Background(), &adapter.IntakeBatch{Practice: "A81001", Now: r.Now, Routing: r,
				Items: []*adapter.Submission{sub}}); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t))
		}
		lat.add(mine)
	})
	elapsed := time.Since(start)
	b.StopTimer()
	return elapsed
}

func benchStore(b *testing.B) *Store {
	return New(redistest.Client(b), redistest.Namespace(b))
}

func setCapB(b *testing.B, s *Store, svc string, max int) {
	b.Helper()
	_, err := s.UpdateCapacity(context.Background(), svc, adapter.Capacity{}, adapter.CapacityChange{By: "bench", At: time.Now()},
		func(c *adapter.Capacity) error { c.Status, c.MaxOpen = adapter.CapacityOpen, max; return nil })
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRouting measures routing throughput: each referral walks a
// three-step route whose first service holds half of them, so the other
// half is placed by fallback. It checks the first service ends exactly full.
func BenchmarkRouting(b *testing.B) {
	s := benchStore(b)
	half := max(1, b.N/2)
	setCapB(b, s, "a", half)
	setCapB(b, s, "b", 0)
	var lat latencies
	elapsed := benchPlace(b, s, []adapter.RouteStep{svc("a"), svc("b"), svc("lw")}, &lat)
	if got := reservedB(b, s, "a"); b.N >= half && got != half {
		b.Fatalf("service a holds %d, want exactly %d", got, half)
	}
	lat.report(b, elapsed)
}

// BenchmarkReservationContention measures reservation latency when every
// client reserves at the same service (one hot capacity hash).
func BenchmarkReservationContention(b *testing.B) {
	s := benchStore(b)
	setCapB(b, s, "a", 0)
	var lat latencies
	elapsed := benchPlace(b, s, []adapter.RouteStep{svc("a")}, &lat)
	if got := reservedB(b, s, "a"); got != b.N {
		b.Fatalf("reserved %d of %d", got, b.N)
	}
	lat.report(b, elapsed)
}

func reservedB(b *testing.B, s *Store, id string) int {
	c, err := s.Capacity(context.Background(), id)
	if err != nil {
		b.Fatal(err)
	}
	return c.Reserved
}

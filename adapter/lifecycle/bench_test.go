package lifecycle_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/lifecycle"
	"github.com/social-prescribing/referral-adapter/adapter/redis"
)

// BenchmarkClaim measures claims against real Redis with the queue held
// between half and all of the stated depth (refilled outside the timer).
// Depths 1k and 100k always run; 1M only with BENCH_QUEUE_1M=1 (seeding a
// million referrals takes a few minutes and ~1 GB of Redis memory).
// Reports claims/s and p50/p99 latency.
func BenchmarkClaim(b *testing.B) {
	for _, depth := range claimDepths() {
		b.Run(fmt.Sprintf("depth=%d", depth), func(b *testing.B) {
			svc, st, _ := setup(b, lifecycle.Config{Lease: time.Hour, ProviderDeadline: time.Hour})
			next := refiller(b, st, depth)
			next(depth)
			lat := make([]time.Duration, 0, b.N)
			left := depth
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if left < depth/2 {
					b.StopTimer()
					next(depth - left)
					left = depth
					b.StartTimer()
				}
				t0 := time.Now()
				res, err := svc.Claim(context.Background(), worker(1), lw)
				lat = append(lat, time.Since(t0))
				if err != nil || res == nil {
					b.Fatalf("claim: %v %v", res, err)
				}
				left--
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "claims/s")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// refiller returns a function that queues n more referrals with fresh ids.
func refiller(b *testing.B, st *redis.Store, _ int) func(n int) {
	serial := 0
	return func(n int) {
		now := time.Now()
		for start := 0; start < n; start += 1000 {
			batch := &adapter.IntakeBatch{}
			for i := start; i < min(n, start+1000); i++ {
				serial++
				id := fmt.Sprintf("b%09d", serial)
				batch.Items = append(batch.Items, &adapter.Submission{Kind: adapter.KindServiceRequest, ID: id, JSON: []byte(`{}`),
					Candidates: []string{lw}, Task: &adapter.Task{ID: id, ReferralID: id, Status: adapter.TaskRequested,
						Priority: adapter.PriorityRoutine, AuthoredOn: now.Add(time.Duration(serial) * time.Millisecond), Version: 1}})
			}
			if err := st.Intake(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkClaimConcurrent measures claim throughput with 16 claimers at
// once against real Redis, as a team of link workers would: the queue
// holds between the stated depth and depth+N while they drain it.
// Reports claims/s (BENCH_QUEUE_1M=1 adds the 1M-deep queue).
func BenchmarkClaimConcurrent(b *testing.B) {
	for _, depth := range claimDepths() {
		b.Run(fmt.Sprintf("depth=%d", depth), func(b *testing.B) {
			svc, st, _ := setup(b, lifecycle.Config{Lease: time.Hour, ProviderDeadline: time.Hour})
			refiller(b, st, depth)(depth + b.N)
			var claimers atomic.Int64
			b.SetParallelism(8) // 16 claimers on 2 cores
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				w := worker(int(claimers.Add(1)))
				for pb.Next() {
					if res, err := svc.Claim(context.Background(), w, lw); err != nil || res == nil {
						b.Errorf("claim: %v %v", res, err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "claims/s")
		})
	}
}

// claimDepths are the queue depths the claim benchmarks run at: 1k and
// 100k, and 1M with BENCH_QUEUE_1M=1.
func claimDepths() []int {
	if os.Getenv("BENCH_QUEUE_1M") == "1" {
		return []int{1_000, 100_000, 1_000_000}
	}
	return []int{1_000, 100_000}
}

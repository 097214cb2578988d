package redis

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	goredis "github.com/redis/go-redis/v9"

	"github.com/social-prescribing/referral-adapter/adapter"
)

var storeErrors = promauto.NewCounterVec(prometheus.CounterOpts{
	Namespace: "referral_adapter", Subsystem: "redis", Name: "errors_total",
	Help: "Store operations that failed, by kind (unavailable: Redis unreachable or timed out).",
}, []string{"kind"})

// QueueStats reads each service's queue depth, the age of its head and its
// free places, in one round trip (for the metrics collector).
func (s *LifecycleStore) QueueStats(ctx context.Context, services []string, now time.Time) (map[string]adapter.QueueStats, error) {
	pipe := s.c.Pipeline()
	depth := make([]*goredis.IntCmd, len(services))
	caps := make([]*goredis.SliceCmd, len(services))
	for i, svc := range services {
		depth[i] = pipe.ZCard(ctx, s.k.queue(svc))
		caps[i] = pipe.HMGet(ctx, s.k.capacity(svc), "max", "reserved")
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, s.fail(err)
	}
	out := make(map[string]adapter.QueueStats, len(services))
	for i, svc := range services {
		qs := adapter.QueueStats{Depth: depth[i].Val(), Remaining: -1}
		v := caps[i].Val()
		if max := toInt(v[0]); max > 0 {
			qs.Remaining = max - toInt(v[1])
		}
		out[svc] = qs
	}
	for svc, qs := range out {
		if qs.Depth == 0 {
			continue
		}
		ids, err := s.c.ZRange(ctx, s.k.queue(svc), 0, 0).Result()
		if err != nil || len(ids) == 0 {
			continue
		}
		if t, err := s.referrals.Task(ctx, ids[0]); err == nil {
			qs.OldestAge = now.Sub(t.AuthoredOn)
			out[svc] = qs
		}
	}
	return out, nil
}

func toInt(v any) int64 {
	s, _ := v.(string)
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

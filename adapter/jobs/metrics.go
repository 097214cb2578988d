package jobs

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	runs = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "referral_adapter", Subsystem: "jobs", Name: "runs_total",
		Help: "Scheduled job runs by result (ok, failed, skipped because another replica held the lock, lock-error).",
	}, []string{"job", "result"})
	duration = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "referral_adapter", Subsystem: "jobs", Name: "duration_seconds",
		Help: "Duration of job runs.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
	}, []string{"job"})
	items = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "referral_adapter", Subsystem: "jobs", Name: "items_total",
		Help: "Items each job acted on, by the job's own count names.",
	}, []string{"job", "count"})
)

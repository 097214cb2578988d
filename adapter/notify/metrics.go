package notify

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	attempts = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "referral_adapter", Subsystem: "notify", Name: "attempts_total",
		Help: "Notification delivery attempts by type (handshake, event-notification) and result (delivered, failed).",
	}, []string{"type", "result"})
	outcomes = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "referral_adapter", Subsystem: "notify", Name: "deliveries_total",
		Help: "Notifications settled, by type and outcome (delivered, dead-lettered, dropped because the Subscription is gone or inactive).",
	}, []string{"type", "outcome"})
	attemptSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "referral_adapter", Subsystem: "notify", Name: "attempt_duration_seconds",
		Help: "Duration of delivery attempts.", Buckets: prometheus.ExponentialBuckets(0.005, 3, 9),
	}, []string{"result"})
	triggers = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "referral_adapter", Subsystem: "notify", Name: "triggers_total",
		Help: "Notification triggers (Task events, handshakes) fanned out, by type.",
	}, []string{"type"})
	pending = promauto.NewGauge(prometheus.GaugeOpts{
		Namespace: "referral_adapter", Subsystem: "notify", Name: "pending_deliveries",
		Help: "Deliveries awaiting an attempt or a retry (sampled by each retry run).",
	})
)

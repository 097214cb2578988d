package intake

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var publishFailures = promauto.NewCounter(prometheus.CounterOpts{
	Namespace: "referral_adapter", Subsystem: "intake", Name: "task_event_publish_failures_total",
	Help: "Task events that could not be published for EHR notifications after a successful intake.",
})

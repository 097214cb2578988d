package lifecycle

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	claimsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "referral_adapter", Subsystem: "queue", Name: "claims_total",
		Help: "Referrals claimed, by service.",
	}, []string{"service"})
	claimsRefused = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "referral_adapter", Subsystem: "queue", Name: "claims_passed_by_consent_total",
		Help: "Referrals a claim passed by because the patient's consent does not let them go to the claimant, by service.",
	}, []string{"service"})
	leaseExpiries = promauto.NewCounter(prometheus.CounterOpts{
		Namespace: "referral_adapter", Subsystem: "queue", Name: "lease_expiries_total",
		Help: "Claimed referrals returned to their queue because the lease expired (by the sweep job).",
	})
	closureSummariesFailing = promauto.NewGauge(prometheus.GaugeOpts{
		Namespace: "referral_adapter", Subsystem: "queue", Name: "closure_summaries_failing",
		Help: "Closure summaries owed to practices that the last closure-summary job run could not send.",
	})
	slaBreaches = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "referral_adapter", Subsystem: "queue", Name: "sla_breaches",
		Help: "Referrals waiting or claimed past their first-contact deadline with no contact yet, by service (sla-breach job).",
	}, []string{"service"})
)

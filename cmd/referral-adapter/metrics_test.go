package main

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
	"github.com/social-prescribing/referral-adapter/adapter/lifecycle"
)

// The queue collector reports depth, head age and free places from Redis.
func TestQueueMetrics(t *testing.T) {
	h := newHarness(t, nil)
	gp := h.token(auth.RolePractice, practice)
	h.do("POST", "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-debt.json"))
	reg := prometheus.NewRegistry()
	reg.MustRegister(lifecycle.NewCollector(h.app.store, h.app.mappings))
	want := `
# HELP referral_adapter_queue_depth Referrals waiting in a service's queue.
# TYPE referral_adapter_queue_depth gauge
referral_adapter_queue_depth{service="active-riverside"} 0
referral_adapter_queue_depth{service="befriending"} 0
referral_adapter_queue_depth{service="carers-support"} 0
referral_adapter_queue_depth{service="housing-options"} 0
referral_adapter_queue_depth{service="money-advice"} 1
referral_adapter_queue_depth{service="riverside-link-workers"} 0
referral_adapter_queue_depth{service="wellbeing-cafe"} 0
referral_adapter_queue_depth{service="work-and-skills"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "referral_adapter_queue_depth"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(lifecycle.NewCollector(h.app.store, h.app.mappings), "referral_adapter_capacity_remaining"); n != 8 {
		t.Errorf("capacity_remaining series = %d", n)
	}
	// The default registry carries the per-package metrics and process CPU.
	for _, name := range []string{"referral_adapter_http_requests_total", "referral_adapter_intake_referrals_total", "process_cpu_seconds_total"} {
		if n, err := testutil.GatherAndCount(prometheus.DefaultGatherer, name); err != nil || n == 0 {
			t.Errorf("%s: %d series, %v", name, n, err)
		}
	}
}

package capacity

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/social-prescribing/referral-adapter/adapter/jobs"
)

var staleServices = promauto.NewGaugeVec(prometheus.GaugeOpts{
	Namespace: "referral_adapter", Subsystem: "capacity", Name: "stale",
	Help: "1 when a service's capacity was not confirmed within CAPACITY_STALE_AFTER (routing passes it by), by service.",
}, []string{"service"})

// CheckStaleness finds the services whose capacity nobody confirmed within
// CAPACITY_STALE_AFTER (job capacity-staleness). Routing already passes
// them by at every referral; this makes it visible: a gauge per service
// for alerting, and a warning naming the services so that someone asks
// the provider to confirm (PUT /api/v1/services/{id}/capacity).
func (s *Service) CheckStaleness(ctx context.Context, _ int64) (jobs.Report, error) {
	views, err := s.Directory(ctx)
	if err != nil {
		return nil, err
	}
	var stale []string
	for id, v := range views {
		g := 0.0
		if v.Stale {
			g = 1
			stale = append(stale, id)
		}
		staleServices.WithLabelValues(id).Set(g)
	}
	slices.Sort(stale)
	if len(stale) > 0 {
		slog.WarnContext(ctx, "service capacity not confirmed recently; routing passes these services by",
			"services", stale, "staleAfter", s.staleAfter.String())
	}
	return jobs.Report{"stale": len(stale), "services": len(views)}, nil
}

// SetClock replaces the clock (tests, and operators checking ahead).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

package intake

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// count updates the report counters for the referrals this request
// created. It runs after the referral is stored: a crash between the two
// can undercount one referral, never lose it.
func (s *Service) count(ctx context.Context, plans []*plan) {
	if s.stats == nil {
		return
	}
	var incs []adapter.StatInc
	for _, p := range plans {
		t := p.sub.Task
		if t == nil || p.sub.Existing != "" {
			continue
		}
		referrals.WithLabelValues(routingResult(t, p.sub.Placement)).Inc()
		incs = append(incs, referralStats(t, p.sub.Placement, s.now().In(s.loc).Format("2006-01-02"))...)
	}
	if err := s.stats.Count(context.WithoutCancel(ctx), incs); err != nil {
		slog.WarnContext(ctx, "report counters not updated", "error", err.Error())
	}
}

// referralStats are the counters of one new referral.
func referralStats(t *adapter.Task, pl *adapter.Placement, day string) []adapter.StatInc {
	inc := func(metric, svc string) adapter.StatInc {
		return adapter.StatInc{Day: day, Key: adapter.StatKey{Metric: metric, Service: svc, Area: t.Area, Need: t.Need}, Practice: t.Practice, N: 1}
	}
	out := []adapter.StatInc{inc(adapter.MReceived, t.Owner), inc(adapter.MSource+":"+string(t.Source), t.Owner)}
	// Reach and practice engagement (issue 20): who was referred, by area;
	// a referral stopped at intake has its feedback (the reason) at once.
	reach := append(adapter.ReachKeys(t, adapter.StageReferred), adapter.EngageKey(t, adapter.EngageReferred))
	if t.Status == adapter.TaskRejected {
		reach = append(reach, adapter.EngageKey(t, adapter.EngageFeedback))
	}
	for _, k := range reach {
		out = append(out, adapter.StatInc{Day: day, Key: k, N: 1})
	}
	switch {
	case t.Held(): // placed when consent or sign-off releases it (issues 4, 11): see countReleases
	case t.Status == adapter.TaskRejected && (t.BusinessStatus.Code == adapter.MClinicalRedirect || t.BusinessStatus.Code == adapter.MOutOfRemit):
		out = append(out, inc(adapter.SafetyMetric(t.BusinessStatus.Code, t.Source, t.Practice), ""))
	case t.Status == adapter.TaskRejected:
		out = append(out, inc(t.BusinessStatus.Code, ""))
	case pl == nil:
		out = append(out, inc(adapter.MPlaced, t.Owner))
	default:
		for _, sk := range pl.Skipped {
			if sk.Reason.Capacity() {
				out = append(out, inc(adapter.MRedirected, sk.Service))
			}
		}
		switch pl.Outcome {
		case adapter.OutcomeWaitlisted:
			out = append(out, inc(adapter.MWaitlisted, pl.Owner))
		default:
			out = append(out, inc(adapter.MPlaced, pl.Owner))
		}
	}
	return out
}

var referrals = promauto.NewCounterVec(prometheus.CounterOpts{
	Namespace: "referral_adapter", Subsystem: "intake", Name: "referrals_total",
	Help: "Referrals accepted, by routing result (routed, waitlisted, redirected-capacity, over-capacity, awaiting-consent, awaiting-sign-off, clinical-redirect, out-of-remit, possible-duplicate).",
}, []string{"result"})

func routingResult(t *adapter.Task, pl *adapter.Placement) string {
	switch {
	case t.SignOffHeld():
		return adapter.BSAwaitingSignOff
	case t.ConsentHeld():
		return adapter.BSAwaitingConsent
	case t.Status == adapter.TaskRejected:
		return t.BusinessStatus.Code
	case pl == nil:
		return "routed"
	case pl.OverCapacity:
		return "over-capacity"
	}
	return string(pl.Outcome)
}

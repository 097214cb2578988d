package intake

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// count updates the Prometheus counter of the referrals this request
// created. Their report counters went with them in the intake script
// (Submission.Stats, set by build): a referral is never stored without
// being counted, nor counted without being stored.
func (s *Service) count(plans []*plan) {
	for _, p := range plans {
		if t := p.sub.Task; t != nil && p.sub.Existing == "" {
			referrals.WithLabelValues(routingResult(t, p.sub.Placement)).Inc()
		}
	}
}

// referralStats are the counters of one new referral, as placed (pl nil
// when it was not placed by capacity).
func referralStats(t *adapter.Task, pl *adapter.Placement, day string) []adapter.StatInc {
	return adapter.ExpandIntakeStats(intakeStats(t, day), t.Owner, pl)
}

// intakeStats are the counters of one new referral before it is placed:
// those that depend on where it goes are filled in by the intake script
// (or by adapter.ExpandIntakeStats).
func intakeStats(t *adapter.Task, day string) []adapter.IntakeStat {
	inc := func(metric, svc string) adapter.StatInc {
		return adapter.StatInc{Day: day, Key: adapter.StatKey{Metric: metric, Service: svc, Area: t.Area, Need: t.Need}, Practice: t.Practice, N: 1}
	}
	owned := func(metric string) adapter.IntakeStat {
		return adapter.IntakeStat{StatInc: inc(metric, ""), Owner: true}
	}
	out := []adapter.IntakeStat{owned(adapter.MReceived), owned(adapter.MSource + ":" + string(t.Source))}
	// Reach and practice engagement (issue 20): who was referred, by area;
	// a referral stopped at intake has its feedback (the reason) at once.
	reach := append(adapter.ReachKeys(t, adapter.StageReferred), adapter.EngageKey(t, adapter.EngageReferred))
	if t.Status == adapter.TaskRejected {
		reach = append(reach, adapter.EngageKey(t, adapter.EngageFeedback))
	}
	for _, k := range reach {
		out = append(out, adapter.IntakeStat{StatInc: adapter.StatInc{Day: day, Key: k, N: 1}})
	}
	switch {
	case t.Held(): // placed when consent or sign-off releases it (issues 4, 11): see releaseStats
	case t.Status == adapter.TaskRejected && (t.BusinessStatus.Code == adapter.MClinicalRedirect || t.BusinessStatus.Code == adapter.MOutOfRemit):
		out = append(out, adapter.IntakeStat{StatInc: inc(adapter.SafetyMetric(t.BusinessStatus.Code, t.Source, t.Practice), "")})
	case t.Status == adapter.TaskRejected:
		out = append(out, adapter.IntakeStat{StatInc: inc(t.BusinessStatus.Code, "")})
	default:
		placed := owned(adapter.MPlaced)
		placed.Unplaced = true // at its first candidate
		out = append(out, placed,
			adapter.IntakeStat{StatInc: inc(adapter.MRedirected, ""), Placed: true, Skipped: true},
			adapter.IntakeStat{StatInc: inc(adapter.MPlaced, ""), Placed: true, Outcome: true})
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

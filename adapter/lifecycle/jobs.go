package lifecycle

import (
	"context"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/jobs"
)

// SweepLeases returns every expired lease to its queue (job lease-sweep).
func (s *Service) SweepLeases(ctx context.Context, _ int64) (jobs.Report, error) {
	n, err := s.store.SweepLeases(ctx, s.m.ServiceIDs(), s.now())
	leaseExpiries.Add(float64(n))
	return jobs.Report{"returned": n}, err
}

// ProviderDeadline declines referrals a VCSE provider has not answered
// within PROVIDER_RESPONSE_DEADLINE (job provider-deadline). An onward
// referral is declined with reason no-response and its link worker's Task
// says so; a direct referral is re-routed along its route without that
// service, as when a service closes.
func (s *Service) ProviderDeadline(ctx context.Context, _ int64) (jobs.Report, error) {
	now := s.now()
	rep := jobs.Report{"declined": 0, "rerouted": 0}
	for _, svc := range s.m.Services() {
		if svc.Kind != adapter.KindVCSE {
			continue
		}
		waiting, claimed, err := s.store.Waiting(ctx, svc.ID, 10000)
		if err != nil {
			return rep, err
		}
		var direct []string
		for _, t := range append(waiting, claimed...) {
			if t.Status != adapter.TaskRequested || now.Sub(t.AuthoredOn) < s.cfg.ProviderDeadline {
				continue
			}
			if t.PartOf == "" {
				direct = append(direct, t.ID)
				continue
			}
			if err := s.declineNoResponse(ctx, t, svc, now); err != nil {
				return rep, err
			}
			rep["declined"]++
		}
		if len(direct) > 0 {
			moved, err := s.store.RerouteTasks(ctx, svc.ID, s.routing(now), direct)
			if err != nil {
				return rep, err
			}
			rep["rerouted"] += len(moved)
		}
	}
	return rep, nil
}

var system = adapter.Actor{Subject: "referral-adapter", Role: "system"}

// routing places re-routed referrals by capacity, and by the patient's
// consent (the access policy's gate).
func (s *Service) routing(now time.Time) *adapter.Routing {
	r := s.m.Routing(now, s.stale)
	r.Gate = s.access.Gate
	return r
}

func (s *Service) declineNoResponse(ctx context.Context, child *adapter.Task, svc *adapter.Service, now time.Time) error {
	_, err := s.store.UpdateTask(ctx, child.ID, func(t *adapter.Task) (adapter.TaskChange, error) {
		if t.Status != adapter.TaskRequested {
			return adapter.TaskChange{}, errGone
		}
		h, err := t.Apply(adapter.Transition{To: adapter.TaskRejected, BusinessStatus: adapter.BSProviderDecline,
			Reason: adapter.ReasonNoResponse, By: system, At: now})
		if err != nil {
			return adapter.TaskChange{}, err
		}
		t.StatusReason = svc.Name + " did not respond within the deadline; declined automatically"
		parent, err := s.tellParent(ctx, t.PartOf, svc.Name+" did not respond in time: please refer on to another service",
			adapter.ReasonNoResponse, now)
		return adapter.TaskChange{History: h, Parent: parent}, err
	})
	if err == errGone {
		return nil
	}
	return err
}

// tellParent is the change that records on the link worker's Task that its
// onward referral was declined, so the link worker refers the patient on
// elsewhere: written with the decline, in the same step (nil when that
// Task is gone).
func (s *Service) tellParent(ctx context.Context, parentID, msg, reason string, now time.Time) (*adapter.TaskWrite, error) {
	t, err := s.store.Task(ctx, parentID)
	if adapter.ErrorCode(err) == adapter.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	w := &adapter.TaskWrite{Version: t.Version, Task: t}
	w.History = t.Note(now, system, adapter.BSProviderDecline, reason)
	t.StatusReason = msg
	return w, nil
}

// errGone ends an update whose Task moved on meanwhile.
var errGone = adapter.Errorf(adapter.ECONFLICT, "the referral moved on")

// slaScanLimit bounds how many waiting and claimed referrals per service
// one run of the sla-breach job looks at (a queue's head is the most
// overdue, as it is ordered by priority then due time).
const slaScanLimit = 10_000

// SLABreaches flags the referrals waiting or claimed past their
// first-contact deadline with no contact yet (job sla-breach): the count
// per service is the gauge referral_adapter_queue_sla_breaches, for
// alerting. Reports count each breach once, when the late first contact
// is recorded, so this job changes no report figure.
func (s *Service) SLABreaches(ctx context.Context, _ int64) (jobs.Report, error) {
	now := s.now()
	total := 0
	for _, id := range s.m.ServiceIDs() {
		waiting, claimed, err := s.store.Waiting(ctx, id, slaScanLimit)
		if err != nil {
			return jobs.Report{"breached": total}, err
		}
		n := overdue(waiting, now) + overdue(claimed, now)
		slaBreaches.WithLabelValues(id).Set(float64(n))
		total += n
	}
	return jobs.Report{"breached": total}, nil
}

func overdue(ts []*adapter.Task, now time.Time) int {
	n := 0
	for _, t := range ts {
		if t.Contacted.IsZero() && !t.FirstContactDue.IsZero() && now.After(t.FirstContactDue) {
			n++
		}
	}
	return n
}

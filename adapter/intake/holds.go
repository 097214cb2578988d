package intake

import (
	"context"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/consent"
	"github.com/social-prescribing/referral-adapter/adapter/jobs"
)

// Reconcile brings the patient's referrals at the practice in line with
// their consents now: referrals waiting for consent that a consent now
// permits are released to their queues; when withdrawals is set (a Consent
// of theirs just arrived or changed), live referrals no consent permits any
// more are paused. It returns the moves made.
func (s *Service) Reconcile(ctx context.Context, practice, patient string, withdrawals bool) ([]adapter.ConsentMove, error) {
	if !s.cfg.ConsentRequired || patient == "" {
		return nil, nil
	}
	// The consents are read once a referral needs them: a patient's first
	// Consent, sent before any referral, costs no read. They are read under
	// each referral's own patient reference (the store reads the patient
	// under both it goes by), so the consent engine decides for it: the
	// patient's referrals may name it by NHS number or as its Patient.
	read := map[string][]consent.Consent{}
	var readErr error
	now := s.now().UTC()
	moves, err := s.store.UpdatePatientHolds(ctx, practice, patient, s.mappings.Routing(now, s.staleAfter),
		func(tasks []*adapter.Task) []adapter.ConsentMove {
			var moves []adapter.ConsentMove
			for _, t := range tasks {
				if t.Practice != practice {
					continue
				}
				consents, ok := read[t.Patient]
				if !ok {
					consents, readErr = s.storedConsents(ctx, practice, t.Patient)
					read[t.Patient] = consents
				}
				if readErr != nil {
					return nil
				}
				switch {
				case t.ConsentHeld():
					if place, ok := s.consentRelease(consents, t, now); ok {
						moves = append(moves, s.release(t, place, now))
					}
				case withdrawals && live(t.Status) && !s.access.Permits(consents, t, t.Owner, now):
					after := *t
					h := after.PauseForConsent(now)
					moves = append(moves, adapter.ConsentMove{Kind: adapter.MovePause, Before: *t, After: &after, History: h})
				}
			}
			return moves
		})
	if readErr != nil {
		return nil, readErr
	}
	return moves, err
}

// releaseStats gives a release of a referral that waited for consent or
// sign-off from the start its placing counters, which the store counts
// when it places it, in the same step (the placing of the others was
// counted when they arrived).
func (s *Service) releaseStats(m *adapter.ConsentMove) {
	if s.stats == nil || m.Kind != adapter.MoveRelease || m.Before.Reserved != "" || m.After.Status != adapter.TaskRequested {
		return
	}
	day := m.After.LastModified.In(s.loc).Format("2006-01-02")
	m.Stats = nil
	for _, st := range intakeStats(m.After, day) {
		if !adapter.ArrivalMetric(st.Key.Metric) {
			m.Stats = append(m.Stats, st)
		}
	}
}

func live(s adapter.TaskStatus) bool {
	return s == adapter.TaskRequested || s == adapter.TaskAccepted || s == adapter.TaskInProgress
}

// release returns a held referral to where it was, or places a new one
// along place (its route as the patient's consent marks it). A new
// referral's first-contact deadline runs from now: nobody could contact the
// patient before they consented.
func (s *Service) release(t *adapter.Task, place []adapter.RouteStep, now time.Time) adapter.ConsentMove {
	after := *t
	h := after.ReleaseConsentHold(now)
	if after.Status == adapter.TaskRequested {
		if rule, ok := s.mappings.RuleByName(after.Rule); ok && !rule.FirstContact.IsZero() {
			after.FirstContactDue = rule.FirstContact.Due(now.In(s.loc)).UTC()
		}
	}
	m := adapter.ConsentMove{Kind: adapter.MoveRelease, Before: *t, After: &after, History: h, Place: place}
	s.releaseStats(&m)
	return m
}

// reconcileAfter reconciles the patients of an intake request: those whose
// Consent was written (withdrawals included) and who had referrals then
// other than the request's own (which were decided with its Consents),
// those whose withdrawal was sent again,
// and those of its referrals that wait for consent, in case a consent
// arrived while the referral was being written (or an earlier attempt
// stopped before reconciling). A referral written after the Consent is
// reconciled by its own request if it waits. A referral already placed
// has nothing to catch: it saw a permitting consent, and any other
// referral of the patient waiting for one is reconciled by that consent's
// own request or by its own. Results show the Tasks as reconciled.
func (s *Service) reconcileAfter(ctx context.Context, c Caller, plans []*plan, results []*Result) error {
	if !s.cfg.ConsentRequired {
		return nil
	}
	ownNew := map[string]int{} // the request's new referrals, by patient
	for i, r := range results {
		if plans[i].ref != nil && !r.Existing && r.Task != nil {
			ownNew[r.Task.Patient]++
		}
	}
	patients := map[string]bool{}
	for i, p := range plans {
		r := results[i]
		switch {
		case p.consent != nil && !r.Existing && p.sub.Referrals > ownNew[p.sub.Patient]:
			patients[p.sub.Patient] = true
		case p.consent != nil && r.Existing && withdrawn(p.consent.Status) && !isURN(p.consent.Patient):
			// A withdrawal sent again: the first may have been stored by a
			// request that stopped before pausing the referrals (its client
			// had no answer and retries). Reconciling again is harmless.
			patients[p.consent.Patient] = true
		case r.Task != nil && r.Task.ConsentHeld() && !patients[r.Task.Patient]:
			patients[r.Task.Patient] = false
		}
	}
	for patient, withdrawals := range patients {
		moves, err := s.Reconcile(ctx, c.Org, patient, withdrawals)
		if err != nil {
			return err
		}
		for _, m := range moves {
			for _, r := range results {
				if r.Task != nil && r.Task.ID == m.After.ID {
					r.Task, r.Placement = m.After, m.Placement
				}
			}
		}
	}
	return nil
}

// expiryBatch bounds how many held referrals one pass of the expiry job
// reads at a time.
const expiryBatch = 200

// releaseGrace is how long a referral waits for consent before the
// consent-hold-expiry job looks for a consent that arrived without
// releasing it: long enough for the request that brought it to have
// released it itself.
const releaseGrace = 10 * time.Minute

// releaseScanLimit bounds how many waiting referrals one run of the job
// looks at for a consent that arrived.
const releaseScanLimit = 10_000

// ExpireConsentHolds cancels referrals that have waited for consent longer
// than CONSENT_HOLD_MAX_AGE, with a reason saying so (job
// consent-hold-expiry). A referral whose consent did arrive meanwhile (a
// reconcile that never ran: the request that stored the Consent stopped
// before releasing it) is released instead, at any age past releaseGrace,
// so that it does not wait for the maximum age.
func (s *Service) ExpireConsentHolds(ctx context.Context, _ int64) (jobs.Report, error) {
	rep := jobs.Report{"cancelled": 0, "released": 0}
	now := s.now().UTC()
	if err := s.releaseArrived(ctx, now, rep); err != nil {
		return rep, err
	}
	cutoff := now.Add(-s.cfg.ConsentHoldMaxAge)
	for stuck := 0; stuck < 3; {
		tasks, err := s.store.ConsentHolds(ctx, cutoff, expiryBatch)
		if err != nil || len(tasks) == 0 {
			return rep, err
		}
		progress := false
		for _, t := range tasks {
			kind, err := s.settle(ctx, t, now, true)
			switch {
			case adapter.ErrorCode(err) == adapter.ECONFLICT:
				continue // changed meanwhile: read again in the next pass
			case err != nil:
				return rep, err
			case kind == adapter.MoveRelease:
				rep["released"]++
			default:
				rep["cancelled"]++
			}
			progress = true
		}
		if !progress {
			stuck++
		}
	}
	return rep, nil
}

// releaseArrived releases the referrals held for consent (past
// releaseGrace, not yet past the maximum age) whose consent is there.
func (s *Service) releaseArrived(ctx context.Context, now time.Time, rep jobs.Report) error {
	if !s.cfg.ConsentRequired {
		return nil
	}
	tasks, err := s.store.ConsentHolds(ctx, now.Add(-releaseGrace), releaseScanLimit)
	if err != nil {
		return err
	}
	for _, t := range tasks {
		if now.Sub(t.HeldSince) >= s.cfg.ConsentHoldMaxAge {
			continue // the expiry pass decides these
		}
		kind, err := s.settle(ctx, t, now, false)
		switch {
		case adapter.ErrorCode(err) == adapter.ECONFLICT:
			continue // changed meanwhile: someone else moved it
		case err != nil:
			return err
		case kind == adapter.MoveRelease:
			rep["released"]++
		}
	}
	return nil
}

// settle releases a referral waiting for consent when its consent is there
// (or consent is not required) and otherwise, with cancel (it waited the
// maximum age), cancels it. It says which it did; "" for neither.
func (s *Service) settle(ctx context.Context, t *adapter.Task, now time.Time, cancel bool) (adapter.ConsentMoveKind, error) {
	var consents []consent.Consent
	if s.cfg.ConsentRequired {
		var err error
		if consents, err = s.storedConsents(ctx, t.Practice, t.Patient); err != nil {
			return "", err
		}
	}
	var m adapter.ConsentMove
	var routing *adapter.Routing
	if place, ok := s.consentRelease(consents, t, now); ok || !s.cfg.ConsentRequired {
		m, routing = s.release(t, place, now), s.mappings.Routing(now, s.staleAfter)
	} else if cancel {
		after := *t
		h := after.ExpireConsentHold(s.cfg.ConsentHoldMaxAge, now)
		m = adapter.ConsentMove{Kind: adapter.MoveExpire, Before: *t, After: &after, History: h}
	} else {
		return "", nil
	}
	moves := []adapter.ConsentMove{m}
	if err := s.store.ApplyConsentMoves(ctx, routing, moves); err != nil {
		return "", err
	}
	return m.Kind, nil
}

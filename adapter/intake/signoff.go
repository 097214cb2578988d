package intake

import (
	"context"
	"errors"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/jobs"
)

// Clinician sign-off (issue 11). With SIGNOFF_REQUIRED a referral started
// by non-clinical staff is accepted but held until a clinician of the
// same practice signs it off. Sign-off comes before consent: a consent
// arriving meanwhile leaves the referral held for sign-off (Reconcile
// only releases consent holds); the sign-off then releases it if a consent
// permits disclosing it, or leaves it waiting for consent from then.

// holdForSignOff makes a new referral wait for sign-off. Like a consent
// hold it is not placed by capacity (nor queued) until released, and goes
// to its intended service meanwhile.
func holdForSignOff(p *plan, now time.Time) {
	service := intendedService(p.sub.Route, p.sub.Candidates)
	p.sub.Task.AwaitSignOff(now)
	p.sub.Route = nil
	if service != "" {
		p.sub.Candidates = []string{service}
	}
}

// SignOff confirms a referral held for sign-off, as a clinician of its
// practice: the caller's token must name a clinical job title (GP, nurse,
// other clinician). The referral is released as a consent release does,
// placed by capacity now with its first-contact deadline counted from now,
// or, when no consent permits disclosing it yet, waits for consent from
// now. The history entry names the clinician. Another practice's referral
// (or an onward-referral Task) is not found; a non-clinician is
// forbidden; a referral not awaiting sign-off is a conflict.
func (s *Service) SignOff(ctx context.Context, c Caller, id string) (*adapter.Task, error) {
	for range maxAttempts {
		t, err := s.store.Task(ctx, id)
		if adapter.ErrorCode(err) == adapter.ENOTFOUND || err == nil && (t.Practice != c.Org || t.PartOf != "") {
			return nil, adapter.NotFound("referral")
		}
		if err != nil {
			return nil, err
		}
		source := adapter.SourceOf(c.Title, "", c.Org)
		if !source.Clinical() {
			return nil, adapter.ErrNotClinician
		}
		if !t.SignOffHeld() {
			return nil, adapter.ErrNotAwaitingSignOff
		}
		now := s.now().UTC()
		consented := !s.cfg.ConsentRequired
		var place []adapter.RouteStep
		if !consented {
			consents, err := s.storedConsents(ctx, t.Practice, t.Patient)
			if err != nil {
				return nil, err
			}
			place, consented = s.consentRelease(consents, t, now)
		}
		after := *t
		by := adapter.Actor{Subject: c.Subject, Role: adapter.RolePractice, Org: c.Org}
		m := adapter.ConsentMove{Kind: adapter.MoveAwaitConsent, Before: *t, After: &after,
			History: after.SignOff(by, source, consented, now), Place: place}
		var routing *adapter.Routing
		if consented {
			m.Kind, routing = adapter.MoveRelease, s.mappings.Routing(now, s.staleAfter)
			if rule, ok := s.mappings.RuleByName(after.Rule); ok && !rule.FirstContact.IsZero() {
				after.FirstContactDue = rule.FirstContact.Due(now.In(s.loc)).UTC()
			}
			s.releaseStats(&m)
		}
		moves := []adapter.ConsentMove{m}
		err = s.store.ApplyConsentMoves(ctx, routing, moves)
		if errors.Is(err, adapter.ErrStaleConsentMove) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if consented {
			return m.After, nil
		}
		// A consent that arrived while this was decided found the referral
		// held for sign-off and left it: look again now it waits for consent.
		again, err := s.Reconcile(ctx, t.Practice, t.Patient, false)
		for _, rm := range again {
			if rm.After.ID == id {
				return rm.After, err
			}
		}
		return m.After, err
	}
	return nil, adapter.Errorf(adapter.ECONFLICT, "the referral is changing too often; try again")
}

// ExpireSignOffHolds cancels referrals that have waited for a clinician's
// sign-off longer than SIGNOFF_HOLD_MAX_AGE, with a reason saying so (job
// sign-off-hold-expiry).
func (s *Service) ExpireSignOffHolds(ctx context.Context, _ int64) (jobs.Report, error) {
	rep := jobs.Report{"cancelled": 0}
	now := s.now().UTC()
	cutoff := now.Add(-s.cfg.SignOffHoldMaxAge)
	for stuck := 0; stuck < 3; {
		tasks, err := s.store.SignOffHolds(ctx, cutoff, expiryBatch)
		if err != nil || len(tasks) == 0 {
			return rep, err
		}
		progress := false
		for _, t := range tasks {
			after := *t
			h := after.ExpireSignOffHold(s.cfg.SignOffHoldMaxAge, now)
			moves := []adapter.ConsentMove{{Kind: adapter.MoveExpire, Before: *t, After: &after, History: h}}
			switch err := s.store.ApplyConsentMoves(ctx, nil, moves); {
			case adapter.ErrorCode(err) == adapter.ECONFLICT:
				continue // changed meanwhile: read again in the next pass
			case err != nil:
				return rep, err
			}
			rep["cancelled"]++
			progress = true
		}
		if !progress {
			stuck++
		}
	}
	return rep, nil
}

package access

import (
	"context"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/consent"
)

// Mark is the routing door: it marks, on the steps a referral is about to
// be placed along, each service whose organisation the patient's consents
// (cs) do not permit the referral to go to (Skip SkipNoConsent), so that
// routing passes it by as it passes a full service by, with the reason on
// the Task. The network's link workers are the last resort of every route:
// when the consents do not cover them either, a LastResort step names the
// first service of the route they do cover, whose waitlist the referral
// waits on rather than go to anyone the patient did not agree to. ok is
// false when the consents cover no service of the route and not the link
// workers: the referral must wait for consent.
func (p *Policy) Mark(cs []consent.Consent, t *adapter.Task, steps []adapter.RouteStep, now time.Time) (marked []adapter.RouteStep, ok bool) {
	if !p.required {
		return steps, true
	}
	info := Referral(t)
	permits := func(service string) bool {
		to, known := p.dir.Recipient(service)
		return known && consent.Release(cs, to, info, now).Permit
	}
	marked = make([]adapter.RouteStep, 0, len(steps)+1)
	first := ""
	for _, st := range steps {
		if st.LastResort {
			continue // decided afresh below
		}
		if st.Service != "" && st.Skip == "" && !permits(st.Service) {
			st.Skip = adapter.SkipNoConsent
		}
		if st.Service != "" && st.Skip == "" && first == "" {
			first = st.Service
		}
		marked = append(marked, st)
	}
	if permits(p.linkWorker) {
		return marked, true
	}
	if first == "" {
		return marked, false
	}
	return append(marked, adapter.RouteStep{Service: first, LastResort: true}), true
}

// Permits reports whether the patient's consents (cs) let the referral go
// to the organisation providing service: the pause and release of a
// referral that stays where it is.
func (p *Policy) Permits(cs []consent.Consent, t *adapter.Task, service string, now time.Time) bool {
	if !p.required {
		return true
	}
	to, ok := p.dir.Recipient(service)
	return ok && consent.Release(cs, to, Referral(t), now).Permit
}

// Gate is Mark for the store's moves of waiting referrals (waitlist
// promotion, re-routing after a closure or a provider's silence): it reads
// the patient's Consents first. It is an adapter.ConsentGate.
func (p *Policy) Gate(ctx context.Context, t *adapter.Task, steps []adapter.RouteStep) ([]adapter.RouteStep, bool, error) {
	if !p.required {
		return steps, true, nil
	}
	cs, err := p.consents.PatientConsents(ctx, t.Practice, t.Patient)
	if err != nil {
		return nil, false, err
	}
	marked, ok := p.Mark(cs, t, steps, p.now())
	return marked, ok, nil
}

// ServiceRelease is the refer-on door: whether the patient's consent
// permits disclosing the referral Task t tracks to the organisation
// providing service (as a whole: its people are checked when they act).
func (p *Policy) ServiceRelease(ctx context.Context, t *adapter.Task, service string) (consent.Decision, error) {
	to, ok := p.serviceRecipient(service, nil)
	if !ok {
		return consent.Decision{Reason: "the service is not in the directory"}, nil
	}
	return p.Release(ctx, t, to, Referral(t))
}

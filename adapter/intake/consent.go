package intake

import (
	"context"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/consent"
)

// A referral needs the patient's consent to disclose it to the social
// prescribing service (issue 4): to the network's organisation, or to the
// organisation that provides the service it is routed to, for the
// patient's care.

// consentsFunc returns the consents that govern a patient's referrals: the
// practice's stored ones and those of the request being taken in.
type consentsFunc func(patient string) ([]consent.Consent, error)

// batchConsents gathers the request's Consents (with their ids and patient
// references resolved) over the practice's stored ones; a Consent of the
// request replaces a stored one with the same id (a withdrawal). read
// holds the stored ones the lookup already read, by patient.
func (s *Service) batchConsents(ctx context.Context, c Caller, plans []*plan, urns map[string]string, read map[string][][]byte) consentsFunc {
	inBatch := map[string][]consent.Consent{}
	for _, p := range plans {
		if p.consent == nil || p.sub.Existing != "" {
			continue
		}
		e := p.engine
		e.ID, e.Patient = p.sub.ID, resolve(p.consent.Patient, urns)
		inBatch[e.Patient] = append(inBatch[e.Patient], e)
	}
	cache := map[string][]consent.Consent{}
	return func(patient string) ([]consent.Consent, error) {
		if cs, ok := cache[patient]; ok {
			return cs, nil
		}
		var stored []consent.Consent
		if bodies, ok := read[patient]; ok {
			stored = s.parser.Consents(patient, bodies)
		} else {
			var err error
			if stored, err = s.storedConsents(ctx, c.Org, patient); err != nil {
				return nil, err
			}
		}
		cs := inBatch[patient]
		for _, st := range stored {
			if !replaced(cs, st.ID) {
				cs = append(cs, st)
			}
		}
		cache[patient] = cs
		return cs, nil
	}
}

func replaced(cs []consent.Consent, id string) bool {
	for _, c := range cs {
		if c.ID == id {
			return true
		}
	}
	return false
}

// storedConsents reads the Consents the practice sent for the patient.
func (s *Service) storedConsents(ctx context.Context, practice, patient string) ([]consent.Consent, error) {
	bodies, err := s.store.PatientConsents(ctx, practice, patient)
	if err != nil {
		return nil, err
	}
	return s.parser.Consents(patient, bodies), nil
}

// intendedService is where a new referral is meant to go: the first
// service of its route the patient is eligible for.
func intendedService(route []adapter.RouteStep, candidates []string) string {
	for _, st := range route {
		if st.Service != "" && st.Skip == "" {
			return st.Service
		}
	}
	if len(candidates) > 0 {
		return candidates[0]
	}
	return ""
}

// holdUnlessConsented routes a new referral only where the patient's
// consents let it go: the route's services they do not cover are marked
// (routing passes them by, saying why on the Task), and with the link
// workers not covered either the referral waits on the waitlist of the
// first service they do cover (access.Policy.Mark). When they cover none,
// the referral waits for consent: held, not placed by capacity (nor
// queued) until released, at its intended service meanwhile.
func (s *Service) holdUnlessConsented(p *plan, consents consentsFunc, now time.Time) error {
	if !s.cfg.ConsentRequired {
		return nil
	}
	t := p.sub.Task
	cs, err := consents(t.Patient)
	if err != nil {
		return err
	}
	if marked, ok := s.access.Mark(cs, t, p.sub.Route, now); ok {
		p.sub.Route = marked
		return nil
	}
	service := intendedService(p.sub.Route, p.sub.Candidates)
	t.AwaitConsent(now)
	p.sub.Route = nil
	if service != "" {
		p.sub.Candidates = []string{service}
	}
	return nil
}

// consentRelease says whether the patient's consents now let a held
// referral go, and where: one waiting to be placed to any service of its
// route they cover (placed along the marked route); one paused where it
// was (holding its place, or accepted or under way) only back to the
// organisation that holds it.
func (s *Service) consentRelease(cs []consent.Consent, t *adapter.Task, now time.Time) ([]adapter.RouteStep, bool) {
	if t.Reserved != "" || t.HeldFrom != "" && t.HeldFrom != adapter.TaskRequested {
		return nil, s.access.Permits(cs, t, t.Owner, now)
	}
	route := t.Route
	if len(route) == 0 && t.Owner != "" {
		route = []adapter.RouteStep{{Service: t.Owner}}
	}
	return s.access.Mark(cs, t, route, now)
}

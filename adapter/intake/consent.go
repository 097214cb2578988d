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
			stored = s.parser.Consents(bodies)
		} else {
			var err error
			if stored, err = s.storedConsents(ctx, c.Practice, patient); err != nil {
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
	return s.parser.Consents(bodies), nil
}

// permits reports whether the consents permit disclosing the referral to
// the social prescribing service that has it (service; "" when not known),
// and the decision that said so (or the last refusal).
func (s *Service) permits(consents []consent.Consent, patient, referral, service string, now time.Time) (bool, consent.Decision) {
	var last consent.Decision
	for _, ref := range s.recipients(service) {
		d := consent.Decide(consents, consent.Request{
			Patient: patient, Actor: consent.RequestActor{Role: consent.RoleRecipient, Reference: ref},
			Action: consent.ActionDisclose, Purpose: consent.PurposeTreat,
			Classes: []adapter.Coding{consent.ResourceClass(adapter.KindServiceRequest)},
			Data:    adapter.KindServiceRequest + "/" + referral,
		}, now)
		if d.Permit {
			return true, d
		}
		last = d
	}
	return false, last
}

// recipients are the references a consent may name the social prescribing
// service by: the network's organisation, and the organisation providing
// the service (R4 does not allow a HealthcareService as a provision actor).
func (s *Service) recipients(service string) []string {
	out := []string{odsRef(s.mappings.Network.ODS)}
	if svc, ok := s.mappings.Service(service); ok && svc.ProvidedBy.ODS != s.mappings.Network.ODS {
		out = append(out, odsRef(svc.ProvidedBy.ODS))
	}
	return out
}

// odsRef is an organisation's reference by ODS code, in refString's form.
func odsRef(ods string) string {
	return "Organization?identifier=" + adapter.SystemODS + "|" + ods
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

// holdUnlessConsented makes a new referral wait for consent unless the
// patient's consents already permit disclosing it. A held referral is not
// placed by capacity (nor queued) until released; it goes to its intended
// service meanwhile.
func (s *Service) holdUnlessConsented(p *plan, consents consentsFunc, now time.Time) error {
	if !s.cfg.ConsentRequired {
		return nil
	}
	t := p.sub.Task
	service := intendedService(p.sub.Route, p.sub.Candidates)
	cs, err := consents(t.Patient)
	if err != nil {
		return err
	}
	if ok, _ := s.permits(cs, t.Patient, t.ReferralID, service, now); ok {
		return nil
	}
	t.AwaitConsent(now)
	p.sub.Route = nil
	if service != "" {
		p.sub.Candidates = []string{service}
	}
	return nil
}

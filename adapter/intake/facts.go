package intake

import (
	"context"
	"slices"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/access"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// factsFunc returns what is known about a referral's patient, by the
// ServiceRequest's (resolved) subject reference.
type factsFunc func(subject string) adapter.PatientFacts

// patientFacts gathers eligibility facts (age, postcode district) for the
// patients of the request: a Patient sent in the same transaction, or one
// the practice sent earlier that the referral names, by id or by the
// identifier it was sent under (the NHS number). The lookup read the
// stored ones of the references it was asked (asked; stored holds those
// found): those are not read again. A patient with no Patient is unknown,
// and unknown never excludes a service.
func (s *Service) patientFacts(ctx context.Context, c Caller, plans []*plan, asked []string, stored map[string][]byte) factsFunc {
	known := map[string]adapter.PatientFacts{}
	for _, p := range plans {
		if p.res.Type == adapter.KindPatient {
			for _, ref := range access.PatientRefs(p.sub.ID, p.patient) {
				known[ref] = p.facts
			}
		}
	}
	return func(subject string) adapter.PatientFacts {
		if f, ok := known[subject]; ok {
			return f
		}
		body, found := stored[subject]
		if !found && !slices.Contains(asked, subject) {
			body, found = s.storedPatient(ctx, c, subject)
		}
		var f adapter.PatientFacts
		if found {
			f = s.factsOf(body)
		}
		known[subject] = f
		return f
	}
}

// factsOf reads a stored Patient's facts; unknown when unreadable.
func (s *Service) factsOf(body []byte) adapter.PatientFacts {
	res, err := s.parser.Parse(body, adapter.KindPatient)
	if err != nil {
		return adapter.PatientFacts{}
	}
	return fhir.PatientFactsFrom(res)
}

// storedPatient is the Patient the practice sent that subject names; any
// failure leaves it unknown rather than failing the referral.
func (s *Service) storedPatient(ctx context.Context, c Caller, subject string) ([]byte, bool) {
	_, body, err := s.store.PatientOf(ctx, c.Org, subject)
	return body, err == nil
}

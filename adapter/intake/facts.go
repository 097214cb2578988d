package intake

import (
	"context"
	"strings"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/access"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// factsFunc returns what is known about a referral's patient, by the
// ServiceRequest's (resolved) subject reference.
type factsFunc func(subject string) adapter.PatientFacts

// patientFacts gathers eligibility facts (age, postcode district) for the
// patients of the request: a Patient sent in the same transaction, or one
// the practice sent earlier and the referral names literally
// ("Patient/{id}"). A patient known only by identifier is unknown, and
// unknown never excludes a service.
func (s *Service) patientFacts(ctx context.Context, c Caller, plans []*plan, stored map[string][]byte) factsFunc {
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
		var f adapter.PatientFacts
		if body, ok := stored[subject]; ok {
			f = s.factsOf(body)
		} else {
			f = s.storedFacts(ctx, c, subject)
		}
		known[subject] = f
		return f
	}
}

// storedFacts reads a Patient the practice stored earlier, named by id or
// by the identifier it was sent under (the NHS number); any failure leaves
// the facts unknown rather than failing the referral.
func (s *Service) storedFacts(ctx context.Context, c Caller, subject string) adapter.PatientFacts {
	body, ok := s.storedPatient(ctx, c, subject)
	if !ok {
		return adapter.PatientFacts{}
	}
	return s.factsOf(body)
}

// factsOf reads a stored Patient's facts; unknown when unreadable.
func (s *Service) factsOf(body []byte) adapter.PatientFacts {
	res, err := s.parser.Parse(body, adapter.KindPatient)
	if err != nil {
		return adapter.PatientFacts{}
	}
	return fhir.PatientFactsFrom(res)
}

// storedPatient is the Patient the practice sent that subject names.
func (s *Service) storedPatient(ctx context.Context, c Caller, subject string) ([]byte, bool) {
	if strings.HasPrefix(subject, "Patient?identifier=") {
		_, body, err := s.store.PatientOf(ctx, c.Org, subject)
		return body, err == nil
	}
	id, ok := strings.CutPrefix(subject, "Patient/")
	if !ok || id == "" || strings.ContainsAny(id, "/?#") {
		return nil, false
	}
	body, practice, err := s.store.Patient(ctx, id)
	return body, err == nil && practice == c.Org
}

package intake

import (
	"context"
	"strings"

	"github.com/social-prescribing/referral-adapter/adapter"
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
func (s *Service) patientFacts(ctx context.Context, c Caller, plans []*plan) factsFunc {
	known := map[string]adapter.PatientFacts{}
	for _, p := range plans {
		if p.res.Type == adapter.KindPatient {
			known["Patient/"+p.sub.ID] = p.facts
		}
	}
	return func(subject string) adapter.PatientFacts {
		if f, ok := known[subject]; ok {
			return f
		}
		f := s.storedFacts(ctx, c, subject)
		known[subject] = f
		return f
	}
}

// storedFacts reads a Patient the practice stored earlier; any failure
// leaves the facts unknown rather than failing the referral.
func (s *Service) storedFacts(ctx context.Context, c Caller, subject string) adapter.PatientFacts {
	id, ok := strings.CutPrefix(subject, "Patient/")
	if !ok || id == "" || strings.ContainsAny(id, "/?#") {
		return adapter.PatientFacts{}
	}
	body, practice, err := s.store.Patient(ctx, id)
	if err != nil || practice != c.Org {
		return adapter.PatientFacts{}
	}
	res, err := s.parser.Parse(body, adapter.KindPatient)
	if err != nil {
		return adapter.PatientFacts{}
	}
	return fhir.PatientFactsFrom(res)
}

package patient

import (
	"context"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/access"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// Store reads stored Patients.
type Store interface {
	// Patient returns a Patient's JSON and the practice that sent it.
	Patient(ctx context.Context, id string) ([]byte, string, error)
	// PatientOf returns the Patient the practice sent that a referral's
	// patient reference names; ENOTFOUND when none.
	PatientOf(ctx context.Context, practice, ref string) (string, []byte, error)
}

// Access is the access policy's Patient door.
type Access interface {
	SeePatient(ctx context.Context, c adapter.Caller, pat access.Patient) (bool, error)
	SeePatientOn(ctx context.Context, c adapter.Caller, t *adapter.Task, pat access.Patient) (bool, error)
}

// Service reads Patients for the callers who may see them.
type Service struct {
	store  Store
	access Access
	upd    *updates // nil: no updates (WithUpdates)
}

// New returns a Service.
func New(s Store, a Access) *Service { return &Service{store: s, access: a} }

// record is a stored Patient as the access policy decides about it.
func record(id, practice string, body []byte) access.Patient {
	f := fhir.ReadStoredPatient(body)
	return access.Patient{ID: id, Practice: practice, Refs: access.PatientRefs(id, f.Identifier), Labels: f.Labels, Received: f.Received}
}

// Read returns the Patient with the given id as the caller may see it:
// whole to the practice that sent it and to a link worker holding one of
// the patient's referrals, the minimum necessary to a VCSE provider
// holding one. Anyone else: not found, as for no such Patient.
func (s *Service) Read(ctx context.Context, c adapter.Caller, id string) ([]byte, error) {
	body, practice, err := s.store.Patient(ctx, id)
	if adapter.ErrorCode(err) == adapter.ENOTFOUND {
		return nil, adapter.NotFound(adapter.KindPatient)
	}
	if err != nil {
		return nil, err
	}
	ok, err := s.access.SeePatient(ctx, c, record(id, practice, body))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, adapter.NotFound(adapter.KindPatient)
	}
	return seenBy(c, body)
}

// OfTask returns the Patient of the referral Task t, which the caller may
// see, as the caller may see it: nil when the practice sent no Patient for
// it, or the caller may not see it.
func (s *Service) OfTask(ctx context.Context, c adapter.Caller, t *adapter.Task) ([]byte, error) {
	id, body, err := s.store.PatientOf(ctx, t.Practice, t.Patient)
	if adapter.ErrorCode(err) == adapter.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ok, err := s.access.SeePatientOn(ctx, c, t, record(id, t.Practice, body))
	if err != nil || !ok {
		return nil, err
	}
	return seenBy(c, body)
}

// ContactDetails reports whether the practice sent, for the referral Task
// t, a Patient with a way to reach the patient (telecom or address). A
// referral sent with an NHS number only has none: its holder must ask.
func (s *Service) ContactDetails(ctx context.Context, t *adapter.Task) (bool, error) {
	_, body, err := s.store.PatientOf(ctx, t.Practice, t.Patient)
	if adapter.ErrorCode(err) == adapter.ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return fhir.ReadStoredPatient(body).Contact, nil
}

// seenBy is a Patient as the caller's role gets it: the minimum necessary
// for a VCSE provider.
func seenBy(c adapter.Caller, body []byte) ([]byte, error) {
	if c.Role == adapter.RoleProvider {
		return fhir.PatientMinimum(body)
	}
	return body, nil
}

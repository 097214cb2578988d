package patient

import (
	"context"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// Updater stores a new version of a Patient a practice sent, if the stored
// one is still at version from (EVERSION otherwise), with the request's
// audit record and the Task changes tell in the same step
// (adapter.ErrTaskMoved, nothing written, when one of those Tasks moved).
type Updater interface {
	ReplacePatient(ctx context.Context, id, practice string, from int, body []byte, tell []*adapter.TaskWrite) error
}

// Contacts are the changes that tell a patient's live referrals that the
// way to reach the patient changed (intake: a new Task version, history
// entry and event each), to be written with the Patient.
type Contacts interface {
	ContactDetailsChanged(ctx context.Context, c adapter.Caller, patientID string, ident adapter.Identifier) ([]*adapter.TaskWrite, error)
}

// updates is what Update needs besides the reads.
type updates struct {
	parser   *fhir.Parser
	store    Updater
	contacts Contacts
	now      func() time.Time
}

// WithUpdates lets the practice that sent a Patient send it again changed.
func (s *Service) WithUpdates(p *fhir.Parser, u Updater, c Contacts) *Service {
	s.upd = &updates{parser: p, store: u, contacts: c, now: time.Now}
	return s
}

// Update stores body as the next version of the Patient id, for the
// practice that sent it (anyone else: not found). ifVersion, when not 0,
// is the version the practice changed (If-Match): another answers
// EVERSION. The identifier it was created under (the NHS number) cannot
// change. Sent unchanged, the stored version is answered as it is. When
// the telecom or address changed, the patient's live referrals get a new
// Task version and event, written with it. It returns the Patient as
// stored.
func (s *Service) Update(ctx context.Context, c adapter.Caller, id string, ifVersion int, body []byte) ([]byte, error) {
	if s.upd == nil {
		return nil, adapter.Errorf(adapter.ENOTSUPPORTED, "Patient updates are not served here")
	}
	stored, practice, err := s.store.Patient(ctx, id)
	if adapter.ErrorCode(err) == adapter.ENOTFOUND || err == nil && (c.Role != adapter.RolePractice || practice != c.Org) {
		return nil, adapter.NotFound(adapter.KindPatient)
	}
	if err != nil {
		return nil, err
	}
	from := fhir.StoredVersion(stored)
	if ifVersion != 0 && ifVersion != from {
		return nil, adapter.Errorf(adapter.EVERSION, "the Patient is at version %d, not %d: read it again and make the change on the current version", from, ifVersion)
	}
	res, err := s.upd.parser.Parse(body, adapter.KindPatient)
	if err != nil {
		return nil, err
	}
	if err := sameIdentity(res, id, stored); err != nil {
		return nil, err
	}
	changed, contact := fhir.PatientChange(body, stored)
	if !changed {
		return stored, nil
	}
	next, err := fhir.Stamp(body, id, from+1, s.upd.now())
	if err != nil {
		return nil, err
	}
	for range maxTellAttempts {
		var tell []*adapter.TaskWrite
		if contact {
			if tell, err = s.upd.contacts.ContactDetailsChanged(ctx, c, id, fhir.ReadStoredPatient(stored).Identifier); err != nil {
				return nil, err
			}
		}
		if err = s.upd.store.ReplacePatient(ctx, id, practice, from, next, tell); err != adapter.ErrTaskMoved {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return next, nil
}

// maxTellAttempts bounds the tries of an update whose live referrals'
// Tasks keep changing while it is written (each try reads them again).
const maxTellAttempts = 8

// sameIdentity: the Patient sent is the one in the URL, under the
// identifier it was created with.
func sameIdentity(res *fhir.Resource, id string, stored []byte) error {
	if got := fhir.ResourceID(res.Raw); got != id {
		return adapter.Errorf(adapter.EVALUE, "Patient.id must be the id in the URL (%s)", adapter.Clip(id, 64)).At("Patient.id")
	}
	if err := fhir.OneNHSNumber(res.Raw); err != nil {
		return err
	}
	was := fhir.ReadStoredPatient(stored).Identifier
	if now := fhir.ReadStoredPatient(res.Raw).Identifier; !was.IsZero() && now != was {
		return adapter.Errorf(adapter.EBUSINESSRULE,
			"the Patient was created under %s %s, which cannot change: send the other patient as a new Patient", was.System, was.Value).At("Patient.identifier")
	}
	return nil
}

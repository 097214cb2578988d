package intake

import (
	"context"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/access"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// contactsArrived gives each live referral of the practice that a newly
// stored Patient with contact details names (issue 19) a new version and a
// Task event: its Task no longer says that no contact details were sent,
// so the practice's EHR and the holder polling or subscribed are told.
// The request's own new referrals are left alone: they were written with
// the Patient. A failure leaves everything stored; it is returned.
func (s *Service) contactsArrived(ctx context.Context, c Caller, plans []*plan, results []*Result) error {
	own := map[string]bool{}
	for _, r := range results {
		if r.Task != nil && !r.Existing {
			own[r.Task.ID] = true
		}
	}
	for i, p := range plans {
		if p.res.Type != adapter.KindPatient || results[i].Existing || !fhir.ReadStoredPatient(p.sub.JSON).Contact {
			continue
		}
		if err := s.tellLiveReferrals(ctx, c, p.sub.ID, p.patient, own, "the patient's contact details were received"); err != nil {
			return err
		}
	}
	return nil
}

// tellLiveReferrals records why on each live referral of the practice for
// the Patient (named by id or by its identifier), but those in skip, with
// a new Task version and a Task event (contactReceived).
func (s *Service) tellLiveReferrals(ctx context.Context, c Caller, patientID string, ident adapter.Identifier, skip map[string]bool, why string) error {
	for _, ref := range access.PatientRefs(patientID, ident) {
		tasks, err := s.store.PatientReferrals(ctx, c.Org, ref)
		if err != nil {
			return err
		}
		for _, t := range tasks {
			if skip[t.ID] || t.Owner == "" || t.Status.Terminal() {
				continue
			}
			if err := s.contactReceived(ctx, c, t.ID, why); err != nil {
				return err
			}
		}
	}
	return nil
}

// contactReceived records on a Task that the patient's contact details
// arrived or changed (why), and announces it.
func (s *Service) contactReceived(ctx context.Context, c Caller, id, why string) error {
	_, err := s.store.UpdateTask(ctx, id, func(t *adapter.Task) (adapter.TaskChange, error) {
		by := adapter.Actor{Subject: c.Subject, Role: adapter.RolePractice, Org: c.Org}
		return adapter.TaskChange{History: t.Note(s.now().UTC(), by, t.BusinessStatus.Code, why)}, nil
	})
	return err // the store announces the change with it
}

// ContactDetailsChanged gives each live referral of the practice for the
// Patient (named by id or by its identifier) a new Task version and a
// Task event, after the practice sent the Patient again with other
// contact details: the holder and the EHR, polling or subscribed, learn
// that the way to reach the patient changed.
func (s *Service) ContactDetailsChanged(ctx context.Context, c Caller, patientID string, ident adapter.Identifier) error {
	return s.tellLiveReferrals(ctx, c, patientID, ident, nil, "the patient's contact details were updated")
}

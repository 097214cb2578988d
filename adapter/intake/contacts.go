package intake

import (
	"context"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/access"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// tellContactsArrived gives each live referral of the practice that a
// new Patient with contact details names (issue 19) a Task change written
// with the Patient, in the same step (Submission.Tell): a new version, a
// history entry and a Task event, so the practice's EHR and the holder,
// polling or subscribed, learn that its Task no longer says that no
// contact details were sent; and no Patient is stored with its referrals
// left untold. Each change is written only while its Task is at the
// version read here; should one move meanwhile, the intake is planned
// again. The request's own new referrals are not stored yet, so not read:
// they are written with the Patient.
func (s *Service) tellContactsArrived(ctx context.Context, c Caller, plans []*plan, now time.Time) error {
	by := adapter.Actor{Subject: c.Subject, Role: adapter.RolePractice, Org: c.Org}
	for _, p := range plans {
		p.sub.Tell = nil
		if p.res.Type != adapter.KindPatient || p.sub.Existing != "" || !fhir.ReadStoredPatient(p.sub.JSON).Contact {
			continue
		}
		tasks, err := s.liveReferrals(ctx, c, p.sub.ID, p.patient)
		if err != nil {
			return err
		}
		for _, t := range tasks {
			w := &adapter.TaskWrite{Version: t.Version, Task: t}
			w.History = t.Note(now, by, t.BusinessStatus.Code, contactsReceived)
			p.sub.Tell = append(p.sub.Tell, w)
		}
	}
	return nil
}

// contactsReceived is the history entry of a Task whose patient's contact
// details arrived after it.
const contactsReceived = "the patient's contact details were received"

// liveReferrals are the practice's referrals for the Patient (named by id
// or by its identifier) that are placed and not ended, each once.
func (s *Service) liveReferrals(ctx context.Context, c Caller, patientID string, ident adapter.Identifier) ([]*adapter.Task, error) {
	var live []*adapter.Task
	seen := map[string]bool{}
	for _, ref := range access.PatientRefs(patientID, ident) {
		tasks, err := s.store.PatientReferrals(ctx, c.Org, ref)
		if err != nil {
			return nil, err
		}
		for _, t := range tasks {
			if !seen[t.ID] && t.Owner != "" && !t.Status.Terminal() {
				seen[t.ID] = true
				live = append(live, t)
			}
		}
	}
	return live, nil
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
	tasks, err := s.liveReferrals(ctx, c, patientID, ident)
	if err != nil {
		return err
	}
	for _, t := range tasks {
		if err := s.contactReceived(ctx, c, t.ID, "the patient's contact details were updated"); err != nil {
			return err
		}
	}
	return nil
}

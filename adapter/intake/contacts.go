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
	for _, p := range plans {
		p.sub.Tell = nil
		if p.res.Type != adapter.KindPatient || p.sub.Existing != "" || !fhir.ReadStoredPatient(p.sub.JSON).Contact {
			continue
		}
		tasks, err := s.liveReferrals(ctx, c, p.sub.ID, p.patient)
		if err != nil {
			return err
		}
		p.sub.Tell = tellEach(tasks, c, now, "the patient's contact details were received")
	}
	return nil
}

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

// ContactDetailsChanged are the changes that tell each live referral of
// the practice for the Patient (named by id or by its identifier) that the
// practice sent the Patient again with other contact details (a new Task
// version, history entry and Task event each), for the Patient's update
// to write with it: the holder and the EHR, polling or subscribed, learn
// that the way to reach the patient changed.
func (s *Service) ContactDetailsChanged(ctx context.Context, c Caller, patientID string, ident adapter.Identifier) ([]*adapter.TaskWrite, error) {
	tasks, err := s.liveReferrals(ctx, c, patientID, ident)
	if err != nil {
		return nil, err
	}
	return tellEach(tasks, c, s.now().UTC(), "the patient's contact details were updated"), nil
}

// tellEach is the change of each Task that records why: a new version and
// a history entry from and to its status, by the practice.
func tellEach(tasks []*adapter.Task, c Caller, now time.Time, why string) []*adapter.TaskWrite {
	by := adapter.Actor{Subject: c.Subject, Role: adapter.RolePractice, Org: c.Org}
	var out []*adapter.TaskWrite
	for _, t := range tasks {
		w := &adapter.TaskWrite{Version: t.Version, Task: t}
		w.History = t.Note(now, by, t.BusinessStatus.Code, why)
		out = append(out, w)
	}
	return out
}

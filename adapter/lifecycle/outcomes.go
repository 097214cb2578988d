package lifecycle

import (
	"context"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// OutcomeStore keeps outcomes.
type OutcomeStore interface {
	// SaveOutcomeOn stores the outcome with w, the change of its Task that
	// records it, in one step (adapter.ErrTaskMoved: nothing written).
	SaveOutcomeOn(ctx context.Context, o adapter.OutcomeRecord, body []byte, w *adapter.TaskWrite) error
	Outcome(ctx context.Context, id string) (*adapter.OutcomeRecord, []byte, error)
	Outcomes(ctx context.Context, taskID string) ([]*adapter.OutcomeRecord, error)
}

// RecordOutcome stores an outcome resource for a referral the caller works
// on. stamp returns the resource's JSON with the assigned id and meta,
// naming the referral (see fhir.StampOutcome).
//
// The outcome changes the Task (Task.output, or for the practice the
// REDACTED label when it may not see it): the Task gets a new version and
// a Task event, so that an EHR polling by _lastUpdated or subscribed to
// its Tasks is told, and reads the Task under the usual rules. The outcome
// and the Task's change are stored in one step, so neither is without the
// other.
func (s *Service) RecordOutcome(ctx context.Context, os OutcomeStore, c Caller, taskID string, o adapter.OutcomeRecord,
	stamp func(id, referral string) ([]byte, error)) (*adapter.OutcomeRecord, error) {
	if c.Role == adapter.RolePractice {
		return nil, adapter.Errorf(adapter.EFORBIDDEN, "outcomes are recorded by link workers and providers")
	}
	o.ID = s.newID()
	for range maxOutcomeAttempts {
		t, err := s.visible(ctx, c, taskID)
		if err != nil {
			return nil, err
		}
		if t.Status == adapter.TaskRequested || t.Status == adapter.TaskRejected || t.Status == adapter.TaskEnteredInError {
			return nil, adapter.Errorf(adapter.ECONFLICT, "outcomes are recorded on accepted referrals; this one is %s", t.Status)
		}
		o.TaskID, o.Practice, o.Recorded, o.By, o.Org = t.ID, t.Practice, s.now(), c.Subject, c.Org
		body, err := stamp(o.ID, t.ReferralID)
		if err != nil {
			return nil, err
		}
		err = os.SaveOutcomeOn(ctx, o, body, recordsOutcome(t, c, o))
		if err != adapter.ErrTaskMoved {
			return &o, err
		}
	}
	return nil, adapter.Errorf(adapter.ECONFLICT, "the referral is changing too often; try again")
}

// maxOutcomeAttempts bounds the retries of an outcome whose Task changed
// while it was being recorded.
const maxOutcomeAttempts = 8

// recordsOutcome is the change of the Task t that records the outcome o:
// a new version and a history entry naming it.
func recordsOutcome(t *adapter.Task, c Caller, o adapter.OutcomeRecord) *adapter.TaskWrite {
	w := &adapter.TaskWrite{Version: t.Version, Task: t}
	w.History = t.Note(o.Recorded, c.Actor, t.BusinessStatus.Code, "outcome recorded: "+o.Type+"/"+o.ID)
	return w
}

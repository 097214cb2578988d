package lifecycle

import (
	"context"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// OutcomeStore keeps outcomes.
type OutcomeStore interface {
	SaveOutcome(ctx context.Context, o adapter.OutcomeRecord, body []byte) error
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
// its Tasks is told, and reads the Task under the usual rules.
func (s *Service) RecordOutcome(ctx context.Context, os OutcomeStore, c Caller, taskID string, o adapter.OutcomeRecord,
	stamp func(id, referral string) ([]byte, error)) (*adapter.OutcomeRecord, error) {
	if c.Role == adapter.RolePractice {
		return nil, adapter.Errorf(adapter.EFORBIDDEN, "outcomes are recorded by link workers and providers")
	}
	t, err := s.visible(ctx, c, taskID)
	if err != nil {
		return nil, err
	}
	if t.Status == adapter.TaskRequested || t.Status == adapter.TaskRejected || t.Status == adapter.TaskEnteredInError {
		return nil, adapter.Errorf(adapter.ECONFLICT, "outcomes are recorded on accepted referrals; this one is %s", t.Status)
	}
	o.ID, o.TaskID, o.Practice, o.Recorded, o.By, o.Org = s.newID(), t.ID, t.Practice, s.now(), c.Subject, c.Org
	body, err := stamp(o.ID, t.ReferralID)
	if err != nil {
		return nil, err
	}
	if err := os.SaveOutcome(ctx, o, body); err != nil {
		return nil, err
	}
	_, err = s.store.UpdateTask(ctx, t.ID, func(t *adapter.Task) (adapter.TaskChange, error) {
		now := s.now()
		t.Version++
		t.LastModified = now
		return adapter.TaskChange{History: adapter.HistoryEntry{At: now, By: c.Actor, From: string(t.Status), To: string(t.Status),
			BusinessStatus: t.BusinessStatus.Code, Reason: "outcome recorded: " + o.Type + "/" + o.ID}}, nil
	})
	if err != nil {
		return nil, err
	}
	return &o, nil
}

package queue

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
// on. stamp returns the resource's JSON with the assigned id and meta.
func (s *Service) RecordOutcome(ctx context.Context, os OutcomeStore, c Caller, taskID string, o adapter.OutcomeRecord,
	stamp func(id string) ([]byte, error)) (*adapter.OutcomeRecord, error) {
	t, err := s.visible(ctx, c, taskID)
	if err != nil {
		return nil, err
	}
	if c.Role == "practice" {
		return nil, adapter.Errorf(adapter.EFORBIDDEN, "outcomes are recorded by link workers and providers")
	}
	if t.Status == adapter.TaskRequested || t.Status == adapter.TaskRejected || t.Status == adapter.TaskEnteredInError {
		return nil, adapter.Errorf(adapter.ECONFLICT, "outcomes are recorded on accepted referrals; this one is %s", t.Status)
	}
	o.ID, o.TaskID, o.Practice, o.Recorded, o.By = s.newID(), t.ID, t.Practice, s.now(), c.Subject
	body, err := stamp(o.ID)
	if err != nil {
		return nil, err
	}
	if err := os.SaveOutcome(ctx, o, body); err != nil {
		return nil, err
	}
	return &o, nil
}

package lifecycle

import (
	"context"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/jobs"
)

// Closure summaries (issue 19). The summary an ending owes the practice is
// stored with the ending, in the same atomic step (adapter.ClosureDue);
// the request that ended the referral then sends it and clears it. When
// that does not happen (the adapter stopped in between, or the thread could
// not be written), the closure-summary job sends it a little later, so no
// ended referral goes without its summary.

// Closer sends the referring practice the closure summary of a referral
// that ended (adapter/dialogue). Sending one twice writes it once.
type Closer interface {
	Closed(ctx context.Context, c adapter.Caller, t *adapter.Task, note adapter.ClosureNote) error
}

// WithClosure sends a closure summary when a referral ends.
func WithClosure(cl Closer) Option { return func(s *Service) { s.closer = cl } }

// ClosureGrace is how long a closure summary may stay owed before the
// closure-summary job sends it: long enough for the request that ended the
// referral to have sent it itself.
const ClosureGrace = time.Minute

// closureBatch bounds how many owed summaries one run of the job sends.
const closureBatch = 200

// owesClosure reports whether a change that left t as it is ends the
// referral itself, held by a service (not while it waited for consent or
// sign-off), so that the practice is owed its closure summary.
func (s *Service) owesClosure(t *adapter.Task, wasHeld bool) bool {
	return s.closer != nil && t.Status.Terminal() && t.ID == t.ReferralID && t.Owner != "" && !wasHeld
}

// checkSummary: a summary for the GP is written by the holder, when the
// transition ends the referral itself (its own Task: an onward referral
// ending leaves the referral with the link workers, who close it), and is
// short.
func checkSummary(c Caller, t *adapter.Task, tr adapter.Transition) error {
	switch {
	case tr.Summary == "":
		return nil
	case c.Role == adapter.RolePractice:
		return adapter.Errorf(adapter.EBUSINESSRULE, "a closure summary is written by the service that held the referral").At("summary")
	case t.ID != t.ReferralID:
		return adapter.Errorf(adapter.EBUSINESSRULE, "the closure summary goes with the referral's own Task, which the link workers close; not with an onward referral").At("summary")
	case !tr.To.Terminal():
		return adapter.Errorf(adapter.EBUSINESSRULE, "a summary goes with the transition that ends the referral (completed, failed, cancelled or rejected)").At("summary")
	case utf8.RuneCountInString(tr.Summary) > adapter.MaxClosureSummary:
		return adapter.Errorf(adapter.EVALUE, "summary is limited to %d characters", adapter.MaxClosureSummary).At("summary")
	}
	return nil
}

// dueFrom is the closure summary a transition by c owes.
func dueFrom(c Caller, tr adapter.Transition) *adapter.ClosureDue {
	return &adapter.ClosureDue{Summary: tr.Summary, SummaryApproved: tr.SummaryApproved, By: c.Actor}
}

// close sends the practice the closure summary of the referral Task t,
// which ended, and clears it from what is owed. The ending stands whatever
// happens here; a failure is returned to the caller, and the summary stays
// owed.
func (s *Service) close(ctx context.Context, t *adapter.Task, due *adapter.ClosureDue) error {
	if s.closer == nil {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	attempts, err := s.attempts(ctx, t.ID)
	if err != nil {
		return err
	}
	note := adapter.ClosureNote{Tally: adapter.Tally(attempts), Summary: due.Summary, SummaryApproved: due.SummaryApproved}
	if err := s.closer.Closed(ctx, adapter.Caller{Actor: due.By}, t, note); err != nil {
		return err
	}
	return s.store.ClosureSent(ctx, t.ID)
}

// SendDueClosures sends the closure summaries owed for longer than
// ClosureGrace (job closure-summary): those whose request stopped or
// failed after the referral ended. One that fails again waits behind the
// others for the next run.
func (s *Service) SendDueClosures(ctx context.Context, _ int64) (jobs.Report, error) {
	rep := jobs.Report{"sent": 0, "failed": 0}
	now := s.now()
	dues, err := s.store.ClosuresDue(ctx, now.Add(-ClosureGrace), closureBatch)
	if err != nil {
		return rep, err
	}
	var errs []error
	for _, d := range dues {
		err := s.sendDue(ctx, d)
		if err == nil {
			rep["sent"]++
			continue
		}
		rep["failed"]++
		errs = append(errs, err)
		if err := s.store.DeferClosure(ctx, d.TaskID, now); err != nil {
			return rep, err
		}
	}
	closureSummariesFailing.Set(float64(rep["failed"]))
	return rep, errors.Join(errs...)
}

// sendDue sends one owed closure summary; a referral gone meanwhile owes
// nothing more (the retention purge clears what a purged one owed).
func (s *Service) sendDue(ctx context.Context, d adapter.DueClosure) error {
	t, err := s.store.Task(ctx, d.TaskID)
	switch {
	case adapter.ErrorCode(err) == adapter.ENOTFOUND:
		return s.store.ClosureSent(ctx, d.TaskID)
	case err != nil:
		return err
	}
	return s.close(ctx, t, &d.ClosureDue)
}

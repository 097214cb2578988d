package retention

import (
	"context"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/jobs"
)

// Batch is how many referrals one store call purges.
const Batch = 500

// Store purges closed referrals.
type Store interface {
	// PurgeClosed removes the personal data of referrals whose Task ended
	// before cutoff, at most limit per call, and returns their Task ids.
	// For each it writes, in the same step, the audit record ctx's slot
	// carries (adapter.AuditSlot), naming the Task: a purge is stored with
	// its record or not at all.
	PurgeClosed(ctx context.Context, cutoff time.Time, limit int64, now time.Time) ([]string, error)
}

// Purger runs the purge.
type Purger struct {
	store  Store
	period time.Duration
	now    func() time.Time
}

// New returns a Purger that keeps a closed referral's personal data for
// period.
func New(s Store, period time.Duration) *Purger {
	return &Purger{store: s, period: period, now: time.Now}
}

// SetClock replaces the clock (tests).
func (p *Purger) SetClock(now func() time.Time) { p.now = now }

// Purge removes, batch by batch, the personal data of every referral
// closed longer than the period, each deletion audited in the step that
// makes it (job retention-purge).
func (p *Purger) Purge(ctx context.Context, _ int64) (jobs.Report, error) {
	now := p.now()
	cutoff := now.Add(-p.period)
	ctx = adapter.WithAuditSlot(ctx, &adapter.AuditSlot{Base: Record(now)})
	total := 0
	for {
		ids, err := p.store.PurgeClosed(ctx, cutoff, Batch, now)
		total += len(ids)
		if err != nil || len(ids) < Batch {
			return jobs.Report{"purged": total}, err
		}
	}
}

// Record is the audit record of a purge at now, which the store completes
// with the Task purged (Entity).
func Record(now time.Time) adapter.AuditRecord {
	return adapter.AuditRecord{Time: now, Subject: "referral-adapter", Role: "system", Kind: "retention",
		Action: adapter.AuditDelete, Outcome: 200, Detail: "personal data purged after the retention period"}
}

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
	PurgeClosed(ctx context.Context, cutoff time.Time, limit int64, now time.Time) ([]string, error)
}

// Auditor records each deletion.
type Auditor interface {
	Audit(ctx context.Context, recs ...adapter.AuditRecord) error
}

// Purger runs the purge.
type Purger struct {
	store  Store
	audit  Auditor
	period time.Duration
	now    func() time.Time
}

// New returns a Purger that keeps a closed referral's personal data for
// period.
func New(s Store, a Auditor, period time.Duration) *Purger {
	return &Purger{store: s, audit: a, period: period, now: time.Now}
}

// SetClock replaces the clock (tests).
func (p *Purger) SetClock(now func() time.Time) { p.now = now }

// Purge removes, batch by batch, the personal data of every referral
// closed longer than the period, auditing each deletion before the next
// batch (job retention-purge).
func (p *Purger) Purge(ctx context.Context, _ int64) (jobs.Report, error) {
	now := p.now()
	cutoff := now.Add(-p.period)
	total := 0
	for {
		ids, err := p.store.PurgeClosed(ctx, cutoff, Batch, now)
		total += len(ids)
		if len(ids) > 0 {
			if aerr := p.audit.Audit(ctx, records(ids, now)...); aerr != nil {
				return jobs.Report{"purged": total}, aerr
			}
		}
		if err != nil || len(ids) < Batch {
			return jobs.Report{"purged": total}, err
		}
	}
}

// records are the audit records of purged Tasks.
func records(ids []string, now time.Time) []adapter.AuditRecord {
	recs := make([]adapter.AuditRecord, 0, len(ids))
	for _, id := range ids {
		recs = append(recs, adapter.AuditRecord{Time: now, Subject: "referral-adapter", Role: "system", Kind: "retention",
			Action: adapter.AuditDelete, Entity: "Task/" + id, Outcome: 200, Detail: "personal data purged after the retention period"})
	}
	return recs
}

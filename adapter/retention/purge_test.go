package retention_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/retention"
)

// fakeStore hands out closed referrals in batches, as the store does,
// and writes the audit record the context's slot carries for each, as the
// store does in the purge's own step.
type fakeStore struct {
	closed  int   // referrals left to purge
	err     error // returned with the last batch
	cutoffs []time.Time
	audited []adapter.AuditRecord
}

func (f *fakeStore) PurgeClosed(ctx context.Context, cutoff time.Time, limit int64, _ time.Time) ([]string, error) {
	f.cutoffs = append(f.cutoffs, cutoff)
	n := min(int64(f.closed), limit)
	ids := make([]string, n)
	slot := adapter.AuditSlotFrom(ctx)
	for i := range ids {
		ids[i] = fmt.Sprintf("t%d", f.closed-i)
		if slot != nil {
			r := slot.Base
			r.Entity = "Task/" + ids[i]
			f.audited = append(f.audited, r)
		}
	}
	f.closed -= int(n)
	if f.closed == 0 {
		return ids, f.err
	}
	return ids, nil
}

var now = time.Date(2030, 3, 1, 2, 30, 0, 0, time.UTC)

func run(t *testing.T, f *fakeStore) (int, error) {
	t.Helper()
	p := retention.New(f, 8*365*24*time.Hour)
	p.SetClock(func() time.Time { return now })
	rep, err := p.Purge(context.Background(), 0)
	return rep["purged"], err
}

// Every closed referral past the period is purged, batch by batch, each
// one audited (by the store, from the record the purge hands it) as a
// deletion by the adapter; the cutoff is the period before now.
func TestPurgeBatchesAndAudits(t *testing.T) {
	for _, n := range []int{0, 1, retention.Batch - 1, retention.Batch, retention.Batch + 1, 2*retention.Batch + 7} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			f := &fakeStore{closed: n}
			got, err := run(t, f)
			if err != nil || got != n {
				t.Fatalf("purged %d (%v), want %d", got, err, n)
			}
			if len(f.audited) != n {
				t.Fatalf("%d audit records, want %d", len(f.audited), n)
			}
			wantCalls := n/retention.Batch + 1
			if len(f.cutoffs) != wantCalls {
				t.Errorf("%d store calls, want %d", len(f.cutoffs), wantCalls)
			}
			for _, c := range f.cutoffs {
				if want := now.Add(-8 * 365 * 24 * time.Hour); !c.Equal(want) {
					t.Errorf("cutoff %s, want %s", c, want)
				}
			}
			if n == 0 {
				return
			}
			r := f.audited[0]
			want := adapter.AuditRecord{Time: now, Subject: "referral-adapter", Role: "system", Kind: "retention",
				Action: adapter.AuditDelete, Entity: fmt.Sprintf("Task/t%d", n), Outcome: 200,
				Detail: "personal data purged after the retention period"}
			if fmt.Sprint(r) != fmt.Sprint(want) {
				t.Errorf("audit record %+v, want %+v", r, want)
			}
		})
	}
}

// A store error stops the purge with what was purged so far.
func TestPurgeErrors(t *testing.T) {
	boom := errors.New("boom")
	f := &fakeStore{closed: retention.Batch + 3, err: boom}
	if got, err := run(t, f); !errors.Is(err, boom) || got != retention.Batch+3 {
		t.Errorf("store error: purged %d, %v", got, err)
	}
}

package httpapi

import (
	"context"
	"sync"
	"time"
)

// TokenStore hands out blocks of a fixed window's shared request budget
// (adapter/redis Store.TakeTokens).
type TokenStore interface {
	TakeTokens(ctx context.Context, subject string, n, limit int, window time.Duration) (int, time.Duration, error)
}

// LeasedLimiter is a RateLimiter that spends locally from blocks of the
// shared budget it takes from the store, so most requests cost no store
// round trip (issue 22): a subject's first request in a window, and every
// leaseSize-th after it, takes a block. The budget is shared by every
// replica through the store's one counter, so no more than the limit is
// allowed across replicas in a window; a replica can hold up to a block
// less one it has not spent, so a client spread over R replicas may be
// refused up to (R-1)*(block-1) requests before the limit. Once the
// store says the budget is spent, the replica refuses the subject until
// the window ends without asking again.
type LeasedLimiter struct {
	store TokenStore
	now   func() time.Time
	mu    sync.Mutex
	win   int64 // the window the leases are for (unix ms / window)
	lease map[string]*lease
}

type lease struct {
	left  int       // tokens taken and not yet spent
	spent bool      // the store had none left this window
	reset time.Time // when the window ends
}

// NewLeasedLimiter returns a LeasedLimiter over store.
func NewLeasedLimiter(store TokenStore) *LeasedLimiter {
	return &LeasedLimiter{store: store, now: time.Now, lease: map[string]*lease{}}
}

// leaseSize is how many tokens a replica takes at once: a fiftieth of the
// limit, between 1 and 64 (24 at the default 1,200 a minute).
func leaseSize(limit int) int { return min(64, max(1, limit/50)) }

// Allow spends one of subject's tokens, taking a block from the store when
// none is left locally.
func (l *LeasedLimiter) Allow(ctx context.Context, subject string, limit int, window time.Duration) (bool, time.Duration, error) {
	now := l.now()
	w := now.UnixMilli() / window.Milliseconds()
	l.mu.Lock()
	ls := l.current(subject, w)
	left, spent, until := ls.left, ls.spent, ls.reset // read under the lock: a concurrent take sets them
	if left > 0 {
		ls.left--
	}
	l.mu.Unlock()
	switch {
	case left > 0:
		return true, until.Sub(now), nil
	case spent:
		return false, until.Sub(now), nil
	}
	got, reset, err := l.store.TakeTokens(ctx, subject, leaseSize(limit), limit, window)
	if err != nil {
		return true, 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	ls = l.current(subject, w)
	ls.reset = now.Add(reset)
	if got == 0 {
		if ls.left > 0 { // a concurrent request's block arrived meanwhile
			ls.left--
			return true, reset, nil
		}
		ls.spent = true
		return false, reset, nil
	}
	ls.left += got - 1
	return true, reset, nil
}

// current is subject's lease for window w; the leases of a past window are
// dropped when the first request of a new one arrives. Callers hold l.mu.
func (l *LeasedLimiter) current(subject string, w int64) *lease {
	if w != l.win {
		if w < l.win { // a clock step back: a throwaway lease, never stored
			return &lease{}
		}
		l.win, l.lease = w, map[string]*lease{}
	}
	ls := l.lease[subject]
	if ls == nil {
		ls = &lease{}
		l.lease[subject] = ls
	}
	return ls
}

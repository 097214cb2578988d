package httpapi

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// tokenCounter is a TokenStore with one budget per subject and window.
type tokenCounter struct {
	mu    sync.Mutex
	used  map[string]int
	calls int
	err   error
}

func (c *tokenCounter) TakeTokens(_ context.Context, subject string, n, limit int, _ time.Duration) (int, time.Duration, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.err != nil {
		return 0, 0, c.err
	}
	got := min(n, max(0, limit-c.used[subject]))
	c.used[subject] += n
	return got, 30 * time.Second, nil
}

func TestLeasedLimiterSharesTheBudget(t *testing.T) {
	store := &tokenCounter{used: map[string]int{}}
	clock := time.Date(2026, 12, 3, 10, 0, 10, 0, time.UTC)
	replica := func() *LeasedLimiter {
		l := NewLeasedLimiter(store)
		l.now = func() time.Time { return clock }
		return l
	}
	a, b := replica(), replica()
	allowed := 0
	for i := range 300 {
		l := a
		if i%3 == 0 {
			l = b
		}
		ok, reset, err := l.Allow(context.Background(), "practice:x", 200, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			allowed++
		} else if reset <= 0 {
			t.Fatalf("refused with Retry-After %v", reset)
		}
	}
	// Two replicas: at most one block (4 tokens) less one left unspent.
	if allowed > 200 || allowed < 200-3 {
		t.Errorf("%d of 300 allowed with a limit of 200 across two replicas", allowed)
	}
	if store.calls > 200/4+2+2 {
		t.Errorf("%d store calls for 300 requests", store.calls)
	}
	// Refused locally once the store says the budget is spent.
	before := store.calls
	for range 10 {
		_, _, _ = a.Allow(context.Background(), "practice:x", 200, time.Minute)
	}
	if store.calls != before {
		t.Errorf("%d store calls after the budget was spent", store.calls-before)
	}
	// A new window starts afresh.
	clock = clock.Add(time.Minute)
	store.used = map[string]int{}
	if ok, _, _ := a.Allow(context.Background(), "practice:x", 200, time.Minute); !ok {
		t.Error("refused in a new window")
	}
}

func TestLeasedLimiterAllowsWhenTheStoreCannotCount(t *testing.T) {
	l := NewLeasedLimiter(&tokenCounter{used: map[string]int{}, err: errors.New("down")})
	if ok, _, err := l.Allow(context.Background(), "s", 3, time.Minute); !ok || err == nil {
		t.Errorf("ok %v err %v", ok, err)
	}
}

func TestLeaseSize(t *testing.T) {
	for limit, want := range map[int]int{1: 1, 3: 1, 100: 2, 1200: 24, 1_000_000: 64} {
		if got := leaseSize(limit); got != want {
			t.Errorf("leaseSize(%d) = %d, want %d", limit, got, want)
		}
	}
}

package redis

import (
	"context"
	"time"
)

// FirstUse records key until the given time and reports whether it was new
// (implements auth.ReplayGuard for client-assertion jti values).
func (s *GuardStore) FirstUse(ctx context.Context, key string, until time.Time) (bool, error) {
	ttl := time.Until(until) + time.Minute // outlive the assertion's leeway
	if ttl < time.Minute {
		ttl = time.Minute
	}
	ok, err := s.c.SetNX(ctx, s.k.assertion(key), 1, ttl).Result()
	if err != nil {
		return false, s.fail(err)
	}
	return ok, nil
}

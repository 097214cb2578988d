package redis

import (
	"context"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/social-prescribing/referral-adapter/adapter/jobs"
)

// acquireScript takes the lock if free and returns a fencing token that
// increases with every acquisition; 0 when the lock is held.
var acquireScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local fence = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], fence, 'PX', ARGV[1])
return fence`)

// releaseScript deletes the lock only if it still holds our token.
var releaseScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`)

// Acquire takes the named lock for ttl (implements jobs.Locker).
func (s *GuardStore) Acquire(ctx context.Context, name string, ttl time.Duration) (jobs.Lease, bool, error) {
	fence, err := acquireScript.Run(ctx, s.c, []string{s.k.lock(name), s.k.fence(name)}, ttl.Milliseconds()).Int64()
	if err != nil {
		return nil, false, s.fail(err)
	}
	if fence == 0 {
		return nil, false, nil
	}
	return &lease{s: s, name: name, fence: fence}, true, nil
}

type lease struct {
	s     *GuardStore
	name  string
	fence int64
}

func (l *lease) Fence() int64 { return l.fence }

func (l *lease) Release(ctx context.Context) error {
	return releaseScript.Run(ctx, l.s.c, []string{l.s.k.lock(l.name)}, l.fence).Err()
}

package redis

import (
	"context"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Rate limits (GuardStore): a fixed window's request budget per subject,
// shared by every replica through one counter, handed out in blocks that
// each replica spends locally (httpapi.LeasedLimiter).

// takeScript takes up to ARGV[2] tokens of a window's budget of ARGV[3]
// and returns how many it got (0 once the budget is spent).
var takeScript = goredis.NewScript(`
local n = redis.call('INCRBY', KEYS[1], ARGV[2])
if n == tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local left = tonumber(ARGV[3]) - (n - tonumber(ARGV[2]))
if left <= 0 then return 0 end
return math.min(left, tonumber(ARGV[2]))`)

// TakeTokens takes up to n of the limit requests subject may make in the
// current fixed window, for a replica to spend locally (issue 22): it
// returns how many it got, 0 once the window's budget is spent, and when
// the window ends. Replicas share the budget through the one counter, so
// across them no more than limit requests are allowed in a window.
func (s *GuardStore) TakeTokens(ctx context.Context, subject string, n, limit int, window time.Duration) (int, time.Duration, error) {
	now := time.Now()
	w := now.UnixMilli() / window.Milliseconds()
	got, err := takeScript.Run(ctx, s.c, []string{s.k.rateLimit(subject, w)}, window.Milliseconds()*2, n, limit).Int()
	if err != nil {
		return 0, 0, s.fail(err)
	}
	return got, time.UnixMilli((w + 1) * window.Milliseconds()).Sub(now), nil
}

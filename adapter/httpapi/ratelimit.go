package httpapi

import (
	"context"
	"math"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// RateLimiter counts requests per client in fixed windows.
type RateLimiter interface {
	Allow(ctx context.Context, subject string, limit int, window time.Duration) (bool, time.Duration, error)
}

// rateLimit answers 429 with Retry-After once a token subject exceeds
// RATE_LIMIT_PER_MINUTE. When the store cannot count, the request goes
// ahead: the store being down already fails writes with 503.
func (s *Server) rateLimit() gin.HandlerFunc {
	return func(c *gin.Context) {
		p := principalOf(c)
		if s.Limiter == nil || s.cfg.RateLimit <= 0 || p == nil {
			c.Next()
			return
		}
		ok, reset, err := s.Limiter.Allow(c.Request.Context(), p.Role.String()+":"+p.Subject, s.cfg.RateLimit, time.Minute)
		if err == nil && !ok {
			c.Header("Retry-After", strconv.Itoa(int(math.Ceil(reset.Seconds()))))
			s.abort(c, adapter.Errorf(adapter.ERATELIMIT, "rate limit of %d requests per minute exceeded", s.cfg.RateLimit))
			return
		}
		c.Next()
	}
}

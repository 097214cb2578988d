package notify

import (
	"errors"
	"net/netip"
	"time"
)

// Config is the notification environment configuration.
type Config struct {
	// AllowHTTP accepts plain http endpoints: tests and development only.
	// It also lets endpoints be on loopback (a receiver on the same machine).
	AllowHTTP bool `env:"SUBSCRIPTION_ALLOW_HTTP, default=false"`
	// PrivateNetworks are the private (RFC 1918, RFC 4193) or shared (RFC
	// 6598) networks notification endpoints may be in, e.g. an EHR's on
	// HSCN; any other private address is refused (addressPolicy).
	PrivateNetworks []netip.Prefix `env:"SUBSCRIPTION_PRIVATE_NETWORKS"`
	// Dispatch runs the dispatcher on this replica.
	Dispatch bool `env:"NOTIFY_DISPATCH, default=true"`
	// MaxAttempts is how many times a notification is tried, the first
	// attempt included, before it is dead-lettered.
	MaxAttempts int `env:"NOTIFY_MAX_ATTEMPTS, default=7"`
	// RetryBase is the wait after the first failure; each further failure
	// doubles it, up to RetryMax (30s, 1m, 2m, 4m, 8m, 16m by default).
	RetryBase time.Duration `env:"NOTIFY_RETRY_BASE, default=30s"`
	RetryMax  time.Duration `env:"NOTIFY_RETRY_MAX, default=16m"`
	// Timeout bounds one delivery attempt.
	Timeout time.Duration `env:"NOTIFY_TIMEOUT, default=10s"`
	// ClaimFor is how long a dispatcher owns a delivery (or an unacknowledged
	// trigger) before another may take it over. It must well exceed Timeout.
	ClaimFor time.Duration `env:"NOTIFY_CLAIM_FOR, default=2m"`
	// Linger is how long the dispatcher waits after a poll that found
	// fewer triggers than a full batch, so that Task events arriving
	// meanwhile are fanned out together: a little notification latency for
	// far fewer Redis round trips per event under steady load.
	Linger time.Duration `env:"NOTIFY_LINGER, default=100ms"`
}

// Validate reports configuration problems.
func (c *Config) Validate() []error {
	var errs []error
	if c.MaxAttempts < 1 || c.MaxAttempts > 50 {
		errs = append(errs, errors.New("notify: NOTIFY_MAX_ATTEMPTS must be between 1 and 50"))
	}
	if c.RetryBase <= 0 || c.RetryMax < c.RetryBase {
		errs = append(errs, errors.New("notify: NOTIFY_RETRY_BASE must be positive and at most NOTIFY_RETRY_MAX"))
	}
	if c.Timeout <= 0 || c.ClaimFor < 2*c.Timeout {
		errs = append(errs, errors.New("notify: NOTIFY_TIMEOUT must be positive and NOTIFY_CLAIM_FOR at least twice it"))
	}
	if c.Linger < 0 || c.Linger > 10*time.Second {
		errs = append(errs, errors.New("notify: NOTIFY_LINGER must be between 0 and 10s"))
	}
	return errs
}

// RetryDelay is the wait after the given number of failed attempts:
// base doubled for each failure after the first, capped at max.
func RetryDelay(failures int, base, max time.Duration) time.Duration {
	d := base
	for i := 1; i < failures && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

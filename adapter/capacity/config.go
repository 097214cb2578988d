package capacity

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Config is the capacity feature's environment configuration.
type Config struct {
	// StaleAfter is how long a service's capacity counts as current after a
	// provider last confirmed it; routing passes stale services by. "0"
	// turns staleness off.
	StaleAfter Period `env:"CAPACITY_STALE_AFTER, default=7d"`
}

// Validate reports configuration problems.
func (c *Config) Validate() []error {
	if c.StaleAfter < 0 {
		return []error{errors.New("capacity: CAPACITY_STALE_AFTER must not be negative")}
	}
	return nil
}

// Period is a duration written as days ("7d") or as a Go duration ("36h").
type Period time.Duration

// EnvDecode parses a Period from the environment.
func (p *Period) EnvDecode(v string) error {
	v = strings.TrimSpace(v)
	if n, ok := strings.CutSuffix(v, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil {
			return errors.New("not a period: use days (7d) or a duration (36h)")
		}
		*p = Period(time.Duration(days) * 24 * time.Hour)
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return errors.New("not a period: use days (7d) or a duration (36h)")
	}
	*p = Period(d)
	return nil
}

// Duration is the period as a time.Duration.
func (p Period) Duration() time.Duration { return time.Duration(p) }

// DefaultConfig is the configuration when the environment sets nothing.
func DefaultConfig() Config { return Config{StaleAfter: Period(adapter.DefaultStaleAfter)} }

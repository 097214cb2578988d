package intake

import (
	"errors"
	"time"
)

// Config is intake's environment configuration: the consent rules of
// issue 4 and the clinician sign-off rule of issue 11.
type Config struct {
	// ConsentRequired holds every referral (on-hold, awaiting-consent, not
	// queued) until a Consent permits disclosing it to the social
	// prescribing service, pauses referrals whose consent is withdrawn, and
	// (wired in main) lets outcomes go back to the GP only when a consent
	// permits it besides the patient's approval. false is for tests of
	// other features only.
	ConsentRequired bool `env:"CONSENT_REQUIRED, default=true"`
	// ConsentHoldMaxAge is how long a referral may wait for consent before
	// the consent-hold-expiry job cancels it (Go duration; 720h = 30 days).
	ConsentHoldMaxAge time.Duration `env:"CONSENT_HOLD_MAX_AGE, default=720h"`
	// SignOffRequired holds a referral started by non-clinical staff (any
	// referral source but GP, nurse or other clinician, including a token
	// that names no job title) on-hold, awaiting-sign-off, not queued,
	// until a clinician of the same practice signs it off.
	SignOffRequired bool `env:"SIGNOFF_REQUIRED, default=false"`
	// SignOffHoldMaxAge is how long a referral may wait for sign-off before
	// the sign-off-hold-expiry job cancels it (Go duration; 336h = 14 days).
	SignOffHoldMaxAge time.Duration `env:"SIGNOFF_HOLD_MAX_AGE, default=336h"`
}

// DefaultConfig is the configuration with every default.
func DefaultConfig() Config {
	return Config{ConsentRequired: true, ConsentHoldMaxAge: 30 * 24 * time.Hour, SignOffHoldMaxAge: 14 * 24 * time.Hour}
}

// Validate reports configuration problems.
func (c *Config) Validate() []error {
	var errs []error
	if c.ConsentHoldMaxAge < time.Hour {
		errs = append(errs, errors.New("intake: CONSENT_HOLD_MAX_AGE must be at least 1h (e.g. 720h for 30 days)"))
	}
	if c.SignOffHoldMaxAge < time.Hour {
		errs = append(errs, errors.New("intake: SIGNOFF_HOLD_MAX_AGE must be at least 1h (e.g. 336h for 14 days)"))
	}
	return errs
}

package notify_test

import (
	"strings"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter/notify"
)

func TestConfigValidate(t *testing.T) {
	good := notify.Config{MaxAttempts: 7, RetryBase: 30 * time.Second, RetryMax: 16 * time.Minute,
		Timeout: 10 * time.Second, ClaimFor: 2 * time.Minute, Linger: 100 * time.Millisecond}
	if errs := good.Validate(); len(errs) != 0 {
		t.Fatalf("the defaults: %v", errs)
	}
	for name, c := range map[string]struct {
		set  func(*notify.Config)
		want string
	}{
		"negative linger":  {func(c *notify.Config) { c.Linger = -time.Millisecond }, "NOTIFY_LINGER"},
		"linger too long":  {func(c *notify.Config) { c.Linger = time.Minute }, "NOTIFY_LINGER"},
		"claim too short":  {func(c *notify.Config) { c.ClaimFor = c.Timeout }, "NOTIFY_CLAIM_FOR"},
		"too many retries": {func(c *notify.Config) { c.MaxAttempts = 51 }, "NOTIFY_MAX_ATTEMPTS"},
	} {
		c2 := good
		c.set(&c2)
		errs := c2.Validate()
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), c.want) {
			t.Errorf("%s: %v, want one error naming %s", name, errs, c.want)
		}
	}
	zero := good
	zero.Linger = 0
	if errs := zero.Validate(); len(errs) != 0 {
		t.Errorf("no linger is allowed: %v", errs)
	}
}

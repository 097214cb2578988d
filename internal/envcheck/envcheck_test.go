package envcheck

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"
)

type period int

func (p *period) EnvDecode(v string) error {
	if !strings.HasSuffix(v, "d") {
		return fmt.Errorf("invalid period (want e.g. 7d)")
	}
	*p = 1
	return nil
}

type inner struct {
	Timeout time.Duration `env:"HTTP_TIMEOUT, default=10s"`
	Limit   int           `env:"RATE_LIMIT_PER_MINUTE, default=1200"`
}

type config struct {
	HTTP    inner
	URL     string        `env:"REDIS_URL"`
	Addrs   []string      `env:"REDIS_CLUSTER_ADDRS"`
	On      bool          `env:"JOBS_ENABLED, default=true"`
	Stale   period        `env:"CAPACITY_STALE_AFTER, default=7d"`
	Addr    string        `env:"ADDR, default=:8080"`
	Keep    time.Duration `env:"RETENTION_PERIOD, default=70080h"`
	Ignored string
}

func TestParseNamesEveryVariable(t *testing.T) {
	var c config
	errs, bad := Parse(context.Background(), &c, envconfig.MapLookuper(map[string]string{
		"HTTP_TIMEOUT": "abc", "RATE_LIMIT_PER_MINUTE": "lots", "JOBS_ENABLED": "maybe", "CAPACITY_STALE_AFTER": "week",
		"REDIS_URL": "anything", "RETENTION_PERIOD": "1h",
	}))
	got := fmt.Sprint(errs)
	for _, want := range []string{"HTTP_TIMEOUT: not a duration", "RATE_LIMIT_PER_MINUTE: not a whole number",
		"JOBS_ENABLED: not a boolean", "CAPACITY_STALE_AFTER: invalid period (want e.g. 7d)"} {
		if !strings.Contains(got, want) {
			t.Errorf("errors lack %q: %s", want, got)
		}
	}
	for _, leak := range []string{"abc", "lots", "maybe", "Timeout", "Limit", "HTTP:"} {
		if strings.Contains(got, leak) {
			t.Errorf("errors mention %q: %s", leak, got)
		}
	}
	if len(errs) != 4 || fmt.Sprint(bad) != "[HTTP_TIMEOUT RATE_LIMIT_PER_MINUTE JOBS_ENABLED CAPACITY_STALE_AFTER]" {
		t.Errorf("%d errors, bad %v", len(errs), bad)
	}
	if c.URL != "" {
		t.Error("Parse changed its target")
	}
	// Hidden, the rest reads with defaults.
	if err := envconfig.ProcessWith(context.Background(), &envconfig.Config{Target: &c, Lookuper: Hide(envconfig.MapLookuper(map[string]string{
		"HTTP_TIMEOUT": "abc", "REDIS_URL": "x"}), bad)}); err != nil || c.HTTP.Timeout != 10*time.Second || c.URL != "x" {
		t.Errorf("hidden: %+v %v", c, err)
	}
}

func TestUnknown(t *testing.T) {
	known := Names(&config{})
	if fmt.Sprint(known) != "[HTTP_TIMEOUT RATE_LIMIT_PER_MINUTE REDIS_URL REDIS_CLUSTER_ADDRS JOBS_ENABLED CAPACITY_STALE_AFTER ADDR RETENTION_PERIOD]" {
		t.Fatalf("names %v", known)
	}
	for name, want := range map[string]string{
		"REDIS_URLL":           "did you mean REDIS_URL",
		"REDIS_ULR":            "did you mean REDIS_URL",
		"REDIS_UR":             "did you mean REDIS_URL",
		"redis_url":            "did you mean REDIS_URL",
		"Redis_Urll":           "did you mean REDIS_URL",
		"JOBS_ENABLE":          "did you mean JOBS_ENABLED",
		"RETENTION_PERIODS":    "did you mean RETENTION_PERIOD",
		"RATE_LIMIT_PER_MINUT": "did you mean RATE_LIMIT_PER_MINUTE",
		"CAPACITY_STALE_AFTRE": "did you mean CAPACITY_STALE_AFTER",
		"REDIS_CLUSTER_ADDR":   "did you mean REDIS_CLUSTER_ADDRS",
		"HTTP_TIMEOTU":         "did you mean HTTP_TIMEOUT",
		"HTTP_TIME_OUT":        "did you mean HTTP_TIMEOUT",
	} {
		errs := Unknown([]string{name}, known)
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), want) || !strings.HasPrefix(errs[0].Error(), name+" ") {
			t.Errorf("%s: %v, want %q", name, errs, want)
		}
	}
	quiet := []string{"PATH", "HOME", "GOMEMLIMIT", "GOGC", "KUBERNETES_SERVICE_HOST", "KUBERNETES_PORT_443_TCP",
		"REDIS_PORT", "REDIS_SERVICE_HOST", "REDIS_SERVICE_PORT", "REDIS_PORT_6379_TCP_ADDR", "REDIS_HOST", "REDIS_DB",
		"JOBS_QUEUE", "ADDRESS", "ADDR2", "HTTP_PROXY", "HTTPS_PROXY", "RATE", "CI", "TERM", "", "_",
		"REDIS_URL", "ADDR", "RETENTION_PERIOD"}
	if errs := Unknown(quiet, known); len(errs) != 0 {
		t.Errorf("unrelated or known variables refused: %v", errs)
	}
	// Every problem at once, in order.
	if errs := Unknown([]string{"REDIS_URLL", "PATH", "JOBS_ENABLE"}, known); len(errs) != 2 {
		t.Errorf("two typos: %v", errs)
	}
}

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"A", "", 1}, {"AB", "BA", 1}, {"FILE", "FIEL", 1}, {"URL", "URLL", 1}, {"PORT", "URL", 3}, {"KITTEN", "SITTING", 3}} {
		if got := distance(c.a, c.b); got != c.d {
			t.Errorf("distance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}

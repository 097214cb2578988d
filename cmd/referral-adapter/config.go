package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
	"github.com/social-prescribing/referral-adapter/adapter/capacity"
	"github.com/social-prescribing/referral-adapter/adapter/httpapi"
	"github.com/social-prescribing/referral-adapter/adapter/intake"
	"github.com/social-prescribing/referral-adapter/adapter/jobs"
	"github.com/social-prescribing/referral-adapter/adapter/lifecycle"
	"github.com/social-prescribing/referral-adapter/adapter/notify"
	"github.com/social-prescribing/referral-adapter/adapter/redis"
	"github.com/social-prescribing/referral-adapter/adapter/routing"
	"github.com/social-prescribing/referral-adapter/internal/envcheck"
	"github.com/social-prescribing/referral-adapter/mappings"
)

// Config is the whole service's configuration: each package owns its part.
type Config struct {
	HTTP        httpapi.Config
	Auth        auth.Config
	Redis       redis.Config
	Jobs        jobs.Config
	Capacity    capacity.Config
	Queue       lifecycle.Config
	Notify      notify.Config
	Intake      intake.Config
	MappingsDir string `env:"MAPPINGS_DIR"` // overrides the embedded mappings
	// Retention is how long a closed referral's personal data is kept (8
	// years, as for GP records, unless local policy says otherwise).
	Retention time.Duration `env:"RETENTION_PERIOD, default=70080h"`
	LogLevel  string        `env:"LOG_LEVEL, default=info"`
}

// loadConfig reads the environment (variable name to value) and validates
// everything once, reporting every problem together, each by its variable:
// values that do not parse, variables that look like ours but are not
// (internal/envcheck: a typo must never leave a setting at its default),
// and each package's own checks.
func loadConfig(ctx context.Context, env map[string]string) (*Config, *routing.Mappings, error) {
	var cfg Config
	lookup := envconfig.MapLookuper(env)
	errs, bad := envcheck.Parse(ctx, &cfg, lookup)
	errs = append(errs, envcheck.Unknown(slices.Sorted(maps.Keys(env)), envcheck.Names(&cfg))...)
	// Variables that did not parse are reported above; the rest of the
	// configuration is read with their defaults so its checks still run.
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &cfg, Lookuper: envcheck.Hide(lookup, bad)}); err != nil {
		return nil, nil, fmt.Errorf("configuration: %w", errors.Join(append(errs, err)...))
	}
	errs = append(errs, cfg.Auth.Validate()...)
	errs = append(errs, cfg.Redis.Validate()...)
	errs = append(errs, cfg.HTTP.Validate()...)
	errs = append(errs, cfg.Capacity.Validate()...)
	errs = append(errs, cfg.Queue.Validate()...)
	errs = append(errs, cfg.Intake.Validate()...)
	if cfg.Retention < 24*time.Hour {
		errs = append(errs, errors.New("RETENTION_PERIOD must be at least 24h"))
	}
	errs = append(errs, cfg.Notify.Validate()...)
	if _, err := parseLevel(cfg.LogLevel); err != nil {
		errs = append(errs, err)
	}
	m, err := loadMappings(cfg.MappingsDir)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("refusing to start:\n%w", errors.Join(errs...))
	}
	return &cfg, m, nil
}

// environ is the process environment as loadConfig takes it.
func environ() map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			env[k] = v
		}
	}
	return env
}

func loadMappings(dir string) (*routing.Mappings, error) {
	if dir == "" {
		return routing.Load(mappings.Default, "mappings (embedded)")
	}
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return nil, fmt.Errorf("MAPPINGS_DIR %q is not a readable directory", dir)
	}
	return routing.Load(os.DirFS(dir), dir)
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
		return 0, fmt.Errorf("LOG_LEVEL %q: use debug, info, warn or error", s)
	}
	return l, nil
}

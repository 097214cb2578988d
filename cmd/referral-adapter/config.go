package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
	"github.com/social-prescribing/referral-adapter/adapter/capacity"
	"github.com/social-prescribing/referral-adapter/adapter/httpapi"
	"github.com/social-prescribing/referral-adapter/adapter/intake"
	"github.com/social-prescribing/referral-adapter/adapter/jobs"
	"github.com/social-prescribing/referral-adapter/adapter/mapping"
	"github.com/social-prescribing/referral-adapter/adapter/notify"
	"github.com/social-prescribing/referral-adapter/adapter/queue"
	"github.com/social-prescribing/referral-adapter/adapter/redis"
	"github.com/social-prescribing/referral-adapter/mappings"
)

// Config is the whole service's configuration: each package owns its part.
type Config struct {
	HTTP        httpapi.Config
	Auth        auth.Config
	Redis       redis.Config
	Jobs        jobs.Config
	Capacity    capacity.Config
	Queue       queue.Config
	Notify      notify.Config
	Intake      intake.Config
	MappingsDir string `env:"MAPPINGS_DIR"` // overrides the embedded mappings
	// Retention is how long a closed referral's personal data is kept (8
	// years, as for GP records, unless local policy says otherwise).
	Retention time.Duration `env:"RETENTION_PERIOD, default=70080h"`
	LogLevel  string        `env:"LOG_LEVEL, default=info"`
}

// loadConfig reads the environment and validates everything once, reporting
// every problem together.
func loadConfig(ctx context.Context, lookup envconfig.Lookuper) (*Config, *mapping.Mappings, error) {
	var cfg Config
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &cfg, Lookuper: lookup}); err != nil {
		return nil, nil, fmt.Errorf("configuration: %w", err)
	}
	var errs []error
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

func loadMappings(dir string) (*mapping.Mappings, error) {
	if dir == "" {
		return mapping.Load(mappings.Default, "mappings (embedded)")
	}
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return nil, fmt.Errorf("MAPPINGS_DIR %q is not a readable directory", dir)
	}
	return mapping.Load(os.DirFS(dir), dir)
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
		return 0, fmt.Errorf("LOG_LEVEL %q: use debug, info, warn or error", s)
	}
	return l, nil
}

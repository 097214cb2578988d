package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Config is the store's environment configuration. With none of URL,
// ClusterAddrs or SentinelMaster set the service runs on an embedded
// in-process store (development only).
type Config struct {
	URL            string        `env:"REDIS_URL"`           // redis:// or rediss:// single server
	ClusterAddrs   []string      `env:"REDIS_CLUSTER_ADDRS"` // host:port,... of a Redis Cluster
	SentinelMaster string        `env:"REDIS_SENTINEL_MASTER"`
	SentinelAddrs  []string      `env:"REDIS_SENTINEL_ADDRS"`
	Password       string        `env:"REDIS_PASSWORD"` // for cluster/sentinel; a URL carries its own
	Namespace      string        `env:"REDIS_NAMESPACE, default=default"`
	DialTimeout    time.Duration `env:"REDIS_DIAL_TIMEOUT, default=2s"`
	OpTimeout      time.Duration `env:"REDIS_OP_TIMEOUT, default=2s"`
}

// Embedded reports whether no Redis deployment is configured.
func (c *Config) Embedded() bool {
	return c.URL == "" && len(c.ClusterAddrs) == 0 && c.SentinelMaster == ""
}

// Validate reports configuration problems.
func (c *Config) Validate() []error {
	var errs []error
	set := 0
	for _, b := range []bool{c.URL != "", len(c.ClusterAddrs) > 0, c.SentinelMaster != ""} {
		if b {
			set++
		}
	}
	if set > 1 {
		errs = append(errs, errors.New("redis: set only one of REDIS_URL, REDIS_CLUSTER_ADDRS, REDIS_SENTINEL_MASTER"))
	}
	if c.SentinelMaster != "" && len(c.SentinelAddrs) == 0 {
		errs = append(errs, errors.New("redis: REDIS_SENTINEL_MASTER needs REDIS_SENTINEL_ADDRS"))
	}
	if c.URL != "" {
		if _, err := goredis.ParseURL(c.URL); err != nil {
			errs = append(errs, fmt.Errorf("redis: REDIS_URL: %w", err))
		}
	}
	if strings.ContainsAny(c.Namespace, "{}: ") || c.Namespace == "" {
		errs = append(errs, errors.New("redis: REDIS_NAMESPACE must be non-empty without braces, colons or spaces"))
	}
	return errs
}

// Open connects to the configured deployment, or starts the embedded store.
// The returned close function releases everything.
func Open(c Config, log *slog.Logger) (goredis.UniversalClient, func(), error) {
	goredis.SetLogger(slogLogger{log: log})
	if c.Embedded() {
		return Embedded(log)
	}
	var client goredis.UniversalClient
	if c.URL != "" {
		opts, err := goredis.ParseURL(c.URL)
		if err != nil {
			return nil, nil, fmt.Errorf("redis: parse REDIS_URL: %w", err)
		}
		opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = c.DialTimeout, c.OpTimeout, c.OpTimeout
		opts.MaxRetries = noRetries
		client = goredis.NewClient(opts)
	} else {
		addrs := c.ClusterAddrs
		if c.SentinelMaster != "" {
			addrs = c.SentinelAddrs
		}
		client = goredis.NewUniversalClient(&goredis.UniversalOptions{
			Addrs: addrs, MasterName: c.SentinelMaster, Password: c.Password,
			DialTimeout: c.DialTimeout, ReadTimeout: c.OpTimeout, WriteTimeout: c.OpTimeout,
			MaxRetries: noRetries,
		})
	}
	return client, func() { _ = client.Close() }, nil
}

// noRetries turns off go-redis's retry of a command whose connection
// failed. The adapter's writes are scripts and transactions that are not
// idempotent (a contact attempt, a transition, a claim): one that reached
// Redis before its connection dropped would be run twice, recording the
// attempt twice or answering a transition it had applied with 409. The
// caller is answered 503 instead, and its retry meets the adapter's own
// checks (identifiers, Task versions).
const noRetries = -1

// slogLogger sends go-redis's internal messages (pool dial failures) to the
// service's structured log instead of stderr.
type slogLogger struct{ log *slog.Logger }

func (l slogLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, "redis client", "detail", fmt.Sprintf(format, v...))
}

package redis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"syscall"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Store keeps referrals, Tasks and queues in Redis.
type Store struct {
	c       goredis.UniversalClient
	k       keys
	settled *settledStats // report counters that can no longer change; nil: none kept
	dated   *datedCache   // dated counters read, with their versions (issue 20)
	writes  *groupCommit  // audit records and report counters of concurrent requests
}

// New returns a Store using the client, with every key in the namespace ns.
func New(c goredis.UniversalClient, ns string) *Store {
	return &Store{c: c, k: newKeys(ns), writes: &groupCommit{c: c}, dated: newDatedCache()}
}

// Client returns the underlying client (for health checks and jobs).
func (s *Store) Client() goredis.UniversalClient { return s.c }

// record reads one record's hash (an outcome, message or Flag); none is
// ENOTFOUND naming kind.
func (s *Store) record(ctx context.Context, key, kind string) (map[string]string, error) {
	h, err := s.c.HGetAll(ctx, key).Result()
	if err != nil {
		return nil, s.fail(err)
	}
	if len(h) == 0 {
		return nil, adapter.Errorf(adapter.ENOTFOUND, "%s not found", kind)
	}
	return h, nil
}

// Ping reports whether Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.c.Ping(ctx).Err(); err != nil {
		return s.fail(err)
	}
	return nil
}

// Embedded starts an in-process Redis-compatible server (miniredis) for
// zero-setup runs. Its data lives in memory and is lost when the process
// exits; the caller must say so loudly.
func Embedded(log *slog.Logger) (goredis.UniversalClient, func(), error) {
	m, err := miniredis.Run()
	if err != nil {
		return nil, nil, fmt.Errorf("redis: start embedded store: %w", err)
	}
	log.Warn("REDIS_URL is not set: using an embedded in-process store; ALL DATA IS LOST WHEN THE PROCESS EXITS. Set REDIS_URL for any real use.",
		"addr", m.Addr())
	c := goredis.NewClient(&goredis.Options{Addr: m.Addr()})
	return c, func() { _ = c.Close(); m.Close() }, nil
}

// fail maps a Redis error to a domain error: unreachable or timed-out Redis
// becomes EUNAVAILABLE (the caller answers 503 with Retry-After), anything
// else is internal.
func (s *Store) fail(err error) error {
	if err == nil {
		return nil
	}
	var ae *adapter.Error
	if errors.As(err, &ae) {
		return err
	}
	if isUnavailable(err) {
		storeErrors.WithLabelValues("unavailable").Inc()
		return &adapter.Error{Code: adapter.EUNAVAILABLE, Message: "the store is unavailable; retry later"}
	}
	storeErrors.WithLabelValues("other").Inc()
	return fmt.Errorf("redis: %w", err)
}

func isUnavailable(err error) bool {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, goredis.ErrClosed) || errors.Is(err, goredis.ErrPoolTimeout) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.As(err, &ne) {
		return true
	}
	for _, p := range []string{"LOADING", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "READONLY"} {
		if strings.HasPrefix(err.Error(), p) {
			return true
		}
	}
	return false
}

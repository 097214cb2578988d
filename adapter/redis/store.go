package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// conn is what every store shares: the one client, the key names (keys.go)
// and the group commit that lets concurrent requests' audit records and
// report counters share a round trip.
type conn struct {
	c      goredis.UniversalClient
	k      keys
	writes *groupCommit // audit records and report counters of concurrent requests
}

// The stores, one for each aggregate, all over one conn. Each serves the
// interfaces its consumers declare; a method that reads another
// aggregate's records asks that aggregate's store (the named fields).
// Scripts that must change several aggregates at once (intake places by
// capacity, indexes consent and announces the Task) are one Lua script,
// run by the store whose method calls it (scripts.go).
type (
	// ReferralStore: intake and the referral's records — ServiceRequest,
	// Consent, Patient, Task, their identifiers and idempotency keys
	// (intake.go, lookup.go).
	ReferralStore struct {
		*conn
		consents *ConsentStore
	}
	// ConsentStore: a patient's Consents and referrals, and the consent
	// and sign-off holds (consent.go).
	ConsentStore struct {
		*conn
		referrals *ReferralStore
	}
	// PatientStore: a practice's Patient by reference, and a Task's
	// contact attempts (patient.go).
	PatientStore struct{ *conn }
	// LifecycleStore: queues, claims and leases, Task changes and their
	// history, and the queue figures for metrics (queue.go, metrics.go).
	LifecycleStore struct {
		*conn
		referrals *ReferralStore
	}
	// CapacityStore: services' capacity, its log, waitlists, and moving
	// waiting referrals on (capacity.go, waitlist.go).
	CapacityStore struct{ *conn }
	// NotifyStore: Task events, Subscriptions, their deliveries and dead
	// letters (notify.go, subscription.go).
	NotifyStore struct{ *conn }
	// AuditStore: the audit stream (audit.go).
	AuditStore struct{ *conn }
	// GuardStore: per-subject rate limits, single-use assertion ids and
	// job locks (ratelimit.go, replay.go, lock.go).
	GuardStore struct{ *conn }
	// DialogueStore: messages and safeguarding Flags (dialogue.go).
	DialogueStore struct{ *conn }
	// OutcomeStore: outcome records and wellbeing scores (outcomes.go).
	OutcomeStore struct{ *conn }
	// StatsStore: report counters, with the caches of those that can no
	// longer change (stats.go, dated.go, stats_cache.go).
	StatsStore struct {
		*conn
		settled *settledStats // report counters that can no longer change; nil: none kept
		dated   *datedCache   // dated counters read, with their versions (issue 20)
	}
	// RetentionStore: purging closed referrals past the retention period
	// (retention.go).
	RetentionStore struct {
		*conn
		referrals *ReferralStore
		patients  *PatientStore
	}
)

// Store is every store of one deployment over one connection. The service
// wires each consumer's interface to the store that serves it
// (cmd/referral-adapter/serve.go); tests and tools may use Store whole.
type Store struct {
	*conn
	*ReferralStore
	*ConsentStore
	*PatientStore
	*LifecycleStore
	*CapacityStore
	*NotifyStore
	*AuditStore
	*GuardStore
	*DialogueStore
	*OutcomeStore
	*StatsStore
	*RetentionStore
}

// New returns the stores using the client, with every key in the
// namespace ns.
func New(c goredis.UniversalClient, ns string) *Store {
	cn := &conn{c: c, k: newKeys(ns), writes: &groupCommit{c: c}}
	s := &Store{conn: cn,
		ReferralStore: &ReferralStore{conn: cn}, ConsentStore: &ConsentStore{conn: cn}, PatientStore: &PatientStore{cn},
		LifecycleStore: &LifecycleStore{conn: cn}, CapacityStore: &CapacityStore{cn}, NotifyStore: &NotifyStore{cn},
		AuditStore: &AuditStore{cn}, GuardStore: &GuardStore{cn}, DialogueStore: &DialogueStore{cn}, OutcomeStore: &OutcomeStore{cn},
		StatsStore: &StatsStore{conn: cn, dated: newDatedCache()}, RetentionStore: &RetentionStore{conn: cn},
	}
	s.ReferralStore.consents = s.ConsentStore
	s.ConsentStore.referrals = s.ReferralStore
	s.LifecycleStore.referrals = s.ReferralStore
	s.RetentionStore.referrals, s.RetentionStore.patients = s.ReferralStore, s.PatientStore
	return s
}

// Client returns the underlying client (for health checks and jobs).
func (s *Store) Client() goredis.UniversalClient { return s.c }

// record reads one record's hash (an outcome, message or Flag); none is
// ENOTFOUND naming kind.
func (s *conn) record(ctx context.Context, key, kind string) (map[string]string, error) {
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

// Writable reports whether Redis takes writes: it sets a key of its own
// for a minute. A Redis that answers but refuses writes (out of memory, a
// replica, a failing snapshot) would answer every request 503 while a
// ping said ready; /readyz asks this instead, so a load balancer stops
// sending it traffic.
func (s *Store) Writable(ctx context.Context) error {
	if err := s.c.Set(ctx, s.k.readiness(), time.Now().UnixMilli(), time.Minute).Err(); err != nil {
		return s.fail(err)
	}
	return nil
}

// Embedded starts an in-process Redis-compatible server (miniredis) for
// zero-setup runs. Its data lives in memory and is lost when the process
// exits; the caller must say so loudly.
func Embedded(log *slog.Logger) (goredis.UniversalClient, func(), error) {
	// miniredis serves on a loopback port, which any local process can
	// reach: it is locked with a password made for this run alone, known
	// to this process only, so nothing else can read or write the data.
	secret, err := embeddedSecret()
	if err != nil {
		return nil, nil, err
	}
	m := miniredis.NewMiniRedis()
	m.RequireAuth(secret)
	if err := m.Start(); err != nil {
		return nil, nil, fmt.Errorf("redis: start embedded store: %w", err)
	}
	log.Warn("REDIS_URL is not set: using an embedded in-process store; ALL DATA IS LOST WHEN THE PROCESS EXITS. Set REDIS_URL for any real use.",
		"addr", m.Addr())
	c := goredis.NewClient(&goredis.Options{Addr: m.Addr(), Password: secret, MaxRetries: noRetries})
	return c, func() { _ = c.Close(); m.Close() }, nil
}

// embeddedSecret is a random password for the embedded store.
func embeddedSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("redis: embedded store password: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// fail maps a Redis error to a domain error: unreachable or timed-out Redis
// becomes EUNAVAILABLE (the caller answers 503 with Retry-After), anything
// else is internal.
func (s *conn) fail(err error) error {
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
	// Redis refusing writes for now: loading, a replica or a lost master,
	// out of memory (OOM; EXECABORT when a MULTI's command was refused so),
	// a script running too long (BUSY), too few replicas, a failing
	// snapshot (MISCONF).
	for _, p := range []string{"LOADING", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "READONLY", "OOM", "EXECABORT", "BUSY",
		"NOREPLICAS", "MISCONF"} {
		if strings.HasPrefix(err.Error(), p) {
			return true
		}
	}
	return false
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/social-prescribing/referral-adapter/adapter/access"
	"github.com/social-prescribing/referral-adapter/adapter/auth"
	"github.com/social-prescribing/referral-adapter/adapter/capacity"
	"github.com/social-prescribing/referral-adapter/adapter/dialogue"
	"github.com/social-prescribing/referral-adapter/adapter/disclosure"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/adapter/httpapi"
	"github.com/social-prescribing/referral-adapter/adapter/intake"
	"github.com/social-prescribing/referral-adapter/adapter/lifecycle"
	"github.com/social-prescribing/referral-adapter/adapter/notify"
	"github.com/social-prescribing/referral-adapter/adapter/patient"
	"github.com/social-prescribing/referral-adapter/adapter/redis"
	"github.com/social-prescribing/referral-adapter/adapter/report"
	"github.com/social-prescribing/referral-adapter/adapter/routing"
)

// app is the assembled service.
type app struct {
	handler http.Handler
	store   *redis.Store
	stores  stores // which store serves which interface
	parser  *fhir.Parser
	routes  []httpapi.Route
	close   func()
	// for the scheduled jobs
	queue     *lifecycle.Service
	caps      *capacity.Service
	mappings  *routing.Mappings
	retention time.Duration
	notifier  *notify.Dispatcher
	intake    *intake.Service
	cfg       *Config
	policy    *access.Policy
}

// build wires the packages together. ctx bounds background work (JWKS
// refresh).
func build(ctx context.Context, cfg *Config, m *routing.Mappings, log *slog.Logger) (*app, error) {
	parser, err := fhir.NewParser()
	if err != nil {
		return nil, err
	}
	render, err := fhir.NewRenderer()
	if err != nil {
		return nil, err
	}
	client, closeStore, err := redis.Open(cfg.Redis, log)
	if err != nil {
		return nil, err
	}
	st := newStores(redis.New(client, cfg.Redis.Namespace))
	st.KeepSettledStats(time.Now) // the counters are written on the wall clock
	var tokens *auth.TokenServer
	if cfg.Auth.Server.Enabled() {
		if tokens, err = auth.NewTokenServer(ctx, cfg.Auth.Server, cfg.Auth.Issuer, st.GuardStore); err != nil {
			closeStore()
			return nil, err
		}
	}
	verifier, err := auth.NewVerifier(ctx, cfg.Auth, tokens)
	if err != nil {
		closeStore()
		return nil, err
	}
	// The one access policy: who sees what, and the patient's consent at
	// every door their data leaves by (issue 17).
	policy := access.New(m, parser.ConsentReader(st.ConsentStore), st.ReferralStore, m.Network.LinkWorker, cfg.Intake.ConsentRequired).
		WithReferrals(st.ConsentStore)
	caps := capacity.New(st.CapacityStore, m, policy.Gate, cfg.Capacity)
	seedCapacity(ctx, caps, log)
	in := intake.New(parser, st.intake, m, intake.WithStaleAfter(caps.StaleAfter()), intake.WithStats(st.StatsStore),
		intake.WithConfig(cfg.Intake), intake.WithAccess(policy))
	disc := disclosure.New(policy, st.AuditStore, log)
	dlg := dialogue.New(st.dialogue, m, parser, policy, disc, log)
	q := lifecycle.New(st.queue, policy, m, cfg.Queue, caps.StaleAfter(), lifecycle.WithStats(st.StatsStore),
		lifecycle.WithClosure(dlg))
	srv := httpapi.New(cfg.HTTP, httpapi.Deps{
		Log: log, Verifier: verifier, Intake: in, Store: st.http,
		Mappings: m, Parser: parser, Render: render, Ready: st.Writable, Tokens: tokens,
		Audit: st.AuditStore, Limiter: httpapi.NewLeasedLimiter(st.GuardStore), Capacity: caps, Queue: q, Outcomes: st.OutcomeStore,
		Reports:       report.New(st.StatsStore, st.CapacityStore, m),
		Subscriptions: notify.NewSubscriptions(cfg.Notify, parser, st.NotifyStore),
		Disclosure:    disc,
		Access:        policy,
		Dialogue:      dlg,
		Patients:      patient.New(st.patients, policy).WithUpdates(parser, st.PatientStore, in),
	})
	notifier := notify.New(cfg.Notify, notify.Deps{Store: st.NotifyStore, Render: render, Log: log, BaseURL: cfg.HTTP.BaseURL})
	return &app{handler: srv.Handler(), store: st.Store, stores: st, parser: parser, routes: srv.Routes(), close: closeStore,
		queue: q, caps: caps, mappings: m, retention: cfg.Retention, notifier: notifier, intake: in, cfg: cfg, policy: policy}, nil
}

// seedCapacity gives every directory service its capacity from the
// mappings where none is recorded yet. If Redis is not reachable at
// start-up it keeps trying in the background until it succeeds; after
// that it checks again every reseedEvery until ctx ends, so a Redis that
// lost its data (restarted without persistence, flushed) gets its
// services' records back within that time: without one a service is
// treated as open and unlimited, and its caseload limit would be ignored.
func seedCapacity(ctx context.Context, caps *capacity.Service, log *slog.Logger) {
	seeded := seedOnce(ctx, caps, log, false)
	go func() {
		if !seeded {
			tick(ctx, 5*time.Second, func() bool { return seedOnce(ctx, caps, log, false) })
		}
		keepSeeded(ctx, caps, log, reseedEvery)
	}()
}

// reseedEvery is how often a running adapter checks that every service
// still has its capacity record.
const reseedEvery = time.Minute

// seedOnce seeds what is missing, saying so; again (a check after the
// first seeding) logs only when a record had gone missing.
func seedOnce(ctx context.Context, caps *capacity.Service, log *slog.Logger, again bool) bool {
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	n, err := caps.Seed(sctx)
	switch {
	case err != nil:
		log.Warn("could not seed service capacity; retrying", "error", err.Error())
		return false
	case !again:
		log.Info("service capacity seeded from mappings", "services", n)
	case n > 0:
		log.Warn("service capacity records were missing (did Redis lose its data?); seeded again from mappings", "services", n)
	}
	return true
}

// keepSeeded runs seedOnce every interval until ctx ends.
func keepSeeded(ctx context.Context, caps *capacity.Service, log *slog.Logger, every time.Duration) {
	tick(ctx, every, func() bool { seedOnce(ctx, caps, log, true); return false })
}

// tick calls fn every d until it returns true or ctx ends.
func tick(ctx context.Context, d time.Duration, fn func() (done bool)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if fn() {
				return
			}
		}
	}
}

// startDispatcher runs the notification dispatcher until ctx ends; the
// returned function waits for it to finish its in-flight deliveries.
func (a *app) startDispatcher(ctx context.Context) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.notifier.RunDispatcher(ctx)
	}()
	return func() { <-done }
}

// setup reads the configuration from the environment, makes the logger
// and builds the app: what serving and the operator commands share.
func setup(ctx context.Context, stderr io.Writer) (*Config, *slog.Logger, *app, error) {
	cfg, m, err := loadConfig(ctx, environ())
	if err != nil {
		return nil, nil, nil, err
	}
	level, _ := parseLevel(cfg.LogLevel)
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	// Libraries that log through slog's default logger (keyfunc, when the
	// identity provider's JWKS cannot be fetched) or the log package
	// (net/http's server errors) write JSON records like the service's own.
	slog.SetDefault(log)
	a, err := build(ctx, cfg, m, log)
	if err != nil {
		return nil, nil, nil, err
	}
	return cfg, log, a, nil
}

func serve(ctx context.Context, stderr io.Writer) error {
	cfg, log, a, err := setup(ctx, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	return a.run(ctx, cfg, log)
}

// run serves the app until ctx ends: metrics, scheduled jobs, the
// notification dispatcher and the API.
func (a *app) run(ctx context.Context, cfg *Config, log *slog.Logger) error {
	m := a.mappings
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	if err := a.store.Ping(pingCtx); err != nil {
		log.Warn("redis not reachable at start-up; /readyz reports unavailable until it is", "error", err.Error())
	}
	cancel()
	log.Info("mappings loaded", "ruleSet", m.RuleSet, "rules", len(m.Rules), "services", len(m.Services()))
	prometheus.MustRegister(lifecycle.NewCollector(a.store, m))
	stopMetrics, err := serveMetrics(cfg.HTTP.MetricsAddr, cfg.HTTP.Pprof, log)
	if err != nil {
		return err
	}
	defer stopMetrics()
	if cfg.Jobs.Enabled {
		runner, err := a.jobs(cfg.Jobs, log)
		if err != nil {
			return err
		}
		stopJobs := runner.Start(ctx)
		defer stopJobs()
	}
	if cfg.Notify.Dispatch {
		waitDispatcher := a.startDispatcher(ctx)
		defer waitDispatcher()
	}
	return listen(ctx, cfg.HTTP, a.handler, log)
}

// serveMetrics exposes Prometheus metrics on their own listener, so they
// are never reachable through the public API's ingress.
func serveMetrics(addr string, profiles bool, log *slog.Logger) (func(), error) {
	if addr == "" || addr == "off" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.Handler())
	if profiles { // for operators profiling a replica; never on the API listener
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	log.Info("metrics listening", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}

// listen serves until ctx ends, then drains in-flight requests.
func listen(ctx context.Context, cfg httpapi.Config, h http.Handler, log *slog.Logger) error {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       cfg.RequestTimeout + 5*time.Second,
		WriteTimeout:      cfg.RequestTimeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
		// Read more than httpapi.MaxRequestHeaderBytes, so that a request
		// over that bound is answered by the API as an OperationOutcome.
		MaxHeaderBytes: 4 * httpapi.MaxRequestHeaderBytes,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	goredis "github.com/redis/go-redis/v9"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

// baselineScript does the Redis work of an intake in one round trip: the
// idempotency check, the resource, the task hash, the queue entry and the
// idempotency key.
var baselineScript = goredis.NewScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('HSET', KEYS[3], 'st', 'requested', 'own', 'baseline', 'v', 1, 'auth', ARGV[4])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[2])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`)

// baseline is a bare handler: token check, body read, one Redis script.
type baseline struct {
	rdb goredis.UniversalClient
	ver *auth.Verifier
	ns  string
}

func (b *baseline) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if _, err := b.ver.Verify(tok); err != nil {
		http.Error(w, "unauthorised", http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		return
	}
	sum := sha256.Sum256(body)
	id := uuid.NewString()
	p := "sp:{" + b.ns + "}:"
	keys := []string{p + "idem", p + "sr:" + id, p + "task:" + id, p + "q:baseline"}
	now := time.Now().UnixMilli()
	if err := baselineScript.Run(r.Context(), b.rdb, keys, hex.EncodeToString(sum[:]), id, body, now).Err(); err != nil {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/fhir+json")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(body)
}

// runBaseline starts the baseline handler in-process and drives it with the
// same generator and settings as the adapter run.
func runBaseline(ctx context.Context, o *options) (*results, error) {
	h, stop, err := newBaseline(ctx, o)
	if err != nil {
		return nil, err
	}
	defer stop()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	bo := *o
	bo.mode = "intake"
	bo.metricsURL = ""
	bo.redisInfo = o.redisURL
	return run(ctx, &bo, "http://"+ln.Addr().String())
}

// serveBaseline serves the baseline handler at addr until ctx ends, in a
// process of its own, with its CPU at /metrics as the adapter reports its
// own (process_cpu_seconds_total): so that a load-generator run against
// it measures the baseline server's CPU per referral, as it measures the
// adapter's, without the generator's in it (issue 22).
func serveBaseline(ctx context.Context, o *options, addr string) error {
	h, stop, err := newBaseline(ctx, o)
	if err != nil {
		return err
	}
	defer stop()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "process_cpu_seconds_total %g\n", ownCPU())
	})
	mux.Handle("/", h)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newBaseline is the baseline handler on its own Redis namespace; stop
// deletes the namespace's keys and closes the client.
func newBaseline(ctx context.Context, o *options) (h http.Handler, stop func(), err error) {
	opts, err := goredis.ParseURL(o.redisURL)
	if err != nil {
		return nil, nil, err
	}
	ver, err := auth.NewVerifier(ctx, auth.Config{DevHS256: o.secret, MinSecretSize: 16}, nil)
	if err != nil {
		return nil, nil, errors.New("the baseline verifies tokens like the adapter: set AUTH_DEV_HS256_SECRET")
	}
	rdb := goredis.NewClient(opts)
	ns := "loadgen-baseline-" + uuid.NewString()[:8]
	return &baseline{rdb: rdb, ver: ver, ns: ns}, func() {
		cleanup(rdb, ns)
		_ = rdb.Close()
	}, nil
}

// cleanup deletes the baseline's keys.
func cleanup(rdb goredis.UniversalClient, ns string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	iter := rdb.Scan(ctx, 0, "sp:{"+ns+"}:*", 1000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		if batch = append(batch, iter.Val()); len(batch) == 1000 {
			rdb.Unlink(ctx, batch...)
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		rdb.Unlink(ctx, batch...)
	}
}

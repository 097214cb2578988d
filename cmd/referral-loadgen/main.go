// Command referral-loadgen drives a running referral adapter over HTTP with
// realistic synthetic referrals and prints throughput and latency figures,
// ending with one line of JSON for scripts.
//
//	referral-loadgen -target http://127.0.0.1:8080 -duration 10s -rate 0
//	referral-loadgen -rate 1000 -duration 30s           # p99 at a fixed rate
//	referral-loadgen -baseline -redis redis://127.0.0.1:6379/0   # also run the bare baseline
//	referral-loadgen -mode hostile                       # good and bad input mixed
//	referral-loadgen -mode mixed                         # referrals, claims and transitions, reports
//	referral-loadgen -serve-baseline 127.0.0.1:8081 -redis redis://127.0.0.1:6379/1  # the baseline alone, to drive and measure
//
// The baseline is a bare HTTP handler, started in-process, that does the
// same Redis writes as intake (resource, task, queue entry, idempotency key
// in one script) but no FHIR parsing, mapping or consent. The ratio
// adapter/baseline is the figure that stays comparable across machines.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx, os.Args[1:], os.Stdout); err != nil {
		stop()
		fmt.Fprintln(os.Stderr, "referral-loadgen:", err)
		os.Exit(1)
	}
}

// options are the command-line settings.
type options struct {
	target, token, secret, org, mode, redisURL, metricsURL string
	redisInfo                                              string // the Redis whose INFO stats give the run's round trips
	cpuProfile                                             string
	serveBaseline                                          string // serve the baseline here instead of generating load
	duration                                               time.Duration
	rate, workers                                          int
	baseline, consent, bundle                              bool
	mixed                                                  mixedTokens
}

func parseFlags(args []string, out io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("referral-loadgen", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&o.target, "target", "http://127.0.0.1:8080", "adapter base URL")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long to run")
	fs.IntVar(&o.rate, "rate", 0, "requests per second; 0 = flat out")
	fs.IntVar(&o.workers, "workers", 32, "concurrent connections")
	fs.StringVar(&o.token, "token", "", "bearer token (default: minted with AUTH_DEV_HS256_SECRET)")
	fs.StringVar(&o.org, "org", "A81001", "practice ODS code for minted tokens")
	fs.StringVar(&o.mode, "mode", "intake", "intake | hostile | mixed (referrals, link-worker claims and transitions, report queries)")
	fs.BoolVar(&o.baseline, "baseline", false, "also run the bare baseline handler and print the ratio")
	fs.BoolVar(&o.consent, "consent", true, "send each patient's consent before the referral (the adapter holds referrals without one)")
	fs.BoolVar(&o.bundle, "bundle", false, "send each patient's consent and referral together in one transaction Bundle")
	fs.StringVar(&o.serveBaseline, "serve-baseline", "", "serve the bare baseline handler at this address (its CPU at /metrics) until interrupted, instead of generating load")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write the load generator's own CPU profile to this file")
	fs.StringVar(&o.redisURL, "redis", os.Getenv("REDIS_URL"), "Redis for the baseline handler")
	fs.StringVar(&o.metricsURL, "metrics", "", "adapter /metrics URL, to report server CPU seconds per referral")
	fs.StringVar(&o.redisInfo, "redis-info", "", "the adapter's Redis, to report Redis round trips and commands per request (from INFO stats)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if o.mode != "intake" && o.mode != "hostile" && o.mode != "mixed" {
		return nil, fmt.Errorf("-mode must be intake, hostile or mixed")
	}
	if (o.baseline || o.serveBaseline != "") && o.redisURL == "" {
		return nil, errors.New("-baseline and -serve-baseline need -redis or REDIS_URL")
	}
	o.secret = os.Getenv("AUTH_DEV_HS256_SECRET")
	return o, nil
}

func realMain(ctx context.Context, args []string, out io.Writer) error {
	o, err := parseFlags(args, out)
	if err != nil {
		return err
	}
	if o.serveBaseline != "" {
		return serveBaseline(ctx, o, o.serveBaseline)
	}
	if o.token == "" {
		if o.token, err = mint(o); err != nil {
			return fmt.Errorf("mint a token (set AUTH_DEV_HS256_SECRET or pass -token): %w", err)
		}
	}
	if o.mode == "mixed" {
		if o.mixed, err = mintMixed(o); err != nil {
			return err
		}
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	res, err := run(ctx, o, o.target)
	if err != nil {
		return err
	}
	res.print(out, "adapter")
	summary := res.summary()
	if o.baseline {
		base, err := runBaseline(ctx, o)
		if err != nil {
			return err
		}
		base.print(out, "baseline")
		summary["baseline_rps"] = round(base.rps())
		summary["baseline_p50_ms"] = round(base.pct(0.5))
		summary["baseline_p99_ms"] = round(base.pct(0.99))
		if base.redis != nil && base.requests() > 0 {
			summary["baseline_redis_roundtrips_per_request"] = round(float64(base.redis.reads) / float64(base.requests()))
		}
		if base.rps() > 0 {
			summary["ratio_rps"] = round(res.rps() / base.rps())
		}
	}
	b, _ := json.Marshal(summary)
	_, err = fmt.Fprintln(out, string(b))
	return err
}

func mint(o *options) (string, error) {
	return auth.Mint(o.secret, auth.MintOptions{Role: auth.RolePractice, Org: o.org, TTL: o.duration + time.Hour})
}

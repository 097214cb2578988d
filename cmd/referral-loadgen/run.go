package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// run drives target for o.duration and collects results. Requests still
// in flight when the duration ends are waited for and counted (the client
// timeout bounds them), so every answer the server gave is in the figures.
func run(ctx context.Context, o *options, target string) (*results, error) {
	feedCtx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: o.workers}}
	runID := strconv.FormatInt(time.Now().UnixNano(), 36)
	cpu0 := serverCPU(o.metricsURL)
	rc0, rcOK := readRedisCounters(ctx, o.redisInfo)
	own0 := ownCPU()
	res := newResults()
	jobs := make(chan struct{}, o.workers)
	var wg sync.WaitGroup
	for range o.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				if o.mode == "mixed" {
					mixedOne(ctx, client, o, target, runID, res)
				} else {
					one(ctx, client, o, target, runID, res)
				}
			}
		}()
	}
	start := time.Now()
	feed(feedCtx, o.rate, jobs)
	close(jobs)
	wg.Wait()
	res.elapsed = time.Since(start)
	res.generatorCPU = ownCPU() - own0
	if cpu0 >= 0 {
		if cpu1 := serverCPU(o.metricsURL); cpu1 >= 0 {
			res.serverCPU = cpu1 - cpu0
		}
	}
	if rcOK {
		if rc1, ok := readRedisCounters(ctx, o.redisInfo); ok {
			c := redisCost(rc0, rc1)
			res.redis = &c
		}
	}
	return res, nil
}

// feed sends work at a fixed rate, or as fast as workers take it.
func feed(ctx context.Context, rate int, jobs chan<- struct{}) {
	if rate <= 0 {
		for {
			select {
			case <-ctx.Done():
				return
			case jobs <- struct{}{}:
			}
		}
	}
	interval := time.Second / time.Duration(rate)
	next := time.Now()
	for {
		next = next.Add(interval)
		if d := time.Until(next); d > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(d):
			}
		}
		select {
		case <-ctx.Done():
			return
		case jobs <- struct{}{}:
		default:
			// every worker busy: the request is counted as dropped by the generator
		}
	}
}

func one(ctx context.Context, c *http.Client, o *options, target, runID string, res *results) {
	body, nhs := referralFor(runID)
	kind, path := "good", "/fhir/ServiceRequest"
	if o.mode == "hostile" && rand.IntN(2) == 0 {
		kind, body = hostile(runID)
	}
	if kind == "good" && o.consent && target == o.target {
		if o.bundle {
			body, path = bundleFor(runID, body, nhs), "/fhir"
		} else {
			// The practice sends the patient's consent first, as the
			// README does; without it the adapter holds the referral.
			t0 := time.Now()
			st, _ := call(ctx, c, http.MethodPost, target+"/fhir/Consent", o.token, string(consentFor(runID, nhs)), "application/fhir+json")
			res.addOther("consent", st, time.Since(t0))
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target+path, bytes.NewReader(body))
	if err != nil {
		res.add(kind, 0, 0, err)
		return
	}
	req.Header.Set("Content-Type", "application/fhir+json")
	req.Header.Set("Authorization", "Bearer "+o.token)
	t0 := time.Now()
	resp, err := c.Do(req)
	lat := time.Since(t0)
	if err != nil {
		if ctx.Err() != nil {
			return // interrupted (SIGINT) mid-request
		}
		res.add(kind, 0, lat, err)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	res.add(kind, resp.StatusCode, lat, nil)
}

// serverCPU reads process_cpu_seconds_total from a Prometheus endpoint; -1
// when unavailable.
func serverCPU(url string) float64 {
	if url == "" {
		return -1
	}
	resp, err := http.Get(url)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("process_cpu_seconds_total ")); ok {
			var f float64
			if _, err := fmt.Sscan(string(v), &f); err == nil {
				return f
			}
		}
	}
	return -1
}

// ownCPU is this process's user and system CPU time so far, in seconds:
// what generating the load cost, on the machine the adapter shares.
func ownCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

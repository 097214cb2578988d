package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
	"time"
)

// results accumulates request outcomes.
type results struct {
	mu        sync.Mutex
	lat       []time.Duration // of good requests that succeeded
	ok        int
	errors    int // transport errors
	non2xx    int
	byStatus  map[int]int
	badAs4xx  int // hostile requests answered 4xx
	badOther  int // hostile requests answered anything else
	elapsed   time.Duration
	serverCPU float64
	// generatorCPU is the load generator's own CPU seconds over the run.
	generatorCPU float64
	redis        *redisCounters      // what the run cost Redis (nil: not measured)
	other        map[string]*opStats // mixed mode: claims, transitions, reports
}

// opStats counts one kind of non-intake operation.
type opStats struct {
	ok, failed int
	lat        []time.Duration
}

// addOther records a claim, transition or report query (204 counts as ok).
func (r *results) addOther(kind string, status int, lat time.Duration) {
	if status == 0 {
		return // the run ended mid-request (transport errors are counted by intake)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.other == nil {
		r.other = map[string]*opStats{}
	}
	s := r.other[kind]
	if s == nil {
		s = &opStats{}
		r.other[kind] = s
	}
	if status >= 200 && status < 300 {
		s.ok++
		s.lat = append(s.lat, lat)
	} else {
		s.failed++
	}
}

func newResults() *results { return &results{byStatus: map[int]int{}, serverCPU: -1} }

func (r *results) add(kind string, status int, lat time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.errors++
		return
	}
	r.byStatus[status]++
	if kind != "good" {
		if status >= 400 && status < 500 {
			r.badAs4xx++
		} else {
			r.badOther++
		}
		return
	}
	if status < 200 || status > 299 {
		r.non2xx++
		return
	}
	r.ok++
	r.lat = append(r.lat, lat)
}

// requests is how many HTTP requests the server answered (or failed to):
// referrals, and the Consents and other operations sent beside them.
func (r *results) requests() int {
	n := r.errors
	for _, c := range r.byStatus {
		n += c
	}
	for _, s := range r.other {
		n += s.ok + s.failed
	}
	return n
}

func (r *results) rps() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.ok) / r.elapsed.Seconds()
}

// pct returns the q-quantile latency of successful good requests in ms.
func (r *results) pct(q float64) float64 {
	if len(r.lat) == 0 {
		return 0
	}
	s := slices.Clone(r.lat)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return float64(s[max(i, 0)]) / float64(time.Millisecond)
}

func (r *results) print(w io.Writer, label string) {
	fmt.Fprintf(w, "%-8s referrals stored: %d in %.1fs = %.1f/s\n", label, r.ok, r.elapsed.Seconds(), r.rps())
	fmt.Fprintf(w, "%-8s latency ms: p50 %.2f  p95 %.2f  p99 %.2f  max %.2f\n", label, r.pct(0.5), r.pct(0.95), r.pct(0.99), r.pct(1))
	fmt.Fprintf(w, "%-8s transport errors %d, non-2xx on good input %d, statuses %v\n", label, r.errors, r.non2xx, r.byStatus)
	if r.badAs4xx+r.badOther > 0 {
		fmt.Fprintf(w, "%-8s hostile input: %d answered 4xx, %d answered otherwise\n", label, r.badAs4xx, r.badOther)
	}
	if r.serverCPU >= 0 && r.ok > 0 {
		fmt.Fprintf(w, "%-8s server CPU per referral: %.3f ms\n", label, r.serverCPU*1000/float64(r.ok))
	}
	if c := r.redis; c != nil && r.requests() > 0 && r.ok > 0 {
		fmt.Fprintf(w, "%-8s Redis round trips per request: %.2f (%.2f per referral; %d requests), commands per request %.1f\n", label,
			float64(c.reads)/float64(r.requests()), float64(c.reads)/float64(r.ok), r.requests(), float64(c.commands)/float64(r.requests()))
	}
	for _, kind := range []string{"consent", "claim", "transition", "report"} {
		if s := r.other[kind]; s != nil {
			fmt.Fprintf(w, "%-8s %s: %d ok (%.1f/s), %d failed, p50 %.2f ms, p99 %.2f ms\n", label, kind, s.ok,
				float64(s.ok)/r.elapsed.Seconds(), s.failed, pctOf(s.lat, 0.5), pctOf(s.lat, 0.99))
		}
	}
}

func pctOf(lat []time.Duration, q float64) float64 {
	if len(lat) == 0 {
		return 0
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return float64(s[max(i, 0)]) / float64(time.Millisecond)
}

func (r *results) summary() map[string]any {
	m := map[string]any{
		"intake_rps": round(r.rps()), "p50_ms": round(r.pct(0.5)), "p95_ms": round(r.pct(0.95)),
		"p99_ms": round(r.pct(0.99)), "max_ms": round(r.pct(1)), "errors": r.errors, "non_2xx": r.non2xx,
		"stored": r.ok, "hostile_4xx": r.badAs4xx, "hostile_other": r.badOther,
	}
	if r.serverCPU >= 0 && r.ok > 0 {
		m["cpu_ms_per_referral"] = round(r.serverCPU * 1000 / float64(r.ok))
	}
	if r.ok > 0 {
		m["generator_cpu_ms_per_referral"] = round(r.generatorCPU * 1000 / float64(r.ok))
	}
	if c := r.redis; c != nil && r.requests() > 0 && r.ok > 0 {
		m["redis_cpu_ms_per_referral"] = round(c.cpu * 1000 / float64(r.ok))
		m["redis_roundtrips_per_request"] = round(float64(c.reads) / float64(r.requests()))
		m["redis_roundtrips_per_referral"] = round(float64(c.reads) / float64(r.ok))
		m["redis_commands_per_request"] = round(float64(c.commands) / float64(r.requests()))
		m["requests"] = r.requests()
	}
	for kind, s := range r.other {
		m[kind+"_rps"] = round(float64(s.ok) / r.elapsed.Seconds())
		m[kind+"_p99_ms"] = round(pctOf(s.lat, 0.99))
		m[kind+"_failed"] = s.failed
	}
	return m
}

func round(f float64) float64 { return math.Round(f*100) / 100 }

package jobs_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter/jobs"
	"github.com/social-prescribing/referral-adapter/adapter/redis"
	"github.com/social-prescribing/referral-adapter/internal/redistest"
)

func store(t *testing.T) *redis.Store {
	return redis.New(redistest.Client(t), redistest.Namespace(t))
}

func TestNewValidatesSchedules(t *testing.T) {
	j := jobs.Job{Name: "a", Schedule: "*/5 * * * *", Run: nil}
	cases := map[string]struct {
		cfg  jobs.Config
		jobs []jobs.Job
		want string
	}{
		"bad spec":       {jobs.Config{}, []jobs.Job{{Name: "a", Schedule: "every tuesday"}}, `a schedule "every tuesday"`},
		"duplicate":      {jobs.Config{}, []jobs.Job{j, j}, `duplicate job "a"`},
		"unknown job":    {jobs.Config{Schedules: "b=@daily"}, []jobs.Job{j}, `unknown job "b"`},
		"bad override":   {jobs.Config{Schedules: "a=not a spec"}, []jobs.Job{j}, `a schedule "not a spec"`},
		"not name=value": {jobs.Config{Schedules: "a"}, []jobs.Job{j}, "not name=spec"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := jobs.New(tc.cfg, nil, slog.Default(), tc.jobs...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	r, err := jobs.New(jobs.Config{Schedules: "a=@every 1h"}, nil, slog.Default(), j)
	if err != nil || r.Jobs()[0].Schedule != "@every 1h" {
		t.Errorf("override not applied: %v %v", err, r)
	}
}

// Two replicas run the same job at the same moment: it runs once.
func TestLockAllowsOneRunAcrossReplicas(t *testing.T) {
	s := store(t)
	var running, ran atomic.Int32
	release := make(chan struct{})
	job := jobs.Job{Name: "sweep", Schedule: "@every 1m", Run: func(ctx context.Context, fence int64) (jobs.Report, error) {
		running.Add(1)
		ran.Add(1)
		<-release
		return jobs.Report{"swept": 1}, nil
	}}
	a, _ := jobs.New(jobs.Config{}, s, slog.Default(), job)
	b, _ := jobs.New(jobs.Config{}, s, slog.Default(), job)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, r := range []*jobs.Runner{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = r.RunOnce(context.Background(), "sweep")
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for ran.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	// Give the second contender time to try while the first holds the lock.
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	if ran.Load() != 1 {
		t.Fatalf("job ran %d times", ran.Load())
	}
	locked := 0
	for _, err := range errs {
		if errors.Is(err, jobs.ErrLocked) {
			locked++
		} else if err != nil {
			t.Errorf("unexpected error %v", err)
		}
	}
	if locked != 1 {
		t.Errorf("want exactly one ErrLocked, got %v", errs)
	}
	// Once released, the next run goes ahead with a higher fence.
	var fences []int64
	j2 := jobs.Job{Name: "sweep", Schedule: "@every 1m", Run: func(ctx context.Context, fence int64) (jobs.Report, error) {
		fences = append(fences, fence)
		return nil, nil
	}}
	c, _ := jobs.New(jobs.Config{}, s, slog.Default(), j2)
	for range 2 {
		if _, err := c.RunOnce(context.Background(), "sweep"); err != nil {
			t.Fatal(err)
		}
	}
	if len(fences) != 2 || fences[1] <= fences[0] || fences[0] < 2 {
		t.Errorf("fences %v should increase across acquisitions", fences)
	}
}

func TestLockExpiresWhenHolderDies(t *testing.T) {
	s := store(t)
	l, ok, err := s.Acquire(context.Background(), "j", 100*time.Millisecond)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if _, ok, _ := s.Acquire(context.Background(), "j", time.Second); ok {
		t.Fatal("lock taken twice")
	}
	time.Sleep(150 * time.Millisecond)
	l2, ok, err := s.Acquire(context.Background(), "j", time.Second)
	if err != nil || !ok {
		t.Fatal("expired lock not retaken", err)
	}
	// The dead holder's late release must not free the new holder's lock.
	_ = l.Release(context.Background())
	if _, ok, _ := s.Acquire(context.Background(), "j", time.Second); ok {
		t.Error("stale release freed someone else's lock")
	}
	_ = l2.Release(context.Background())
	if _, ok, _ := s.Acquire(context.Background(), "j", time.Second); !ok {
		t.Error("released lock not free")
	}
}

func TestRunOnceReportsAndFails(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	r, _ := jobs.New(jobs.Config{}, store(t), log,
		jobs.Job{Name: "ok", Schedule: "@daily", Run: func(context.Context, int64) (jobs.Report, error) { return jobs.Report{"expired": 3}, nil }},
		jobs.Job{Name: "bad", Schedule: "@daily", Run: func(context.Context, int64) (jobs.Report, error) { return nil, errors.New("boom") }},
	)
	if rep, err := r.RunOnce(context.Background(), "ok"); err != nil || rep["expired"] != 3 {
		t.Errorf("ok = %v %v", rep, err)
	}
	if _, err := r.RunOnce(context.Background(), "bad"); err == nil {
		t.Error("failure not returned")
	}
	if _, err := r.RunOnce(context.Background(), "nope"); !errors.Is(err, jobs.ErrUnknownJob) {
		t.Errorf("unknown = %v", err)
	}
	if !strings.Contains(buf.String(), `"expired":3`) || !strings.Contains(buf.String(), "job failed") {
		t.Errorf("logs: %s", buf.String())
	}
	if names := r.Jobs(); names[0].Name != "bad" || names[1].Name != "ok" {
		t.Errorf("jobs not sorted: %v", names)
	}
}

package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// ErrUnknownJob is returned for a job name that is not registered.
var ErrUnknownJob = errors.New("unknown job")

// ErrLocked is returned by RunOnce when another run holds the job's lock.
var ErrLocked = errors.New("job is running elsewhere")

// Report is what a run did, as named counts (e.g. "expired": 3).
type Report map[string]int

// Job is one unit of scheduled work. Run must honour ctx: it is cancelled
// when the lock's lease is about to end.
type Job struct {
	Name        string
	Schedule    string // standard 5-field cron spec or @every/@daily
	Description string
	Timeout     time.Duration // lock lease and run deadline; default 5m
	Run         func(ctx context.Context, fence int64) (Report, error)
}

// Lease is a held lock; Fence increases with every acquisition of the same
// lock, so a store can refuse writes from a stale holder.
type Lease interface {
	Fence() int64
	Release(ctx context.Context) error
}

// Locker takes named distributed locks. ok is false when someone else
// holds the lock.
type Locker interface {
	Acquire(ctx context.Context, name string, ttl time.Duration) (l Lease, ok bool, err error)
}

// Config is the scheduler's environment configuration.
type Config struct {
	Enabled bool `env:"JOBS_ENABLED, default=true"`
	// Schedules overrides schedules: "name=spec;name=spec".
	Schedules string `env:"JOB_SCHEDULES"`
}

// Runner runs registered jobs on schedule or on demand.
type Runner struct {
	jobs   []Job
	locker Locker
	log    *slog.Logger
	loc    *time.Location
}

// New validates the jobs (unique names, parseable schedules after
// overrides) and returns a Runner.
func New(cfg Config, locker Locker, log *slog.Logger, jobs ...Job) (*Runner, error) {
	overrides, err := parseSchedules(cfg.Schedules)
	if err != nil {
		return nil, err
	}
	var errs []error
	seen := map[string]bool{}
	for i := range jobs {
		j := &jobs[i]
		if seen[j.Name] {
			errs = append(errs, fmt.Errorf("jobs: duplicate job %q", j.Name))
		}
		seen[j.Name] = true
		if s, ok := overrides[j.Name]; ok {
			j.Schedule = s
			delete(overrides, j.Name)
		}
		if _, err := cron.ParseStandard(j.Schedule); err != nil {
			errs = append(errs, fmt.Errorf("jobs: %s schedule %q: %w", j.Name, j.Schedule, err))
		}
		if j.Timeout <= 0 {
			j.Timeout = 5 * time.Minute
		}
	}
	for name := range overrides {
		errs = append(errs, fmt.Errorf("jobs: JOB_SCHEDULES names unknown job %q", name))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sort.Slice(jobs, func(a, b int) bool { return jobs[a].Name < jobs[b].Name })
	return &Runner{jobs: jobs, locker: locker, log: log, loc: adapter.London()}, nil
}

func parseSchedules(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(s, ";") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		name, spec, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("jobs: JOB_SCHEDULES entry %q is not name=spec", part)
		}
		out[strings.TrimSpace(name)] = strings.TrimSpace(spec)
	}
	return out, nil
}

// Jobs returns the registered jobs, sorted by name.
func (r *Runner) Jobs() []Job { return slices.Clone(r.jobs) }

// RunOnce runs the named job now, under its lock.
func (r *Runner) RunOnce(ctx context.Context, name string) (Report, error) {
	i := slices.IndexFunc(r.jobs, func(j Job) bool { return j.Name == name })
	if i < 0 {
		return nil, fmt.Errorf("%w %q", ErrUnknownJob, name)
	}
	return r.run(ctx, r.jobs[i])
}

func (r *Runner) run(ctx context.Context, j Job) (Report, error) {
	lease, ok, err := r.locker.Acquire(ctx, j.Name, j.Timeout)
	if err != nil {
		runs.WithLabelValues(j.Name, "lock-error").Inc()
		return nil, fmt.Errorf("jobs: lock %s: %w", j.Name, err)
	}
	if !ok {
		runs.WithLabelValues(j.Name, "skipped").Inc()
		return nil, ErrLocked
	}
	defer func() { _ = lease.Release(context.WithoutCancel(ctx)) }()
	// Stop a little before the lease ends, so no other replica can start
	// while this run still writes.
	rctx, cancel := context.WithTimeout(ctx, j.Timeout*9/10)
	defer cancel()
	start := time.Now()
	rep, err := j.Run(rctx, lease.Fence())
	d := time.Since(start)
	duration.WithLabelValues(j.Name).Observe(d.Seconds())
	attrs := []any{"job", j.Name, "fence", lease.Fence(), "duration_ms", d.Milliseconds()}
	for k, v := range rep {
		attrs = append(attrs, k, v)
	}
	if err != nil {
		runs.WithLabelValues(j.Name, "failed").Inc()
		r.log.ErrorContext(ctx, "job failed", append(attrs, "error", err.Error())...)
		return rep, err
	}
	runs.WithLabelValues(j.Name, "ok").Inc()
	for k, v := range rep {
		items.WithLabelValues(j.Name, k).Add(float64(v))
	}
	r.log.InfoContext(ctx, "job ran", attrs...)
	return rep, nil
}

// Start schedules every job and returns a stop function that waits for
// running jobs to finish.
func (r *Runner) Start(ctx context.Context) (stop func()) {
	c := cron.New(cron.WithLocation(r.loc), cron.WithChain(cron.Recover(cronLogger{r.log}), cron.SkipIfStillRunning(cronLogger{r.log})))
	for _, j := range r.jobs {
		j := j
		// Schedules were validated in New.
		_, _ = c.AddFunc(j.Schedule, func() {
			if _, err := r.run(ctx, j); err != nil && !errors.Is(err, ErrLocked) {
				r.log.WarnContext(ctx, "scheduled job did not complete", "job", j.Name)
			}
		})
	}
	c.Start()
	return func() { <-c.Stop().Done() }
}

// cronLogger adapts slog to cron's logger.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "error", err.Error())...)
}

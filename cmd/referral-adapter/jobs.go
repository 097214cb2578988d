package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/jobs"
	"github.com/social-prescribing/referral-adapter/adapter/notify"
	"github.com/social-prescribing/referral-adapter/adapter/report"
	"github.com/social-prescribing/referral-adapter/adapter/retention"
	"github.com/social-prescribing/referral-adapter/internal/envcheck"
)

// jobs builds the job runner over the app's store. Each entry names a
// function owned by the package that does the work.
func (a *app) jobs(cfg jobs.Config, log *slog.Logger) (*jobs.Runner, error) {
	return jobs.New(cfg, a.store, log, a.jobList()...)
}

// jobList is the registry of scheduled jobs.
func (a *app) jobList() []jobs.Job {
	return []jobs.Job{
		{Name: "lease-sweep", Schedule: "* * * * *", Timeout: 50 * time.Second,
			Description: "return claimed referrals whose lease expired to their queue", Run: a.queue.SweepLeases},
		{Name: "provider-deadline", Schedule: "*/15 * * * *",
			Description: "decline and re-route referrals a VCSE provider did not answer in time", Run: a.queue.ProviderDeadline},
		{Name: "closure-summary", Schedule: "* * * * *", Timeout: 50 * time.Second,
			Description: "send the closure summaries still owed a minute after their referral ended (the close stopped or failed)", Run: a.queue.SendDueClosures},
		{Name: "sla-breach", Schedule: "*/15 * * * *",
			Description: "flag referrals past their first-contact deadline with no contact (gauge per service)", Run: a.queue.SLABreaches},
		{Name: "capacity-staleness", Schedule: "0 8 * * *",
			Description: "name the services whose capacity was not confirmed within CAPACITY_STALE_AFTER (routing passes them by)", Run: a.caps.CheckStaleness},
		{Name: "waitlist-promotion", Schedule: "*/5 * * * *",
			Description: "move waitlisted referrals into services that have free places", Run: a.caps.PromoteWaitlists},
		// Consent (issue 4).
		{Name: "consent-hold-expiry", Schedule: "17 * * * *",
			Description: "cancel referrals that waited for consent longer than CONSENT_HOLD_MAX_AGE; release those whose consent arrived unreconciled", Run: a.intake.ExpireConsentHolds},
		// Clinician sign-off (issue 11).
		{Name: "sign-off-hold-expiry", Schedule: "23 * * * *",
			Description: "cancel referrals that waited for clinician sign-off longer than SIGNOFF_HOLD_MAX_AGE", Run: a.intake.ExpireSignOffHolds},
		{Name: "retention-purge", Schedule: "30 2 * * *", Timeout: 30 * time.Minute,
			Description: "remove personal data of referrals closed longer than RETENTION_PERIOD", Run: retention.New(a.store, a.retention).Purge},
		{Name: "daily-snapshot", Schedule: "55 23 * * *",
			Description: "freeze each service's capacity for the day's report figures", Run: a.snapshot},
		{Name: notify.JobName, Schedule: "@every 30s", Timeout: time.Minute, Run: a.notifier.RetryDue,
			Description: "retry failed EHR notifications whose backoff has passed; dead-letter them after the last attempt"},
	}
}

// snapshot adds each service's capacity today to the day's report
// counters (utilisation over a period is reserved/max summed over days).
func (a *app) snapshot(ctx context.Context, _ int64) (jobs.Report, error) {
	caps, err := a.store.Capacities(ctx, a.mappings.ServiceIDs())
	if err != nil {
		return nil, err
	}
	incs := report.SnapshotIncs(adapter.StatsDay(time.Now(), adapter.London()), caps)
	return jobs.Report{"services": len(incs) / 3}, a.store.Count(ctx, incs)
}

// jobsCommand implements "referral-adapter jobs list" and
// "referral-adapter jobs run NAME".
func jobsCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "run") || (args[0] == "run" && len(args) != 2) {
		return errors.New("usage: referral-adapter jobs list | jobs run NAME")
	}
	if args[0] == "list" {
		return listJobs(ctx, stdout)
	}
	cfg, log, a, err := setup(ctx, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	runner, err := a.jobs(cfg.Jobs, log)
	if err != nil {
		return err
	}
	rep, err := runner.RunOnce(ctx, args[1])
	if err != nil {
		return err
	}
	var parts []string
	for k, v := range rep {
		parts = append(parts, fmt.Sprintf("%s=%d", k, v))
	}
	_, err = fmt.Fprintf(stdout, "%s: ok %s\n", args[1], strings.Join(parts, " "))
	return err
}

// listJobs prints the jobs and their schedules (JOB_SCHEDULES applied). It
// reads only the jobs' configuration: listing needs no token
// configuration and no store.
func listJobs(ctx context.Context, stdout io.Writer) error {
	var cfg jobs.Config
	lookup := envconfig.MapLookuper(environ())
	if errs, _ := envcheck.Parse(ctx, &cfg, lookup); len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &cfg, Lookuper: lookup}); err != nil {
		return err
	}
	// The job functions belong to an app that is never built: listing
	// only reads names, schedules and descriptions.
	runner, err := jobs.New(cfg, nil, nil, (&app{}).jobList()...)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tSCHEDULE (Europe/London)\tDESCRIPTION")
	for _, j := range runner.Jobs() {
		fmt.Fprintf(w, "%s\t%s\t%s\n", j.Name, j.Schedule, j.Description)
	}
	return w.Flush()
}

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

	"github.com/social-prescribing/referral-adapter/adapter/jobs"
	"github.com/social-prescribing/referral-adapter/adapter/notify"
)

// jobs builds the job runner over the app's store. Each entry names a
// function owned by the package that does the work.
func (a *app) jobs(cfg jobs.Config, log *slog.Logger) (*jobs.Runner, error) {
	return jobs.New(cfg, a.store, log, a.jobList()...)
}

// jobList is the registry of scheduled jobs.
func (a *app) jobList() []jobs.Job {
	return []jobs.Job{
		{Name: notify.JobName, Schedule: "@every 30s", Timeout: time.Minute, Run: a.notifier.RetryDue,
			Description: "retry failed EHR notifications whose backoff has passed; dead-letter them after the last attempt"},
	}
}

// jobsCommand implements "referral-adapter jobs list" and
// "referral-adapter jobs run NAME".
func jobsCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "run") || (args[0] == "run" && len(args) != 2) {
		return errors.New("usage: referral-adapter jobs list | jobs run NAME")
	}
	cfg, m, err := loadConfig(ctx, envconfig.OsLookuper())
	if err != nil {
		return err
	}
	level, _ := parseLevel(cfg.LogLevel)
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	a, err := build(ctx, cfg, m, log)
	if err != nil {
		return err
	}
	defer a.close()
	runner, err := a.jobs(cfg.Jobs, log)
	if err != nil {
		return err
	}
	if args[0] == "list" {
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "NAME\tSCHEDULE (Europe/London)\tDESCRIPTION")
		for _, j := range runner.Jobs() {
			fmt.Fprintf(w, "%s\t%s\t%s\n", j.Name, j.Schedule, j.Description)
		}
		return w.Flush()
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

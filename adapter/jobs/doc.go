// Package jobs runs the adapter's scheduled work (lease sweeps, deadlines,
// consent-hold expiry, retention...) on cron schedules in Europe/London.
// Every run takes a distributed lock with a fencing token first, so with
// several replicas each scheduled run happens once; runs that overlap on
// one replica are skipped. Each run logs what it did and feeds metrics.
package jobs

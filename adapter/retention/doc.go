// Package retention removes the personal data of referrals closed longer
// than the retention period (RETENTION_PERIOD), each deletion audited in
// the step that makes it.
// cmd/referral-adapter schedules it as the retention-purge job; the store
// decides what a purge removes (adapter/redis retention.go).
package retention

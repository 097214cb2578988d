// Package report builds commissioners' capacity reports and practices'
// feedback from the per-day counters the adapter keeps as referrals move:
// no report reads a referral. Small counts are suppressed so no patient can
// be singled out.
package report

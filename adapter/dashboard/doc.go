// Package dashboard renders the commissioners' dashboard (issue 8): one
// server-rendered HTML page with inline SVG charts of capacity against
// demand per service, waits, the referral funnel per area and trends over
// the period, each with its figures as a table. It draws only what the
// capacity report shows: aggregates, with small counts suppressed. Chart
// geometry is computed in Go, so it is unit tested; the page loads nothing
// and runs no script, under a Content-Security-Policy that allows only its
// own inline stylesheet (by hash).
package dashboard

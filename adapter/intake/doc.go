// Package intake accepts referrals from practice EHRs: it parses and
// validates ServiceRequests, Consents and transaction Bundles at the FHIR
// edge, routes each referral through the mappings, and writes everything a
// request creates to the store in one atomic step, idempotently.
package intake

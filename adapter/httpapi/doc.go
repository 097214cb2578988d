// Package httpapi is the adapter's HTTP edge: a gin router speaking FHIR R4
// (application/fhir+json, OperationOutcome for every error) under /fhir, and
// the adapter's own JSON API under /api/v1. Handlers are thin: they check
// the caller, call an application service, and render the result.
package httpapi

// Package routing loads the routing configuration (the service directory and
// the routing rules in mappings/*.yaml), validates it strictly, and decides
// where a referral goes. It is pure domain code: no FHIR, no I/O beyond
// reading the configuration files at start-up.
package routing

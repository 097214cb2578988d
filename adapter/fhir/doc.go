// Package fhir is the adapter's FHIR R4 edge: it parses and validates
// incoming resources with github.com/google/fhir/go, turns them into domain
// values, and renders domain values (Tasks, OperationOutcomes, Bundles,
// HealthcareServices, the CapabilityStatement) back into FHIR JSON. Nothing
// outside this package sees a FHIR type.
package fhir

package fhir

import "github.com/social-prescribing/referral-adapter/adapter"

// ConsentSummary is what intake needs from a Consent to store and index it.
type ConsentSummary struct {
	Identifier adapter.Identifier
	Patient    string
	Status     string
}

// ConsentSummaryFrom reads a validated Consent. A Consent without a patient
// cannot govern any referral and is rejected.
func ConsentSummaryFrom(res *Resource) (*ConsentSummary, error) {
	c := res.Msg.GetConsent()
	if c == nil {
		return nil, adapter.Errorf(adapter.EINVALID, "expected a Consent resource").At("resourceType")
	}
	s := &ConsentSummary{
		Identifier: firstIdentifier(c.GetIdentifier()),
		Patient:    refString(c.GetPatient()),
		Status:     codeString(c.GetStatus()),
	}
	if !isPatientRef(s.Patient) {
		return nil, adapter.Errorf(adapter.EBUSINESSRULE, "a Consent must name the patient it belongs to").At("Consent.patient")
	}
	return s, nil
}

// PatientIdentifier returns a Patient's first business identifier (the NHS
// number in practice), used to make transaction retries idempotent.
func PatientIdentifier(res *Resource) adapter.Identifier {
	return firstIdentifier(res.Msg.GetPatient().GetIdentifier())
}

package fhir

import "github.com/social-prescribing/referral-adapter/adapter"

// ConsentSummary is what intake needs from a Consent to store and index it.
type ConsentSummary struct {
	Identifier  adapter.Identifier
	Identifiers []adapter.Identifier // all, the first being Identifier (see adapter.Referral.Identifiers)
	Patient     string
	Status      string
}

// ConsentSummaryFrom reads a validated Consent. A Consent without a patient
// cannot govern any referral and is rejected.
func ConsentSummaryFrom(res *Resource) (*ConsentSummary, error) {
	c := res.Msg.GetConsent()
	if c == nil {
		return nil, adapter.Errorf(adapter.EINVALID, "expected a Consent resource").At("resourceType")
	}
	s := &ConsentSummary{
		Identifier:  firstIdentifier(c.GetIdentifier()),
		Identifiers: allIdentifiers(c.GetIdentifier()),
		Patient:     refString(c.GetPatient()),
		Status:      codeString(c.GetStatus()),
	}
	if !isPatientRef(s.Patient) {
		return nil, adapter.Errorf(adapter.EBUSINESSRULE, "a Consent must name the patient it belongs to").At("Consent.patient")
	}
	return s, nil
}

// PatientIdentifier returns the business identifier a Patient is created
// under (conditional create, issue 19): its NHS number, else its first
// identifier with a system and value. A referral naming the patient by
// that identifier finds the Patient.
func PatientIdentifier(res *Resource) adapter.Identifier {
	ids := res.Msg.GetPatient().GetIdentifier()
	for _, id := range ids {
		if id.GetSystem().GetValue() == adapter.SystemNHSNumber && id.GetValue().GetValue() != "" {
			return adapter.Identifier{System: adapter.SystemNHSNumber, Value: id.GetValue().GetValue()}
		}
	}
	return firstIdentifier(ids)
}

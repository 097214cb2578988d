package adapter

// SystemBusinessStatus is the adapter's code system for Task.businessStatus:
// the finer steps of a referral that the Gravity Task status does not name.
// Neither FHIR R4, UK Core nor Gravity defines these codes, so the adapter
// publishes its own (see README, "Codes").
const SystemBusinessStatus = "https://social-prescribing.github.io/referral-adapter/CodeSystem/task-business-status"

// Business status codes.
const (
	BSRouted          = "routed"
	BSWaitlisted      = "waitlisted"
	BSRedirected      = "redirected-capacity"
	BSAwaitingConsent = "awaiting-consent"
	BSAwaitingSignOff = "awaiting-sign-off"
	BSClaimed         = "claimed"
	BSContacted       = "contacted"
	BSFirstAppt       = "first-appointment"
	BSDidNotAttend    = "did-not-attend"
	BSPatientDeclined = "declined-by-patient"
	BSOnwardReferred  = "onward-referred"
	BSSupportStarted  = "support-started"
	BSProviderDecline = "declined-by-provider"
	BSNotContactable  = "not-contactable"
	BSReturned        = "returned-to-clinician"
	BSClinicalRedir   = "clinical-redirect"
	BSOutOfRemit      = "out-of-remit"
	BSConsentExpired  = "consent-hold-expired"
	BSSignOffExpired  = "sign-off-hold-expired"
	BSDuplicate       = "possible-duplicate"
	// Capacity (issue 3).
	BSOverCapacity = "over-capacity"
)

var businessStatusDisplay = map[string]string{
	BSRouted:          "Routed to service",
	BSWaitlisted:      "On the service's waitlist",
	BSRedirected:      "Redirected because the service is at capacity",
	BSAwaitingConsent: "Awaiting consent",
	BSAwaitingSignOff: "Awaiting clinician sign-off",
	BSClaimed:         "Picked up by the service", // rendered "Picked up by {service name}" (issue 19)
	BSContacted:       "Patient contacted",
	BSFirstAppt:       "First appointment held",
	BSDidNotAttend:    "Did not attend",
	BSPatientDeclined: "Declined by patient",
	BSOnwardReferred:  "Referred on to a VCSE service",
	BSSupportStarted:  "Support started",
	BSProviderDecline: "Declined by provider",
	BSNotContactable:  "Patient not contactable",
	BSReturned:        "Returned to referring clinician",
	BSClinicalRedir:   "Needs clinical care first: redirected",
	BSOutOfRemit:      "Out of remit for social prescribing",
	BSConsentExpired:  "Cancelled: consent not received in time",
	BSSignOffExpired:  "Cancelled: clinician sign-off not given in time",
	BSDuplicate:       "Possible duplicate of an active referral",
	BSOverCapacity:    "Placed with link workers beyond their stated capacity",
}

// BusinessStatus returns the coding for one of the adapter's business
// status codes; ok is false for an unknown code.
func BusinessStatus(code string) (Coding, bool) {
	d, ok := businessStatusDisplay[code]
	if !ok {
		return Coding{}, false
	}
	return Coding{System: SystemBusinessStatus, Code: code, Display: d}, true
}

// BusinessStatusCodes lists every business status code.
func BusinessStatusCodes() []string {
	out := make([]string, 0, len(businessStatusDisplay))
	for c := range businessStatusDisplay {
		out = append(out, c)
	}
	return out
}

package adapter

import (
	"strings"
	"time"
)

// Priority is a referral's urgency, in the FHIR request-priority codes.
type Priority string

// The FHIR R4 request priorities.
const (
	PriorityRoutine Priority = "routine"
	PriorityUrgent  Priority = "urgent"
	PriorityASAP    Priority = "asap"
	PriorityStat    Priority = "stat"
)

// Rank orders priorities for queues: lower ranks are served first
// (stat > asap > urgent > routine). Unknown priorities rank as routine.
func (p Priority) Rank() int {
	switch p {
	case PriorityStat:
		return 0
	case PriorityASAP:
		return 1
	case PriorityUrgent:
		return 2
	default:
		return 3
	}
}

// Valid reports whether p is one of the FHIR request priorities.
func (p Priority) Valid() bool {
	switch p {
	case PriorityRoutine, PriorityUrgent, PriorityASAP, PriorityStat:
		return true
	}
	return false
}

// Referral is what the adapter needs to know about a social prescribing
// referral (a FHIR ServiceRequest) to route and track it. The full resource
// is kept verbatim beside it; this struct carries no free text.
type Referral struct {
	ID         string
	Identifier Identifier // the first business identifier
	// Identifiers are all its business identifiers with a system and a
	// value, the first being Identifier: each is the practice's name for
	// the referral, for idempotent and conditional creates and for search.
	Identifiers []Identifier
	Practice    string   // ODS code of the referring practice (the tenant)
	Subject     string   // reference to the patient, e.g. "Patient/123"
	Requester   string   // reference to the referrer, e.g. "PractitionerRole/abc"
	Codes       []Coding // ServiceRequest.code
	Categories  []Coding // ServiceRequest.category
	Reasons     []Coding // ServiceRequest.reasonCode
	Performers  []string // ServiceRequest.performer references
	Priority    Priority
	AuthoredOn  time.Time
	Labels      []Coding // meta.security: what consent decisions about disclosing it depend on

	// RequesterKind is the resource type the requester names (also through
	// a contained resource); RequesterOrgs the ODS codes of the
	// organisations it names, itself or as a PractitionerRole's
	// organization.
	RequesterKind string
	RequesterOrgs []string
}

// AllCodings returns every coding that can drive routing.
func (r *Referral) AllCodings() []Coding {
	out := make([]Coding, 0, len(r.Codes)+len(r.Categories)+len(r.Reasons))
	out = append(out, r.Codes...)
	out = append(out, r.Categories...)
	return append(out, r.Reasons...)
}

// CheckRequester refuses a referral whose requester is not the referring
// practice or a person of it: an organisation named (by ODS code, itself
// or as a PractitionerRole's organization) must be the practice, and an
// Organization requester must be named by its ODS code. The patient or a
// relative (self-referral), a Practitioner, or a PractitionerRole naming
// no other organisation pass.
func (r *Referral) CheckRequester(practice string) error {
	for _, ods := range r.RequesterOrgs {
		if !strings.EqualFold(ods, practice) {
			return Errorf(EBUSINESSRULE, "the requester names another organisation than the practice the token is for: "+
				"a practice refers as itself or as a person of it").At("ServiceRequest.requester")
		}
	}
	if r.RequesterKind == "Organization" && len(r.RequesterOrgs) == 0 {
		return Errorf(EBUSINESSRULE, "an Organization requester must be named by its ODS code (identifier system %s): "+
			"the practice the token is for", SystemODS).At("ServiceRequest.requester")
	}
	return nil
}

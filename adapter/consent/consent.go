package consent

import (
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Type is a provision's type: what happens to requests it matches.
type Type string

// Provision types (http://hl7.org/fhir/consent-provision-type).
const (
	Permit Type = "permit"
	Deny   Type = "deny"
)

// opposite returns the other type.
func (t Type) opposite() Type {
	if t == Permit {
		return Deny
	}
	return Permit
}

// Consent statuses (http://hl7.org/fhir/consent-state-codes) the engine
// names; any status but active makes a Consent inapplicable.
const (
	StatusActive   = "active"
	StatusInactive = "inactive"
	StatusRejected = "rejected"
)

// Consent is a FHIR R4 Consent reduced to what decisions need. References
// are strings in the fhir package's normal form ("Patient/123",
// "Organization?identifier=system|value").
type Consent struct {
	ID         string
	Status     string
	Patient    string
	Scope      []adapter.Coding
	Categories []adapter.Coding
	DateTime   time.Time        // when the consent was given; zero sorts oldest
	PolicyRule []adapter.Coding // gives the base when the root provision states no type
	// Policies are the URIs of the policies (data sharing agreements) the
	// Consent cites (Consent.policy.uri).
	Policies []string
	// Received is when the adapter stored the Consent (meta.lastUpdated);
	// zero when not known. A Consent never ranks later than it arrived, so a
	// dateTime in the future cannot outrank a later Consent.
	Received  time.Time
	Provision *Provision // nil: no rules beyond the base policy
}

// Provision is one rule of a Consent. Empty criteria are not used.
type Provision struct {
	Type           Type // "" when not stated (see the package doc)
	Period         Period
	Actors         []Actor
	Actions        []adapter.Coding
	Purposes       []adapter.Coding
	SecurityLabels []adapter.Coding
	Classes        []adapter.Coding
	Codes          []adapter.Coding
	Data           []Data
	DataPeriod     Period
	Provisions     []Provision // exceptions
}

// Actor is who a provision is about: a role and a reference. Reference is
// the actor's reference in normal form (literal "Organization/X1V01", or
// conditional "Organization?identifier=system|value" when the Reference
// gave only an identifier); Identifier is the identifier form too when the
// Reference gave both, so that either names the actor.
type Actor struct {
	Role       []adapter.Coding // codings of one CodeableConcept
	Reference  string
	Identifier string
}

// Data meanings (http://hl7.org/fhir/consent-data-meaning).
const (
	MeaningInstance   = "instance"
	MeaningRelated    = "related"
	MeaningDependents = "dependents"
	MeaningAuthoredBy = "authoredby"
)

// Data is a specific resource a provision is about.
type Data struct {
	Meaning   string
	Reference string
}

// Period is a time range. Start is inclusive, End exclusive (the fhir
// package turns a FHIR end such as "2027-11-20" into the first instant
// after that day); either may be zero for an open end.
type Period struct {
	Start, End time.Time
}

// IsZero reports whether the period sets no bound.
func (p Period) IsZero() bool { return p.Start.IsZero() && p.End.IsZero() }

// Contains reports whether t lies in the period.
func (p Period) Contains(t time.Time) bool {
	return (p.Start.IsZero() || !t.Before(p.Start)) && (p.End.IsZero() || t.Before(p.End))
}

// Request is a proposed use or disclosure of a patient's information.
type Request struct {
	Patient string
	Actor   RequestActor // who would receive or use the information
	Action  adapter.Coding
	Purpose adapter.Coding
	// What the information is: its class (e.g. its resource type), the
	// codes and categories it carries, and its security labels. Empty
	// means it has none.
	Classes        []adapter.Coding
	Codes          []adapter.Coding
	SecurityLabels []adapter.Coding
	// Data is the information's own reference and Related the resources it
	// belongs to (its Task, the referral), for data criteria.
	Data    string
	Related []string
	// DataTime is when the information was recorded, for dataPeriod.
	DataTime time.Time
	// ConsentCategories, when set, limits decisions to Consents of one of
	// these categories.
	ConsentCategories []adapter.Coding
}

// RequestActor is the recipient or user of a request.
type RequestActor struct {
	Role adapter.Coding
	// Reference names the receiving organisation, in normal form
	// (Organization?identifier=https://fhir.nhs.uk/Id/ods-organization-code|X,
	// or Organization/X: an organisation's id is its ODS code).
	Reference string
	// PersonLevel says the information goes to a person (or a system) acting
	// now, such as a link worker claiming or reading a referral, rather than
	// to the organisation as a whole (routing, a notification): provisions
	// naming persons apply only then.
	PersonLevel bool
	// Person is that person's own reference (the token's fhirUser, e.g.
	// "Practitioner/123"); "" for a system or when the token names nobody,
	// which a deny naming a person matches (who it is cannot be told).
	Person string
	// Via lists the agreements under which the organisation receives what
	// is shared with another (a VCSE partner of the network under the
	// network's data sharing agreement): in a Consent that cites the
	// agreement's policy, a provision naming Via.Reference names this
	// recipient too.
	Via []Agreement
}

// Agreement is a data sharing agreement that makes a recipient a partner of
// another organisation: Policy is the URI a Consent cites (Consent.policy),
// Reference the organisation a Consent names (normal form).
type Agreement struct {
	Policy    string
	Reference string
}

// Decision is the engine's answer, with what decided it for the audit
// record. Reason is plain words and names no patient data.
type Decision struct {
	Permit        bool
	ConsentID     string // "" when no Consent applied
	ProvisionPath string // e.g. "provision.provision[1]"
	Reason        string
}

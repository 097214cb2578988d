package adapter

// ServiceKind says whether a destination is a link-worker service (which
// holds a queue of referrals for link workers) or a VCSE service.
type ServiceKind string

// Service kinds.
const (
	KindLinkWorker ServiceKind = "link-worker"
	KindVCSE       ServiceKind = "vcse"
)

// ReferralMode says how a service takes people in.
type ReferralMode string

// Referral modes.
const (
	ModeFormalReferral   ReferralMode = "formal-referral"
	ModeSelfReferralOnly ReferralMode = "self-referral-only"
	ModeSignpostOnly     ReferralMode = "signpost-only"
)

// Organization is a providing organisation identified by its ODS code.
type Organization struct {
	ODS  string `json:"ods"`
	Name string `json:"name"`
}

// Contact is a named work contact for a service.
type Contact struct {
	Name  string `json:"name,omitempty"`
	Role  string `json:"role,omitempty"`
	Phone string `json:"phone,omitempty"`
	Email string `json:"email,omitempty"`
}

// Eligibility limits who a service can take.
type Eligibility struct {
	MinAge     int      `json:"minAge,omitempty"`
	MaxAge     int      `json:"maxAge,omitempty"`
	Languages  []string `json:"languages,omitempty"`
	Exclusions []string `json:"exclusions,omitempty"`
}

// OpeningHours is one block of availability.
type OpeningHours struct {
	Days  []string `json:"days"`
	Start string   `json:"start"`
	End   string   `json:"end"`
}

// Service is a destination in the service directory: the link-worker
// service of a primary care network, or a VCSE service. Each has its own
// queue. It is published as a FHIR HealthcareService.
type Service struct {
	ID           string
	Name         string
	Kind         ServiceKind
	ProvidedBy   Organization
	Categories   []Coding
	Types        []Coding
	Areas        []string // postcode districts or area codes served
	Eligibility  Eligibility
	ReferralMode ReferralMode
	Contact      Contact
	Hours        []OpeningHours
	// InitialMaxOpen is the caseload limit loaded at start-up when no
	// capacity has been recorded yet; 0 means unlimited.
	InitialMaxOpen int
	// SharingAgreement is the policy URI of the network's data sharing
	// agreement under which the service's provider is the network's
	// partner ("" when it is none): a Consent to share with the network
	// that cites it covers this service too (issue 17).
	SharingAgreement string
}

// ServiceRef is the FHIR reference to a service.
func ServiceRef(id string) string { return "HealthcareService/" + id }

package consent

import "github.com/social-prescribing/referral-adapter/adapter"

// Code systems the engine understands.
const (
	SystemScope         = "http://terminology.hl7.org/CodeSystem/consentscope"
	SystemAction        = "http://terminology.hl7.org/CodeSystem/consentaction"
	SystemActReason     = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
	SystemParticipation = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
	SystemActCode       = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	SystemResourceTypes = "http://hl7.org/fhir/resource-types"
)

// Codings requests are commonly built from.
var (
	ScopePrivacy = adapter.Coding{System: SystemScope, Code: "patient-privacy"}

	ActionCollect  = adapter.Coding{System: SystemAction, Code: "collect"}
	ActionAccess   = adapter.Coding{System: SystemAction, Code: "access"}
	ActionUse      = adapter.Coding{System: SystemAction, Code: "use"}
	ActionDisclose = adapter.Coding{System: SystemAction, Code: "disclose"}
	ActionCorrect  = adapter.Coding{System: SystemAction, Code: "correct"}

	PurposeTreat = adapter.Coding{System: SystemActReason, Code: "TREAT"}

	// RoleRecipient is the primary information recipient: who the
	// information goes to.
	RoleRecipient = adapter.Coding{System: SystemParticipation, Code: "PRCP"}
)

// ResourceClass is the class coding of a FHIR resource type, for
// provision.class.
func ResourceClass(resourceType string) adapter.Coding {
	return adapter.Coding{System: SystemResourceTypes, Code: resourceType}
}

// parents maps a code to the more general codes it specialises, within its
// system: a provision naming a general code matches a request stating a
// specialisation of it (HL7 v3 ParticipationType and ActReason hierarchies,
// the parts the adapter meets).
var parents = map[adapter.Coding][]adapter.Coding{
	{System: SystemParticipation, Code: "PRCP"}: {{System: SystemParticipation, Code: "IRCP"}},
	{System: SystemParticipation, Code: "REFB"}: {{System: SystemParticipation, Code: "IRCP"}},
	{System: SystemParticipation, Code: "REFT"}: {{System: SystemParticipation, Code: "IRCP"}},
	{System: SystemParticipation, Code: "TRC"}:  {{System: SystemParticipation, Code: "IRCP"}},
	{System: SystemParticipation, Code: "NOT"}:  {{System: SystemParticipation, Code: "IRCP"}},
	{System: SystemActReason, Code: "ETREAT"}:   {{System: SystemActReason, Code: "TREAT"}},
	{System: SystemActReason, Code: "COC"}:      {{System: SystemActReason, Code: "TREAT"}},
}

// subsumes reports whether general is c or an ancestor of c.
func subsumes(general, c adapter.Coding) bool {
	if general.Same(c) {
		return true
	}
	for _, p := range parents[adapter.Coding{System: c.System, Code: c.Code}] {
		if subsumes(general, p) {
			return true
		}
	}
	return false
}

// policyBase is the base policy a Consent's policyRule implies when its
// root provision states no type (v3 ActCode consent directive types).
func policyBase(rule []adapter.Coding) (Type, bool) {
	for _, c := range rule {
		if c.System != SystemActCode {
			continue
		}
		switch c.Code {
		case "OPTIN", "OPTINR":
			return Permit, true
		case "OPTOUT", "OPTOUTE":
			return Deny, true
		}
	}
	return "", false
}

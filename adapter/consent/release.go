package consent

import (
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Recipient is who information would be disclosed to: an organisation and,
// when a person (or a system) acts now, who that is.
type Recipient struct {
	Org string // ODS code of the receiving organisation
	// PersonLevel: a person or system of the organisation receives the
	// information now (a claim, a read, a search). Otherwise it goes to the
	// organisation as a whole (routing a referral to its service, a
	// notification), and provisions naming persons are checked when its
	// people act.
	PersonLevel bool
	// Person is the acting person's own reference in normal form (PersonRef
	// of the token's fhirUser); "" when the token names no person.
	Person string
	// Via are the data sharing agreements under which the organisation
	// receives what the patient shares with another (see Agreement).
	Via []Agreement
}

// Information is what would be disclosed: a resource of the patient's.
type Information struct {
	Patient   string // the patient's reference, as the Consents name them
	Type      string // resource type: ServiceRequest, Task, Observation, Communication...
	Reference string // "Observation/123"
	Related   []string
	// Codes are the information's codes and categories; Labels its
	// security labels (meta.security).
	Codes  []adapter.Coding
	Labels []adapter.Coding
	// Recorded is the information's own date (an Observation's effective
	// time, a referral's authoredOn, a message's sent time), for dataPeriod;
	// zero when it states none.
	Recorded time.Time
}

// Release is the one disclosure decision: whether the patient's consents
// permit disclosing the information to the recipient, for the patient's
// care, at now, and which consent and provision decided. Every door patient
// data leaves the adapter by asks it for the recipient actually receiving
// the data: routing and its fallbacks, releases from consent holds,
// re-routing and waitlist promotion, refer-on, claims, reads and searches,
// and outcomes and messages going back to the practice.
func Release(consents []Consent, to Recipient, info Information, now time.Time) Decision {
	return Decide(consents, releaseRequest(to, info), now)
}

func releaseRequest(to Recipient, info Information) Request {
	actor := RequestActor{Role: RoleRecipient, PersonLevel: to.PersonLevel, Person: to.Person, Via: to.Via}
	if to.Org != "" {
		actor.Reference = OrgRef(to.Org)
	}
	var classes []adapter.Coding
	if info.Type != "" {
		classes = []adapter.Coding{ResourceClass(info.Type)}
	}
	return Request{
		Patient: info.Patient, Actor: actor, Action: ActionDisclose, Purpose: PurposeTreat,
		Classes: classes, Codes: info.Codes, SecurityLabels: info.Labels,
		Data: info.Reference, Related: info.Related, DataTime: info.Recorded,
	}
}

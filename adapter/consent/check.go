package consent

import (
	"fmt"
	"strings"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// MaxClockSkew is how far in the future a Consent's dateTime may be before
// it is refused: clocks of two systems never agree exactly.
const MaxClockSkew = 5 * time.Minute

// roles are the actor roles the engine reads: HL7 v3 ParticipationType
// codes (the R4 example binding of Consent.provision.actor.role). A
// recipient role (IRCP and the codes under it) is what disclosure requests
// state; the others never match a disclosure in a permit, and in a deny
// they are read as written.
var roles = map[string]bool{
	"IRCP": true, "PRCP": true, "REFB": true, "REFT": true, "TRC": true, "NOT": true,
	"AUT": true, "AUTHEN": true, "CST": true, "DIR": true, "ENT": true, "INF": true, "LA": true,
	"PART": true, "RESP": true, "VRF": true, "WIT": true, "PPRF": true, "SPRF": true, "ATND": true,
	"CON": true, "ADM": true, "DIS": true, "PRF": true, "DEV": true,
}

// actions are the consent actions the engine reads
// (http://terminology.hl7.org/CodeSystem/consentaction).
var actions = map[string]bool{"collect": true, "access": true, "use": true, "disclose": true, "correct": true}

// Check lists what in a Consent the engine could not interpret, so that it
// is refused rather than stored as if it meant nothing: an actor that is
// not an organisation by ODS code (Organization?identifier= with the ODS
// system, or Organization/{id} where known(id) says the id is an
// organisation the adapter knows) or a person (Practitioner,
// PractitionerRole, RelatedPerson or Patient, literal or by identifier); an
// actor role or action outside the vocabularies above; a dateTime later
// than now plus MaxClockSkew. Each problem names its element.
func Check(c Consent, known func(ods string) bool, now time.Time) []*adapter.Error {
	var errs []*adapter.Error
	if c.DateTime.After(now.Add(MaxClockSkew)) {
		errs = append(errs, adapter.Errorf(adapter.EBUSINESSRULE,
			"Consent.dateTime is in the future: a consent is given when it is recorded").At("Consent.dateTime"))
	}
	if c.Provision != nil {
		errs = append(errs, c.Provision.check("Consent.provision", known)...)
	}
	return errs
}

func (p *Provision) check(path string, known func(string) bool) []*adapter.Error {
	var errs []*adapter.Error
	for i, a := range p.Actors {
		at := fmt.Sprintf("%s.actor[%d]", path, i)
		if err := a.check(at, known); err != nil {
			errs = append(errs, err)
		}
		for _, r := range a.Role {
			if r.System != SystemParticipation || !roles[r.Code] {
				errs = append(errs, adapter.Errorf(adapter.ECODEINVALID,
					"actor role %q is not one the adapter reads: use an HL7 v3 ParticipationType code such as IRCP or PRCP (%s)",
					adapter.Clip(r.System+"|"+r.Code, codeMax), SystemParticipation).At(at+".role"))
			}
		}
	}
	for i, a := range p.Actions {
		if a.System != SystemAction || !actions[a.Code] {
			errs = append(errs, adapter.Errorf(adapter.ECODEINVALID,
				"action %q is not one the adapter reads: use collect, access, use, disclose or correct (%s)",
				adapter.Clip(a.System+"|"+a.Code, codeMax), SystemAction).At(fmt.Sprintf("%s.action[%d]", path, i)))
		}
	}
	for i := range p.Provisions {
		errs = append(errs, p.Provisions[i].check(fmt.Sprintf("%s.provision[%d]", path, i), known)...)
	}
	return errs
}

// check says why an actor's reference cannot be read, or nil.
func (a Actor) check(at string, known func(string) bool) *adapter.Error {
	if a.Reference == "" && a.Identifier == "" {
		return adapter.Errorf(adapter.EBUSINESSRULE,
			"an actor must be referenced (an organisation by ODS code identifier, or a person): a display alone cannot be matched").At(at + ".reference")
	}
	for _, ref := range []string{a.Reference, a.Identifier} {
		if ref == "" {
			continue
		}
		switch pt := identify(ref); {
		case pt.kind == partyUnknown:
			return adapter.Errorf(adapter.EBUSINESSRULE,
				"the actor reference is neither an organisation by ODS code nor a Practitioner, PractitionerRole, RelatedPerson or Patient").At(at + ".reference")
		case pt.kind == partyOrg && !strings.Contains(ref, "?") && !known(pt.key):
			return adapter.Errorf(adapter.EBUSINESSRULE,
				"Organization/%s is not an organisation the adapter knows: name organisations by their ODS code (identifier system %s)",
				adapter.Clip(pt.key, codeMax), adapter.SystemODS).At(at + ".reference")
		}
	}
	return nil
}

// codeMax is how much of a caller-supplied code or reference an error
// message echoes.
const codeMax = 80

package consent

import (
	"strings"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// partyKind is what an actor reference names.
type partyKind int

const (
	partyUnknown partyKind = iota // a form the engine cannot interpret
	partyOrg                      // an organisation, by ODS code
	partyPerson                   // a person: Practitioner, PractitionerRole, RelatedPerson or Patient
)

// party is an actor reference read for comparison. key is the ODS code of an
// organisation, or the person's reference in normal form; form tells which
// kind of person reference it is (its type and, for a conditional reference,
// the identifier system), so that two person references are compared only
// when they can be (a literal Practitioner/1 says nothing about
// Practitioner?identifier=sds|9).
type party struct {
	kind partyKind
	key  string
	form string
}

// personTypes are the resource types a person actor may be.
var personTypes = map[string]bool{"Practitioner": true, "PractitionerRole": true, "RelatedPerson": true, "Patient": true}

// identify reads a reference in normal form: Organization/{ods} and
// Organization?identifier=https://fhir.nhs.uk/Id/ods-organization-code|{ods}
// name an organisation (a directory organisation's id is its ODS code); a
// literal or conditional Practitioner, PractitionerRole, RelatedPerson or
// Patient reference names a person. An absolute reference is read by its
// last two path segments. Anything else is unknown.
func identify(ref string) party {
	if ref == "" {
		return party{}
	}
	if typ, q, ok := strings.Cut(ref, "?identifier="); ok {
		typ = lastSegment(typ)
		system, value, ok := strings.Cut(q, "|")
		if !ok || value == "" || strings.ContainsAny(value, "/?&") {
			return party{}
		}
		switch {
		case (typ == "Organization" || typ == "") && system == adapter.SystemODS:
			return party{kind: partyOrg, key: strings.ToUpper(value)}
		case personTypes[typ]:
			return party{kind: partyPerson, key: typ + "?identifier=" + system + "|" + value, form: typ + "?" + system}
		}
		return party{}
	}
	typ, id := literal(ref)
	switch {
	case id == "":
		return party{}
	case typ == "Organization":
		return party{kind: partyOrg, key: strings.ToUpper(id)}
	case personTypes[typ]:
		return party{kind: partyPerson, key: typ + "/" + id, form: typ}
	}
	return party{}
}

// literal splits "Type/id" (or ".../Type/id", or ".../Type/id/_history/n")
// into its type and id; "" when ref is no literal reference.
func literal(ref string) (typ, id string) {
	if strings.HasPrefix(ref, "#") || strings.HasPrefix(ref, "urn:") {
		return "", ""
	}
	parts := strings.Split(strings.TrimSuffix(ref, "/"), "/")
	if n := len(parts); n >= 4 && parts[n-2] == "_history" {
		parts = parts[:n-2]
	}
	n := len(parts)
	if n < 2 || parts[n-1] == "" || parts[n-2] == "" {
		return "", ""
	}
	return parts[n-2], parts[n-1]
}

func lastSegment(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// OrgRef is an organisation's reference by ODS code, in normal form: how
// requests name their recipient.
func OrgRef(ods string) string {
	return "Organization?identifier=" + adapter.SystemODS + "|" + ods
}

// PersonRef reads a token's fhirUser (a reference, relative or absolute) as
// a person reference in normal form; "" when it names no person.
func PersonRef(fhirUser string) string {
	if p := identify(fhirUser); p.kind == partyPerson {
		return p.key
	}
	return ""
}

// parties lists what an actor entry's references name (its literal
// reference and its identifier, when both were given).
func (pa Actor) parties() []party {
	var out []party
	for _, ref := range []string{pa.Reference, pa.Identifier} {
		if ref != "" {
			out = append(out, identify(ref))
		}
	}
	return out
}

package fhir

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"time"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/consent"
)

// Dialogue and safeguarding (issue 9): Communication and Flag.
const (
	// ExtPatientApprovedSharing (valueBoolean) states, on a link worker's
	// or provider's message to the GP, whether the patient approved
	// sharing it: the FHIR form of the outcomes API's patientApprovedSharing.
	// No HL7 or UK Core element says this, so the adapter defines it.
	ExtPatientApprovedSharing = "https://social-prescribing.github.io/referral-adapter/StructureDefinition/patient-approved-sharing"
	// ExtFlagDetail is the R4 core extension flag-detail (valueReference):
	// R4 Flag has no basedOn, so a safeguarding Flag names the referral
	// (ServiceRequest/{id}, required) and optionally the Task it was raised
	// on (Task/{id}) with it.
	ExtFlagDetail = "http://hl7.org/fhir/StructureDefinition/flag-detail"
	// SystemFlagCategory is the HL7 flag category code system; "safety" is
	// added to a safeguarding Flag that lacks it.
	SystemFlagCategory = "http://terminology.hl7.org/CodeSystem/flag-category"
)

// CodingSafeguarding marks a safeguarding Flag (Flag.category) and the
// information in it: the adapter's information-sensitivity code, which the
// consent engine already treats as sensitive.
var CodingSafeguarding = adapter.Coding{System: consent.SystemSensitivity, Code: "safeguarding", Display: "Safeguarding"}

// CommunicationFacts is what a Communication says, as read: the dialogue
// package decides what it accepts. References are in refString's forms.
type CommunicationFacts struct {
	Status        string
	Contained     int // how many contained resources
	Modifiers     int // how many modifierExtensions
	BasedOn       []string
	PartOf, About []string
	InResponseTo  []string
	// Payloads holds each payload's contentString, nil where the content
	// is of another type (an attachment, a reference).
	Payloads []*string
	// Approvals are the ExtPatientApprovedSharing extensions.
	Approvals  []BoolExtension
	Subject    string
	Sender     string
	Recipients []string
	Sent       time.Time        // zero when left out (the server fills it)
	Categories []adapter.Coding // category and topic
	Security   []adapter.Coding // meta.security
}

// BoolExtension is one extension of a resource: its index among the
// resource's extensions and its valueBoolean, nil when it has none.
type BoolExtension struct {
	Index int
	Value *bool
}

// RefExtension is one extension of a resource: its index among the
// resource's extensions and its valueReference in refString's forms.
type RefExtension struct {
	Index int
	Ref   string
}

// CommunicationFrom reads the facts of a parsed Communication.
func CommunicationFrom(res *Resource) (CommunicationFacts, error) {
	m := res.Msg.GetCommunication()
	if m == nil {
		return CommunicationFacts{}, adapter.Errorf(adapter.EINVALID, "expected a Communication resource").At("resourceType")
	}
	f := CommunicationFacts{Status: codeString(m.GetStatus()), Contained: len(m.GetContained()), Modifiers: len(m.GetModifierExtension()),
		BasedOn: refStrings(m.GetBasedOn()), PartOf: refStrings(m.GetPartOf()), About: refStrings(m.GetAbout()),
		InResponseTo: refStrings(m.GetInResponseTo()),
		Subject:      refString(m.GetSubject()), Sender: refString(m.GetSender()), Recipients: refStrings(m.GetRecipient()),
		Sent: dateTime(m.GetSent())}
	for _, p := range m.GetPayload() {
		var text *string
		if s := p.GetContent().GetStringValue(); s != nil {
			v := s.GetValue()
			text = &v
		}
		f.Payloads = append(f.Payloads, text)
	}
	for i, e := range m.GetExtension() {
		if e.GetUrl().GetValue() != ExtPatientApprovedSharing {
			continue
		}
		x := BoolExtension{Index: i}
		if b := e.GetValue().GetBoolean(); b != nil {
			v := b.GetValue()
			x.Value = &v
		}
		f.Approvals = append(f.Approvals, x)
	}
	f.Categories = codings(m.GetCategory()...)
	f.Categories = append(f.Categories, codings(m.GetTopic())...)
	for _, c := range m.GetMeta().GetSecurity() {
		f.Security = append(f.Security, adapter.Coding{System: c.GetSystem().GetValue(), Code: c.GetCode().GetValue()})
	}
	return f, nil
}

// FlagFacts is what a Flag says, as read: the dialogue package decides
// what it accepts. References are in refString's forms.
type FlagFacts struct {
	Status      string
	Contained   int // how many contained resources
	Modifiers   int // how many modifierExtensions
	Categories  []adapter.Coding
	CodeCodings int            // how many codings code has
	CodeText    string         // code.text
	Details     []RefExtension // the ExtFlagDetail extensions
	Subject     string
	Author      string
}

// FlagFrom reads the facts of a parsed Flag.
func FlagFrom(res *Resource) (FlagFacts, error) {
	m := res.Msg.GetFlag()
	if m == nil {
		return FlagFacts{}, adapter.Errorf(adapter.EINVALID, "expected a Flag resource").At("resourceType")
	}
	f := FlagFacts{Status: codeString(m.GetStatus()), Contained: len(m.GetContained()), Modifiers: len(m.GetModifierExtension()),
		Categories: codings(m.GetCategory()...), CodeCodings: len(m.GetCode().GetCoding()), CodeText: m.GetCode().GetText().GetValue(),
		Subject: refString(m.GetSubject()), Author: refString(m.GetAuthor())}
	for i, e := range m.GetExtension() {
		if e.GetUrl().GetValue() == ExtFlagDetail {
			f.Details = append(f.Details, RefExtension{Index: i, Ref: refString(e.GetValue().GetReference())})
		}
	}
	return f, nil
}

// fhirID is the FHIR id datatype.
var fhirID = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

// IDOf returns the id of a relative literal reference "Type/{id}" of the
// given type, or "".
func IDOf(kind, ref string) string {
	id, ok := strings.CutPrefix(ref, kind+"/")
	if !ok || !fhirID.MatchString(id) {
		return ""
	}
	return id
}

// Fill lists what the server adds to a dialogue resource it accepts, each
// only where the sender left the element out, so the stored resource says
// who wrote to whom about what.
type Fill struct {
	Set map[string]any // element → value, set when absent (e.g. "sender")
}

// OrgRef is a Reference to an organisation by ODS code, as JSON.
func OrgRef(ods, display string) map[string]any {
	r := map[string]any{"type": "Organization", "identifier": map[string]any{"system": adapter.SystemODS, "value": ods}}
	if display != "" {
		r["display"] = display
	}
	return r
}

// LiteralRef is a Reference "Type/{id}", as JSON.
func LiteralRef(ref, display string) map[string]any {
	r := map[string]any{"reference": ref}
	if display != "" {
		r["display"] = display
	}
	return r
}

// StampDialogue returns the validated resource with the server's id, meta
// and the filled elements set. The rest of the bytes are the client's.
func StampDialogue(raw []byte, id string, now time.Time, fill Fill) ([]byte, error) {
	out, err := Stamp(raw, id, 1, now)
	if err != nil {
		return nil, err
	}
	for path, v := range fill.Set {
		if gjson.GetBytes(out, path).Exists() {
			continue
		}
		if out, err = sjson.SetBytes(out, path, v); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, out); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

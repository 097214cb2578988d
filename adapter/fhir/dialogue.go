package fhir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	dtpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
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
	// MaxMessageChars bounds one payload.contentString.
	MaxMessageChars = 8000
)

// CodingSafeguarding marks a safeguarding Flag (Flag.category) and the
// information in it: the adapter's information-sensitivity code, which the
// consent engine already treats as sensitive.
var CodingSafeguarding = adapter.Coding{System: consent.SystemSensitivity, Code: "safeguarding", Display: "Safeguarding"}

// CommunicationFacts is what the adapter needs from a Communication it is
// sent. References are in refString's forms.
type CommunicationFacts struct {
	Referral     string // ServiceRequest id from basedOn
	Task         string // Task id from partOf or about; "" when none named
	InResponseTo string // Communication id; "" when not a reply
	Subject      string
	Sender       string
	Recipients   []string
	Approved     *bool // ExtPatientApprovedSharing; nil when absent
	Categories   []adapter.Coding
	Security     []adapter.Coding
}

// CommunicationFrom checks a parsed Communication against what the
// dialogue accepts and reads its facts. Every problem is reported at once,
// each pointing at its element; no message text is ever echoed.
func CommunicationFrom(res *Resource) (CommunicationFacts, error) {
	var f CommunicationFacts
	m := res.Msg.GetCommunication()
	if m == nil {
		return f, adapter.Errorf(adapter.EINVALID, "expected a Communication resource").At("resourceType")
	}
	var errs []*adapter.Error
	bad := func(code, expr, format string, args ...any) {
		errs = append(errs, adapter.Errorf(code, format, args...).At("Communication."+expr))
	}
	if st := codeString(m.GetStatus()); st != "completed" {
		bad(adapter.EBUSINESSRULE, "status", "a message must have status completed (sent), not %s", st)
	}
	if len(m.GetContained()) > 0 {
		bad(adapter.ENOTSUPPORTED, "contained", "contained resources are not supported on a message")
	}
	if len(m.GetModifierExtension()) > 0 {
		bad(adapter.ENOTSUPPORTED, "modifierExtension", "modifier extensions are not understood here")
	}
	// basedOn: the referral, exactly once.
	switch based := refStrings(m.GetBasedOn()); {
	case len(based) == 0:
		bad(adapter.EREQUIRED, "basedOn", "basedOn must name the referral, ServiceRequest/{id}")
	case len(based) > 1:
		bad(adapter.EVALUE, "basedOn", "basedOn must name exactly one referral")
	default:
		if f.Referral = idOf("ServiceRequest", based[0]); f.Referral == "" {
			bad(adapter.EVALUE, "basedOn[0]", "basedOn must be a ServiceRequest/{id} reference")
		}
	}
	// partOf and about: the referral's Task (at most one), or the referral.
	// In that order, so a second Task is always reported at the same place.
	for _, el := range []struct {
		field string
		refs  []*dtpb.Reference
	}{{"partOf", m.GetPartOf()}, {"about", m.GetAbout()}} {
		field := el.field
		for i, r := range el.refs {
			s := refString(r)
			if id := idOf("Task", s); id != "" {
				if f.Task != "" && f.Task != id {
					bad(adapter.EVALUE, fmt.Sprintf("%s[%d]", field, i), "a message belongs to one Task")
				}
				f.Task = id
				continue
			}
			if f.Referral != "" && idOf("ServiceRequest", s) == f.Referral {
				continue
			}
			bad(adapter.EVALUE, fmt.Sprintf("%s[%d]", field, i), "%s may only name the referral's Task or the referral itself", field)
		}
	}
	switch rt := refStrings(m.GetInResponseTo()); {
	case len(rt) > 1:
		bad(adapter.EVALUE, "inResponseTo", "a message answers at most one message")
	case len(rt) == 1:
		if f.InResponseTo = idOf(adapter.KindCommunication, rt[0]); f.InResponseTo == "" {
			bad(adapter.EVALUE, "inResponseTo[0]", "inResponseTo must be a Communication/{id} reference")
		}
	}
	if len(m.GetPayload()) == 0 {
		bad(adapter.EREQUIRED, "payload", "a message needs at least one payload.contentString")
	}
	for i, p := range m.GetPayload() {
		s := p.GetContent().GetStringValue()
		switch {
		case s == nil:
			bad(adapter.ENOTSUPPORTED, fmt.Sprintf("payload[%d].content[x]", i), "only payload.contentString is supported")
		case strings.TrimSpace(s.GetValue()) == "":
			bad(adapter.EREQUIRED, fmt.Sprintf("payload[%d].contentString", i), "payload.contentString is empty")
		case utf8.RuneCountInString(s.GetValue()) > MaxMessageChars:
			bad(adapter.EVALUE, fmt.Sprintf("payload[%d].contentString", i), "a message payload is limited to %d characters", MaxMessageChars)
		}
	}
	for i, e := range m.GetExtension() {
		if e.GetUrl().GetValue() != ExtPatientApprovedSharing {
			continue
		}
		b := e.GetValue().GetBoolean()
		switch {
		case b == nil:
			bad(adapter.EVALUE, fmt.Sprintf("extension[%d]", i), "patient-approved-sharing needs a valueBoolean")
		case f.Approved != nil:
			bad(adapter.EVALUE, fmt.Sprintf("extension[%d]", i), "patient-approved-sharing is stated more than once")
		default:
			v := b.GetValue()
			f.Approved = &v
		}
	}
	f.Subject, f.Sender, f.Recipients = refString(m.GetSubject()), refString(m.GetSender()), refStrings(m.GetRecipient())
	f.Categories = codings(m.GetCategory()...)
	f.Categories = append(f.Categories, codings(m.GetTopic())...)
	for _, c := range m.GetMeta().GetSecurity() {
		f.Security = append(f.Security, adapter.Coding{System: c.GetSystem().GetValue(), Code: c.GetCode().GetValue()})
	}
	if len(errs) > 0 {
		return f, combine(errs)
	}
	return f, nil
}

// FlagFacts is what the adapter needs from a safeguarding Flag.
type FlagFacts struct {
	Referral string // ServiceRequest id from flag-detail
	Task     string // Task id from flag-detail; "" when none named
	Subject  string
	Author   string
}

// FlagFrom checks a parsed Flag is a safeguarding concern the adapter
// accepts (status active, category safeguarding, the referral named by
// flag-detail) and reads its facts.
func FlagFrom(res *Resource) (FlagFacts, error) {
	var f FlagFacts
	m := res.Msg.GetFlag()
	if m == nil {
		return f, adapter.Errorf(adapter.EINVALID, "expected a Flag resource").At("resourceType")
	}
	var errs []*adapter.Error
	bad := func(code, expr, format string, args ...any) {
		errs = append(errs, adapter.Errorf(code, format, args...).At("Flag."+expr))
	}
	if st := codeString(m.GetStatus()); st != "active" {
		bad(adapter.EBUSINESSRULE, "status", "a safeguarding concern is raised with status active, not %s", st)
	}
	if len(m.GetContained()) > 0 {
		bad(adapter.ENOTSUPPORTED, "contained", "contained resources are not supported on a Flag")
	}
	if len(m.GetModifierExtension()) > 0 {
		bad(adapter.ENOTSUPPORTED, "modifierExtension", "modifier extensions are not understood here")
	}
	safeguarding := false
	for _, c := range codings(m.GetCategory()...) {
		safeguarding = safeguarding || c.Same(CodingSafeguarding)
	}
	if !safeguarding {
		bad(adapter.EBUSINESSRULE, "category", "only safeguarding Flags are accepted: category must include %s|%s",
			CodingSafeguarding.System, CodingSafeguarding.Code)
	}
	if len(m.GetCode().GetCoding()) == 0 && strings.TrimSpace(m.GetCode().GetText().GetValue()) == "" {
		bad(adapter.EREQUIRED, "code", "code must say what the concern is (a coding or text)")
	}
	for i, e := range m.GetExtension() {
		if e.GetUrl().GetValue() != ExtFlagDetail {
			continue
		}
		s := refString(e.GetValue().GetReference())
		expr := fmt.Sprintf("extension[%d]", i)
		switch {
		case idOf("ServiceRequest", s) != "":
			if f.Referral != "" {
				bad(adapter.EVALUE, expr, "flag-detail names more than one referral")
			}
			f.Referral = idOf("ServiceRequest", s)
		case idOf("Task", s) != "":
			if f.Task != "" {
				bad(adapter.EVALUE, expr, "flag-detail names more than one Task")
			}
			f.Task = idOf("Task", s)
		default:
			bad(adapter.EVALUE, expr, "flag-detail must be a ServiceRequest/{id} or Task/{id} valueReference")
		}
	}
	if f.Referral == "" && !hasIssueAt(errs, "Flag.extension") {
		bad(adapter.EREQUIRED, "extension", "the referral must be named by the extension %s (valueReference ServiceRequest/{id})", ExtFlagDetail)
	}
	f.Subject, f.Author = refString(m.GetSubject()), refString(m.GetAuthor())
	if len(errs) > 0 {
		return f, combine(errs)
	}
	return f, nil
}

func hasIssueAt(errs []*adapter.Error, prefix string) bool {
	for _, e := range errs {
		for _, x := range e.Expression {
			if strings.HasPrefix(x, prefix) {
				return true
			}
		}
	}
	return false
}

// fhirID is the FHIR id datatype.
var fhirID = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

// idOf returns the id of a relative literal reference "Type/{id}" of the
// given type, or "".
func idOf(kind, ref string) string {
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

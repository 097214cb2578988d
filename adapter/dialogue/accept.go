package dialogue

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// MaxMessageChars bounds one payload.contentString.
const MaxMessageChars = 8000

// message is what the dialogue reads from a Communication it accepts.
type message struct {
	fhir.CommunicationFacts
	Referral     string // ServiceRequest id from basedOn
	Task         string // Task id from partOf or about; "" when none named
	InResponseTo string // Communication id; "" when not a reply
	Approved     *bool  // fhir.ExtPatientApprovedSharing; nil when absent
}

// issues gathers every problem with a resource, each at its element.
type issues struct {
	kind string // the resource type, the root of every expression
	errs []*adapter.Error
}

func (is *issues) add(code, expr, format string, args ...any) {
	is.errs = append(is.errs, adapter.Errorf(code, format, args...).At(is.kind+"."+expr))
}

// unread refuses what the dialogue does not read: contained resources
// and modifier extensions (what is the resource, e.g. "a message").
func (is *issues) unread(contained, modifiers int, what string) {
	if contained > 0 {
		is.add(adapter.ENOTSUPPORTED, "contained", "contained resources are not supported on %s", what)
	}
	if modifiers > 0 {
		is.add(adapter.ENOTSUPPORTED, "modifierExtension", "modifier extensions are not understood here")
	}
}

// err is every problem at once, or nil.
func (is *issues) err() error {
	if len(is.errs) == 0 {
		return nil
	}
	return adapter.Combine(is.errs)
}

// acceptMessage checks a Communication against what the dialogue accepts
// and reads what it names. Every problem is reported at once, each
// pointing at its element; no message text is ever echoed.
func acceptMessage(f fhir.CommunicationFacts) (message, error) {
	m := message{CommunicationFacts: f}
	is := &issues{kind: adapter.KindCommunication}
	if f.Status != "completed" {
		is.add(adapter.EBUSINESSRULE, "status", "a message must have status completed (sent), not %s", f.Status)
	}
	is.unread(f.Contained, f.Modifiers, "a message")
	m.Referral = basedOn(is, f.BasedOn)
	m.Task = messageTask(is, m.Referral, f.PartOf, f.About)
	m.InResponseTo = inResponseTo(is, f.InResponseTo)
	payloads(is, f.Payloads)
	m.Approved = approval(is, f.Approvals)
	return m, is.err()
}

// basedOn is the referral a message is about, named exactly once.
func basedOn(is *issues, based []string) string {
	switch {
	case len(based) == 0:
		is.add(adapter.EREQUIRED, "basedOn", "basedOn must name the referral, ServiceRequest/{id}")
	case len(based) > 1:
		is.add(adapter.EVALUE, "basedOn", "basedOn must name exactly one referral")
	default:
		id := fhir.IDOf("ServiceRequest", based[0])
		if id == "" {
			is.add(adapter.EVALUE, "basedOn[0]", "basedOn must be a ServiceRequest/{id} reference")
		}
		return id
	}
	return ""
}

// messageTask is the referral's Task named by partOf and about (at most
// one), which may also name the referral. They are read in that order, so
// a second Task is always reported at the same place.
func messageTask(is *issues, referral string, partOf, about []string) string {
	task := ""
	for _, el := range []struct {
		field string
		refs  []string
	}{{"partOf", partOf}, {"about", about}} {
		for i, s := range el.refs {
			if id := fhir.IDOf("Task", s); id != "" {
				if task != "" && task != id {
					is.add(adapter.EVALUE, fmt.Sprintf("%s[%d]", el.field, i), "a message belongs to one Task")
				}
				task = id
				continue
			}
			if referral != "" && fhir.IDOf("ServiceRequest", s) == referral {
				continue
			}
			is.add(adapter.EVALUE, fmt.Sprintf("%s[%d]", el.field, i), "%s may only name the referral's Task or the referral itself", el.field)
		}
	}
	return task
}

// inResponseTo is the message a message answers, if any.
func inResponseTo(is *issues, refs []string) string {
	switch {
	case len(refs) > 1:
		is.add(adapter.EVALUE, "inResponseTo", "a message answers at most one message")
	case len(refs) == 1:
		id := fhir.IDOf(adapter.KindCommunication, refs[0])
		if id == "" {
			is.add(adapter.EVALUE, "inResponseTo[0]", "inResponseTo must be a Communication/{id} reference")
		}
		return id
	}
	return ""
}

// payloads checks a message's text: at least one, each plain text, not
// blank and within MaxMessageChars.
func payloads(is *issues, texts []*string) {
	if len(texts) == 0 {
		is.add(adapter.EREQUIRED, "payload", "a message needs at least one payload.contentString")
	}
	for i, s := range texts {
		switch {
		case s == nil:
			is.add(adapter.ENOTSUPPORTED, fmt.Sprintf("payload[%d].content[x]", i), "only payload.contentString is supported")
		case strings.TrimSpace(*s) == "":
			is.add(adapter.EREQUIRED, fmt.Sprintf("payload[%d].contentString", i), "payload.contentString is empty")
		case utf8.RuneCountInString(*s) > MaxMessageChars:
			is.add(adapter.EVALUE, fmt.Sprintf("payload[%d].contentString", i), "a message payload is limited to %d characters", MaxMessageChars)
		}
	}
}

// approval is the patient's approval of sharing, stated at most once.
func approval(is *issues, exts []fhir.BoolExtension) *bool {
	var approved *bool
	for _, e := range exts {
		at := fmt.Sprintf("extension[%d]", e.Index)
		switch {
		case e.Value == nil:
			is.add(adapter.EVALUE, at, "patient-approved-sharing needs a valueBoolean")
		case approved != nil:
			is.add(adapter.EVALUE, at, "patient-approved-sharing is stated more than once")
		default:
			approved = e.Value
		}
	}
	return approved
}

// flag is what the dialogue reads from a safeguarding Flag it accepts.
type flag struct {
	fhir.FlagFacts
	Referral string // ServiceRequest id from flag-detail
	Task     string // Task id from flag-detail; "" when none named
}

// acceptFlag checks a Flag is a safeguarding concern the dialogue accepts
// (status active, category safeguarding, the referral named by
// flag-detail) and reads what it names.
func acceptFlag(f fhir.FlagFacts) (flag, error) {
	fl := flag{FlagFacts: f}
	is := &issues{kind: adapter.KindFlag}
	if f.Status != "active" {
		is.add(adapter.EBUSINESSRULE, "status", "a safeguarding concern is raised with status active, not %s", f.Status)
	}
	is.unread(f.Contained, f.Modifiers, "a Flag")
	safeguarding := false
	for _, c := range f.Categories {
		safeguarding = safeguarding || c.Same(fhir.CodingSafeguarding)
	}
	if !safeguarding {
		is.add(adapter.EBUSINESSRULE, "category", "only safeguarding Flags are accepted: category must include %s|%s",
			fhir.CodingSafeguarding.System, fhir.CodingSafeguarding.Code)
	}
	if f.CodeCodings == 0 && strings.TrimSpace(f.CodeText) == "" {
		is.add(adapter.EREQUIRED, "code", "code must say what the concern is (a coding or text)")
	}
	fl.Referral, fl.Task = flagDetails(is, f.Details)
	return fl, is.err()
}

// flagDetails are the referral (required) and Task a Flag's flag-detail
// extensions name, each at most once.
func flagDetails(is *issues, details []fhir.RefExtension) (referral, task string) {
	bad := false
	for _, d := range details {
		at := fmt.Sprintf("extension[%d]", d.Index)
		switch {
		case fhir.IDOf("ServiceRequest", d.Ref) != "":
			if referral != "" {
				is.add(adapter.EVALUE, at, "flag-detail names more than one referral")
				bad = true
			}
			referral = fhir.IDOf("ServiceRequest", d.Ref)
		case fhir.IDOf("Task", d.Ref) != "":
			if task != "" {
				is.add(adapter.EVALUE, at, "flag-detail names more than one Task")
				bad = true
			}
			task = fhir.IDOf("Task", d.Ref)
		default:
			is.add(adapter.EVALUE, at, "flag-detail must be a ServiceRequest/{id} or Task/{id} valueReference")
			bad = true
		}
	}
	if referral == "" && !bad {
		is.add(adapter.EREQUIRED, "extension", "the referral must be named by the extension %s (valueReference ServiceRequest/{id})", fhir.ExtFlagDetail)
	}
	return referral, task
}

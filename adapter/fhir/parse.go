package fhir

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/google/fhir/go/fhirversion"
	"github.com/google/fhir/go/jsonformat"
	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
	"github.com/tidwall/gjson"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Parser parses and validates FHIR R4 JSON. It is safe for concurrent use.
type Parser struct {
	u        *jsonformat.Unmarshaller
	consents *consentCache // stored Consents in engine form (Consents)
	sent     *sentCache    // Consents a practice sent that passed (ParseSent)
}

// NewParser returns a Parser that validates required elements, reference
// types, primitive formats and required code bindings.
func NewParser() (*Parser, error) {
	u, err := jsonformat.NewUnmarshaller("UTC", fhirversion.R4)
	if err != nil {
		return nil, fmt.Errorf("fhir: new unmarshaller: %w", err)
	}
	u.MaxNestingDepth = MaxDepth
	return &Parser{u: u, consents: newConsentCache(), sent: newSentCache()}, nil
}

// Resource is a parsed, validated resource and the bytes it came from.
type Resource struct {
	Type string
	Msg  *bcrpb.ContainedResource
	Raw  []byte
}

var resourceTypeName = regexp.MustCompile(`^[A-Z][A-Za-z]{1,63}$`)

// Parse checks body as strict JSON, checks its resourceType is one of want
// (any when want is empty), and parses and validates it. Every failure is an
// *adapter.Error listing all problems found, each with the element's path.
func (p *Parser) Parse(body []byte, want ...string) (*Resource, error) {
	rt, err := checkStrict(body)
	if err != nil {
		return nil, err
	}
	if rt == "" {
		return nil, adapter.Errorf(adapter.EREQUIRED, "the resource has no resourceType").At("resourceType")
	}
	if len(want) > 0 && !slices.Contains(want, rt) {
		if !resourceTypeName.MatchString(rt) {
			rt = "an unknown type"
		}
		return nil, adapter.Errorf(adapter.EINVALID, "expected a %s resource, got %s", strings.Join(want, " or "), rt).At("resourceType")
	}
	rep := &reporter{}
	msg, err := p.u.UnmarshalWithErrorReporter(body, rep)
	if err != nil {
		return nil, libraryError(err)
	}
	if len(rep.issues) > 0 {
		return nil, combine(rep.issues)
	}
	cr, ok := msg.(*bcrpb.ContainedResource)
	if !ok {
		return nil, adapter.Errorf(adapter.EINTERNAL, "unexpected parse result")
	}
	// What the library does not check (invariants.go, codecase.go).
	issues := checkCodeCase(rt, gjson.ParseBytes(body))
	issues = append(issues, checkInvariants(rt, body)...)
	if len(issues) > 0 {
		return nil, combine(issues)
	}
	return &Resource{Type: rt, Msg: cr, Raw: body}, nil
}

// reporter collects validation errors from the FHIR library.
type reporter struct{ issues []*adapter.Error }

func (r *reporter) ReportValidationError(path string, err error) error {
	r.issues = append(r.issues, classify(path, field(err, "Details"), err))
	return nil
}

// ReportValidationWarning ignores warnings: the library reports none that
// should change whether a resource is accepted.
func (r *reporter) ReportValidationWarning(string, error) error { return nil }

var elementName = regexp.MustCompile(`^_?[A-Za-z][A-Za-z0-9]{0,63}$`)

// unknownElement names the unknown member when its name looks like an
// element name (a key, never a value); otherwise points at its parent.
func unknownElement(path string, err error) *adapter.Error {
	name, qerr := strconv.Unquote(field(err, "Diagnostics"))
	if qerr == nil && elementName.MatchString(name) {
		return adapter.Errorf(adapter.ESTRUCTURE, "unknown element %q", name).At(joinPath(path, name))
	}
	return adapter.Errorf(adapter.ESTRUCTURE, "unknown element").At(path)
}

var missingField = regexp.MustCompile(`missing required field "([^"]+)"`)

// classify turns one library error into a domain error. The library's
// messages name elements and expectations, never values.
func classify(path, details string, err error) *adapter.Error {
	path = normalisePath(path)
	msg := err.Error()
	switch {
	case missingField.MatchString(msg):
		f := missingField.FindStringSubmatch(msg)[1]
		return adapter.Errorf(adapter.EREQUIRED, "missing required element %q", f).At(joinPath(path, f))
	case details == "unknown field":
		return unknownElement(path, err)
	case details == "code type mismatch" || details == "expected code":
		return adapter.Errorf(adapter.ECODEINVALID, "code is not in the required value set").At(path)
	case strings.Contains(details, "resource type"):
		return adapter.Errorf(adapter.EINVALID, "%s", details).At(path)
	case strings.Contains(details, "reference"):
		return adapter.Errorf(adapter.EVALUE, "%s", details).At(path)
	case details == "invalid JSON" && path != "":
		// The body is well-formed JSON (it was read whole before); an
		// element's value is of a JSON type its FHIR type cannot be.
		return adapter.Errorf(adapter.ESTRUCTURE,
			"the value is not the JSON FHIR gives this element (an object for a complex type, a string, number or boolean for a primitive, an array when it repeats)").At(path)
	case details == "invalid JSON":
		return adapter.Errorf(adapter.ESTRUCTURE, "malformed JSON")
	case details == "expected array":
		return adapter.Errorf(adapter.ESTRUCTURE, "expected an array: the element repeats, so FHIR JSON writes it as an array even of one").At(path)
	case details != "":
		return adapter.Errorf(adapter.EVALUE, "%s", details).At(path)
	}
	return adapter.Errorf(adapter.EINVALID, "invalid element").At(path)
}

// innerResource matches the library's name for the resource inside a
// Bundle entry or contained list, which FHIRPath spells without the type
// segment. The library writes it as the type ("entry[2].resource.Consent"),
// in lower camel case ("entry[1].resource.serviceRequest") or as the proto
// field ("entry[2].resource.service_request"), depending on the check.
var innerResource = regexp.MustCompile(`(\.resource|contained\[\d+\])\.[A-Za-z][A-Za-z_]*(\.|$)`)

func normalisePath(path string) string {
	return innerResource.ReplaceAllString(path, "$1$2")
}

func joinPath(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

// libraryError converts the error returned by Unmarshal, which is an
// (internal) UnmarshalError or list of them, read through reflection.
func libraryError(err error) error {
	v := reflect.ValueOf(err)
	if v.Kind() == reflect.Slice {
		issues := make([]*adapter.Error, 0, v.Len())
		for i := 0; i < v.Len(); i++ {
			if e, ok := v.Index(i).Interface().(error); ok {
				issues = append(issues, classify(field(e, "Path"), field(e, "Details"), e))
			}
		}
		if len(issues) > 0 {
			return combine(issues)
		}
	}
	var depth = strings.Contains(err.Error(), "nesting depth")
	if depth {
		return adapter.Errorf(adapter.ESTRUCTURE, "JSON nested deeper than %d levels", MaxDepth)
	}
	return classify(field(err, "Path"), field(err, "Details"), err)
}

func field(err error, name string) string {
	v := reflect.ValueOf(err)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return ""
	}
	f := v.FieldByName(name)
	if !f.IsValid() || f.Kind() != reflect.String {
		return ""
	}
	return f.String()
}

// combine returns the first issue with the others attached, so the caller
// sees every problem at once.
func combine(issues []*adapter.Error) *adapter.Error { return adapter.Combine(issues) }

package fhir

import (
	"strings"
	"time"

	dtpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Small constructors for FHIR datatypes, used when rendering domain values.

func str(s string) *dtpb.String { return &dtpb.String{Value: s} }
func uri(s string) *dtpb.Uri    { return &dtpb.Uri{Value: s} }
func code(s string) *dtpb.Code  { return &dtpb.Code{Value: s} }
func id(s string) *dtpb.Id      { return &dtpb.Id{Value: s} }

func coding(c adapter.Coding) *dtpb.Coding {
	out := &dtpb.Coding{System: uri(c.System), Code: code(c.Code)}
	if c.Display != "" {
		out.Display = str(c.Display)
	}
	return out
}

func concept(text string, cs ...adapter.Coding) *dtpb.CodeableConcept {
	cc := &dtpb.CodeableConcept{}
	for _, c := range cs {
		if !c.IsZero() {
			cc.Coding = append(cc.Coding, coding(c))
		}
	}
	if text != "" {
		cc.Text = str(text)
	}
	return cc
}

// reference builds a Reference from the string forms refString produces.
func reference(s, display string) *dtpb.Reference {
	if s == "" {
		return nil
	}
	r := &dtpb.Reference{}
	if t, ident, ok := strings.Cut(s, "?identifier="); ok {
		sys, val, _ := strings.Cut(ident, "|")
		r.Type = uri(t)
		r.Identifier = &dtpb.Identifier{System: uri(sys), Value: str(val)}
	} else {
		r.Reference = &dtpb.Reference_Uri{Uri: str(s)}
	}
	if display != "" {
		r.Display = str(display)
	}
	return r
}

func dateTimeOf(t time.Time) *dtpb.DateTime {
	if t.IsZero() {
		return nil
	}
	return &dtpb.DateTime{ValueUs: t.UnixMicro(), Timezone: "Z", Precision: dtpb.DateTime_SECOND}
}

func instantOf(t time.Time) *dtpb.Instant {
	return &dtpb.Instant{ValueUs: t.UnixMicro(), Timezone: "Z", Precision: dtpb.Instant_MILLISECOND}
}

// setCode sets a generated enum-code message (e.g. Task_StatusCode) from a
// FHIR code such as "in-progress". It reports whether the code is known.
func setCode(m proto.Message, fhirCode string) bool {
	r := m.ProtoReflect()
	f := r.Descriptor().Fields().ByName("value")
	if f == nil || f.Kind() != protoreflect.EnumKind {
		return false
	}
	name := strings.ToUpper(strings.ReplaceAll(fhirCode, "-", "_"))
	v := f.Enum().Values().ByName(protoreflect.Name(name))
	if v == nil {
		return false
	}
	r.Set(f, protoreflect.ValueOfEnum(v.Number()))
	return true
}

// withCode returns m after setCode, for use in composite literals.
func withCode[M proto.Message](m M, fhirCode string) M {
	setCode(m, fhirCode)
	return m
}

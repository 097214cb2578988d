package fhir

import (
	"slices"
	"strings"
	"time"

	"github.com/google/fhir/go/jsonformat"
	dtpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// codeString returns the FHIR code of a generated enum-code message (such as
// ServiceRequest_StatusCode), e.g. "entered-in-error". Empty when unset.
func codeString(m proto.Message) string {
	if m == nil || !m.ProtoReflect().IsValid() {
		return ""
	}
	r := m.ProtoReflect()
	f := r.Descriptor().Fields().ByName("value")
	if f == nil || f.Kind() != protoreflect.EnumKind || !r.Has(f) {
		return ""
	}
	v := f.Enum().Values().ByNumber(r.Get(f).Enum())
	if v == nil || v.Number() == 0 {
		return ""
	}
	return strings.ReplaceAll(strings.ToLower(string(v.Name())), "_", "-")
}

func codings(ccs ...*dtpb.CodeableConcept) []adapter.Coding {
	var out []adapter.Coding
	for _, cc := range ccs {
		for _, c := range cc.GetCoding() {
			if c.GetCode().GetValue() == "" {
				continue
			}
			out = append(out, adapter.Coding{System: c.GetSystem().GetValue(), Code: c.GetCode().GetValue(), Display: c.GetDisplay().GetValue()})
		}
	}
	return out
}

// refString renders a Reference as a string: the literal reference when it
// has one ("Patient/123", "urn:uuid:...", "#frag"), or a conditional
// reference "Type?identifier=system|value" when it only carries a business
// identifier. Display text is deliberately dropped.
func refString(r *dtpb.Reference) string {
	if r == nil {
		return ""
	}
	c := proto.Clone(r).(*dtpb.Reference)
	if err := jsonformat.DenormalizeReference(c); err == nil {
		if u := c.GetUri().GetValue(); u != "" {
			return u
		}
		if f := c.GetFragment().GetValue(); f != "" {
			return "#" + f
		}
	}
	if id := r.GetIdentifier(); id.GetValue().GetValue() != "" {
		t := r.GetType().GetValue()
		return t + "?identifier=" + id.GetSystem().GetValue() + "|" + id.GetValue().GetValue()
	}
	return ""
}

func refStrings(rs []*dtpb.Reference) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		if s := refString(r); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func firstIdentifier(ids []*dtpb.Identifier) adapter.Identifier {
	for _, id := range ids {
		if s, v := id.GetSystem().GetValue(), id.GetValue().GetValue(); s != "" && v != "" {
			return adapter.Identifier{System: s, Value: v}
		}
	}
	return adapter.Identifier{}
}

// allIdentifiers returns every identifier with a system and a value, in
// order, each once: the first is firstIdentifier's.
func allIdentifiers(ids []*dtpb.Identifier) []adapter.Identifier {
	var out []adapter.Identifier
	for _, id := range ids {
		if s, v := id.GetSystem().GetValue(), id.GetValue().GetValue(); s != "" && v != "" {
			if i := (adapter.Identifier{System: s, Value: v}); !slices.Contains(out, i) {
				out = append(out, i)
			}
		}
	}
	return out
}

// instant converts a FHIR instant; zero when absent.
func instant(i *dtpb.Instant) time.Time {
	if i == nil {
		return time.Time{}
	}
	return time.UnixMicro(i.GetValueUs()).UTC()
}

func dateTime(d *dtpb.DateTime) time.Time {
	if d == nil {
		return time.Time{}
	}
	return time.UnixMicro(d.GetValueUs()).UTC()
}

package fhir

import (
	"strconv"
	"strings"

	apb "github.com/google/fhir/go/proto/google/fhir/proto/annotations_go_proto"
	"github.com/tidwall/gjson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// FHIR codes are case-sensitive. The FHIR library reads a code of a
// required binding whatever its case ("ACTIVE" as active, "post" as POST);
// visitCode, run on every parsed resource, refuses a code not written
// exactly as the value set writes it, naming the element and the code it
// should be.

// codeCase walks the populated fields of m, whose JSON object is raw.
func codeCase(m protoreflect.Message, raw gjson.Result, path string, errs *[]*adapter.Error) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind {
			return true
		}
		name := fd.JSONName()
		if !fd.IsList() && isChoice(fd.Message()) {
			// value[x]: the JSON name is the element's and its type's.
			v.Message().Range(func(inner protoreflect.FieldDescriptor, iv protoreflect.Value) bool {
				if inner.Kind() == protoreflect.MessageKind {
					key := name + upperFirst(inner.JSONName())
					visitCode(iv.Message(), raw.Get(gjson.Escape(key)), path+"."+key, errs)
				}
				return false
			})
			return true
		}
		if fd.IsList() {
			l := v.List()
			items := raw.Get(gjson.Escape(name)).Array()
			for i := 0; i < l.Len() && i < len(items); i++ {
				visitCode(l.Get(i).Message(), items[i], path+"."+name+"["+strconv.Itoa(i)+"]", errs)
			}
			return true
		}
		visitCode(v.Message(), raw.Get(gjson.Escape(name)), path+"."+name, errs)
		return true
	})
}

// visitCode checks one message: a code of a required binding against its
// JSON, a contained resource as the object it is, anything else by its
// fields.
func visitCode(m protoreflect.Message, raw gjson.Result, path string, errs *[]*adapter.Error) {
	d := m.Descriptor()
	if value := d.Fields().ByName("value"); value != nil && value.Kind() == protoreflect.EnumKind {
		want := canonicalCode(value.Enum().Values().ByNumber(m.Get(value).Enum()))
		if raw.Type == gjson.String && want != "" && raw.Str != want {
			*errs = append(*errs, adapter.Errorf(adapter.ECODEINVALID,
				"code is not in the required value set: FHIR codes are case-sensitive, write %q", want).At(path))
		}
		return
	}
	if d.Name() == "ContainedResource" {
		m.Range(func(_ protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			codeCase(v.Message(), raw, path, errs)
			return false
		})
		return
	}
	if raw.IsObject() {
		codeCase(m, raw, path, errs)
	}
}

func isChoice(d protoreflect.MessageDescriptor) bool {
	b, _ := proto.GetExtension(d.Options(), apb.E_IsChoiceType).(bool)
	return b
}

// canonicalCode is how the value set writes an enum value's code.
func canonicalCode(ev protoreflect.EnumValueDescriptor) string {
	if ev == nil || ev.Number() == 0 {
		return ""
	}
	if orig, _ := proto.GetExtension(ev.Options(), apb.E_FhirOriginalCode).(string); orig != "" {
		return orig
	}
	return strings.ReplaceAll(strings.ToLower(string(ev.Name())), "_", "-")
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

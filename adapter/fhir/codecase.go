package fhir

import (
	"strconv"
	"strings"
	"sync"

	apb "github.com/google/fhir/go/proto/google/fhir/proto/annotations_go_proto"
	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
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
//
// What the walk needs to know of each message type is worked out once and
// kept (typeInfo): whether it is such a code, whether it is a choice type,
// and whether any code can be found under it at all; a subtree that cannot
// hold one is not walked (issue 22: most of a referral is strings,
// references and codings, whose codes are not bound). The element path of
// an issue is spelled out only when there is one.

// codePath is an element path, built as the walk descends and spelled out
// only for an issue.
type codePath struct {
	parent *codePath
	name   string // the element's name, or the resource type at the root
	index  int    // list index, or -1
}

func (p *codePath) String() string {
	var parts []string
	for n := p; n != nil; n = n.parent {
		s := n.name
		if n.parent != nil {
			s = "." + s
		}
		if n.index >= 0 {
			s += "[" + strconv.Itoa(n.index) + "]"
		}
		parts = append(parts, s)
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteString(parts[i])
	}
	return b.String()
}

// typeInfo is what the walk knows of one message type.
type typeInfo struct {
	value     protoreflect.FieldDescriptor // the enum "value" field of a bound code; nil otherwise
	codes     []string                     // value's canonical codes by enum number (value only)
	choice    bool                         // a value[x] choice type
	contained bool                         // ContainedResource
	// hasCode: a bound code may be found under it other than in an
	// extension (an extension's value[x] can be nearly anything, so a
	// subtree with an extension in its JSON is walked whatever this says).
	hasCode bool
	fields  []fieldInfo // the message fields
	byIndex []fieldInfo // every field by its index (message fields filled in)
}

type fieldInfo struct {
	fd   protoreflect.FieldDescriptor
	json string // JSON name
	list bool
	info *typeInfo // the field's message type
}

// typeTable holds the typeInfo of every message type a resource can hold,
// built once (from ContainedResource) and only read after.
var typeTable struct {
	once sync.Once
	m    map[protoreflect.FullName]*typeInfo
}

func infoOf(d protoreflect.MessageDescriptor) *typeInfo {
	typeTable.once.Do(func() {
		typeTable.m = buildTypeTable((&bcrpb.ContainedResource{}).ProtoReflect().Descriptor())
	})
	if ti := typeTable.m[d.FullName()]; ti != nil {
		return ti
	}
	return buildTypeTable(d)[d.FullName()] // a type no resource holds: not kept
}

// buildTypeTable works out the typeInfo of root and every message type
// under it.
func buildTypeTable(root protoreflect.MessageDescriptor) map[protoreflect.FullName]*typeInfo {
	descs := map[protoreflect.FullName]protoreflect.MessageDescriptor{root.FullName(): root}
	stack := []protoreflect.MessageDescriptor{root}
	for len(stack) > 0 {
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		fs := d.Fields()
		for i := range fs.Len() {
			if f := fs.Get(i); f.Kind() == protoreflect.MessageKind {
				if md := f.Message(); descs[md.FullName()] == nil {
					descs[md.FullName()] = md
					stack = append(stack, md)
				}
			}
		}
	}
	table := make(map[protoreflect.FullName]*typeInfo, len(descs))
	for name, d := range descs {
		ti := &typeInfo{choice: isChoice(d), contained: d.Name() == "ContainedResource", hasCode: reachesCode(d)}
		if v := d.Fields().ByName("value"); v != nil && v.Kind() == protoreflect.EnumKind {
			ti.value = v
			vals := v.Enum().Values()
			maxN := 0
			for i := range vals.Len() {
				maxN = max(maxN, int(vals.Get(i).Number()))
			}
			ti.codes = make([]string, maxN+1)
			for i := range vals.Len() {
				if ev := vals.Get(i); ev.Number() >= 0 {
					ti.codes[ev.Number()] = canonicalCode(ev)
				}
			}
		}
		table[name] = ti
	}
	for name, d := range descs {
		ti := table[name]
		fs := d.Fields()
		ti.byIndex = make([]fieldInfo, fs.Len())
		for i := range fs.Len() {
			if f := fs.Get(i); f.Kind() == protoreflect.MessageKind {
				fi := fieldInfo{fd: f, json: f.JSONName(), list: f.IsList(), info: table[f.Message().FullName()]}
				ti.byIndex[i] = fi
				ti.fields = append(ti.fields, fi)
			}
		}
	}
	return table
}

// isCodeType says whether d is a code of a required binding: a message
// whose "value" is an enum.
func isCodeType(d protoreflect.MessageDescriptor) bool {
	v := d.Fields().ByName("value")
	return v != nil && v.Kind() == protoreflect.EnumKind
}

// reachesCode says whether a bound code can be found in a message of type
// d or under it other than through an Extension, following message fields
// through the type graph.
func reachesCode(d protoreflect.MessageDescriptor) bool {
	seen := map[protoreflect.FullName]bool{d.FullName(): true}
	stack := []protoreflect.MessageDescriptor{d}
	for len(stack) > 0 {
		m := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if isCodeType(m) {
			return true
		}
		fs := m.Fields()
		for i := range fs.Len() {
			f := fs.Get(i)
			if f.Kind() != protoreflect.MessageKind {
				continue
			}
			md := f.Message()
			if md.Name() == "Extension" || seen[md.FullName()] {
				continue
			}
			seen[md.FullName()] = true
			stack = append(stack, md)
		}
	}
	return false
}

// worth says whether the subtree of type ti whose JSON is raw can hold a
// bound code: a type that can, or any subtree with an extension.
func worth(ti *typeInfo, raw gjson.Result) bool {
	return ti.hasCode || ti.value != nil || strings.Contains(raw.Raw, `xtension"`)
}

// codeCase walks the populated fields of m, whose JSON object is raw.
func codeCase(m protoreflect.Message, ti *typeInfo, raw gjson.Result, path *codePath, errs *[]*adapter.Error) {
	m.Range(func(fd protoreflect.FieldDescriptor, val protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind {
			return true
		}
		f := ti.byIndex[fd.Index()]
		if f.list {
			items := raw.Get(f.json)
			if !items.IsArray() || !worth(f.info, items) {
				return true
			}
			l := val.List()
			i := 0
			items.ForEach(func(_, item gjson.Result) bool {
				if i >= l.Len() {
					return false
				}
				visitCode(l.Get(i).Message(), item, &codePath{path, f.json, i}, errs)
				i++
				return true
			})
			return true
		}
		v := val.Message()
		fti := f.info
		if fti.choice {
			// value[x]: the JSON name is the element's and its type's.
			for _, in := range fti.fields {
				if v.Has(in.fd) {
					key := f.json + upperFirst(in.json)
					if item := raw.Get(gjson.Escape(key)); worth(infoOf(in.fd.Message()), item) {
						visitCode(v.Get(in.fd).Message(), item, &codePath{path, key, -1}, errs)
					}
					break
				}
			}
			return true
		}
		if item := raw.Get(f.json); worth(fti, item) {
			visitCode(v, item, &codePath{path, f.json, -1}, errs)
		}
		return true
	})
}

// visitCode checks one message: a code of a required binding against its
// JSON, a contained resource as the object it is, anything else by its
// fields.
func visitCode(m protoreflect.Message, raw gjson.Result, path *codePath, errs *[]*adapter.Error) {
	ti := infoOf(m.Descriptor())
	if ti.value != nil {
		want := ""
		if n := int(m.Get(ti.value).Enum()); n > 0 && n < len(ti.codes) {
			want = ti.codes[n]
		}
		if raw.Type == gjson.String && want != "" && raw.Str != want {
			*errs = append(*errs, adapter.Errorf(adapter.ECODEINVALID,
				"code is not in the required value set: FHIR codes are case-sensitive, write %q", want).At(path.String()))
		}
		return
	}
	if ti.contained {
		for _, f := range ti.fields {
			if m.Has(f.fd) {
				r := m.Get(f.fd).Message()
				codeCase(r, infoOf(r.Descriptor()), raw, path, errs)
				return
			}
		}
		return
	}
	if raw.IsObject() {
		codeCase(m, ti, raw, path, errs)
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

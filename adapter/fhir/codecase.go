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
// required binding whatever its case ("ACTIVE" as active, "post" as POST,
// "entered_in_error" as entered-in-error); checkCodeCase, run on every
// parsed resource, refuses a code not written exactly as the value set
// writes it, naming the element and the code it should be.
//
// The check walks the resource's JSON, guided by what is worked out once
// and kept of each message type (typeInfo): its fields by JSON name
// (value[x] choices under each of their names), whether it is such a code
// and its codes, and whether any code can be found under it at all; a
// subtree that cannot hold one is not walked (issue 22: most of a referral
// is strings, references and codings, whose codes are not bound). It reads
// the JSON only: walking the parsed message beside it cost more than the
// check (protobuf reflection over every populated field), and missed the
// contained resources, which the library keeps as protobuf Any. The
// element path of an issue is spelled out only when there is one.

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
	code      *codeSet // the codes of a bound code; nil otherwise
	contained bool     // ContainedResource
	// hasCode: a bound code may be found under it other than in an
	// extension (an extension's value[x] can be nearly anything, so a
	// subtree with an extension in its JSON is walked whatever this says).
	hasCode bool
	byJSON  map[string]fieldInfo // message fields by JSON name, value[x] under each "valueCode"-style name
	byType  map[string]*typeInfo // ContainedResource only: by resourceType
}

type fieldInfo struct {
	list bool
	info *typeInfo // the field's message type (for a choice, the chosen type)
}

// codeSet is how the value set of a bound code writes its codes, and how
// the library reads them: a code's enum name, upper case with '-' as '_'
// (UnmarshalCode in google/fhir/go), or its original code exactly.
type codeSet struct {
	canonical map[string]bool   // each code as the value set writes it
	byName    map[string]string // enum name -> the code as written
}

// want is the code the value set writes for s when the library reads s as
// one of its codes but s is not written so; "" when s is written so, or is
// not a code of the set at all (the library refused it).
func (c *codeSet) want(s string) string {
	if c.canonical[s] {
		return ""
	}
	return c.byName[strings.ReplaceAll(strings.ToUpper(s), "-", "_")]
}

// typeTable holds the typeInfo of every message type a resource can hold,
// built once (from ContainedResource) and only read after.
var typeTable struct {
	once sync.Once
	m    map[protoreflect.FullName]*typeInfo
	root *typeInfo
}

// rootInfo is the typeInfo of ContainedResource, where every resource's
// walk starts.
func rootInfo() *typeInfo {
	typeTable.once.Do(func() {
		root := (&bcrpb.ContainedResource{}).ProtoReflect().Descriptor()
		typeTable.m = buildTypeTable(root)
		typeTable.root = typeTable.m[root.FullName()]
	})
	return typeTable.root
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
		table[name] = &typeInfo{code: codesOf(d), contained: d.Name() == "ContainedResource", hasCode: reachesCode(d)}
	}
	for name, d := range descs {
		ti := table[name]
		ti.byJSON = map[string]fieldInfo{}
		if ti.contained {
			ti.byType = map[string]*typeInfo{}
		}
		fs := d.Fields()
		for i := range fs.Len() {
			f := fs.Get(i)
			if f.Kind() != protoreflect.MessageKind {
				continue
			}
			md := f.Message()
			if md.FullName() == "google.protobuf.Any" && f.JSONName() == "contained" {
				// The library keeps contained resources as Any; their JSON
				// is walked as the resource its resourceType names.
				ti.byJSON["contained"] = fieldInfo{list: f.IsList(), info: table[root.FullName()]}
				continue
			}
			if ti.contained {
				ti.byType[string(md.Name())] = table[md.FullName()]
				continue
			}
			if !isChoice(md) {
				ti.byJSON[f.JSONName()] = fieldInfo{list: f.IsList(), info: table[md.FullName()]}
				continue
			}
			// value[x]: the JSON name is the element's and its type's.
			in := md.Fields()
			for j := range in.Len() {
				if c := in.Get(j); c.Kind() == protoreflect.MessageKind {
					ti.byJSON[f.JSONName()+upperFirst(c.JSONName())] = fieldInfo{list: f.IsList(), info: table[c.Message().FullName()]}
				}
			}
		}
	}
	return table
}

// codesOf is the code set of d when it is a code of a required binding: a
// message whose "value" is an enum.
func codesOf(d protoreflect.MessageDescriptor) *codeSet {
	if !isCodeType(d) {
		return nil
	}
	v := d.Fields().ByName("value")
	c := &codeSet{canonical: map[string]bool{}, byName: map[string]string{}}
	vals := v.Enum().Values()
	for i := range vals.Len() {
		if ev := vals.Get(i); ev.Number() != 0 {
			code := canonicalCode(ev)
			c.canonical[code] = true
			c.byName[string(ev.Name())] = code
		}
	}
	return c
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
	return ti.hasCode || ti.code != nil || strings.Contains(raw.Raw, `xtension"`)
}

// checkCodeCase checks every bound code of a parsed resource of type rt,
// whose JSON is body.
func checkCodeCase(rt string, body gjson.Result) []*adapter.Error {
	var errs []*adapter.Error
	walkCodes(rootInfo(), body, &codePath{name: rt, index: -1}, &errs)
	return errs
}

// walkCodes checks the JSON raw of a message of type ti: a code of a
// required binding as the value set writes it, a contained resource as
// the type its resourceType names, anything else by its members.
func walkCodes(ti *typeInfo, raw gjson.Result, path *codePath, errs *[]*adapter.Error) {
	switch {
	case ti.code != nil:
		if raw.Type != gjson.String {
			return
		}
		if want := ti.code.want(raw.Str); want != "" {
			*errs = append(*errs, adapter.Errorf(adapter.ECODEINVALID,
				"code is not in the required value set: FHIR codes are case-sensitive, write %q", want).At(path.String()))
		}
	case ti.contained:
		if r := ti.byType[raw.Get("resourceType").Str]; r != nil {
			walkCodes(r, raw, path, errs)
		}
	case raw.IsObject():
		raw.ForEach(func(key, val gjson.Result) bool {
			f, ok := ti.byJSON[key.Str]
			if !ok || !worth(f.info, val) {
				return true // resourceType, a primitive's _element, or nothing bound under it
			}
			if !f.list {
				walkCodes(f.info, val, &codePath{path, key.Str, -1}, errs)
				return true
			}
			i := 0
			val.ForEach(func(_, item gjson.Result) bool {
				walkCodes(f.info, item, &codePath{path, key.Str, i}, errs)
				i++
				return true
			})
			return true
		})
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

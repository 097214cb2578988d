package fhir

import (
	"net/url"
	"slices"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Invariants of FHIR R4 the FHIR library does not check, checked on the
// raw JSON of every resource the adapter takes in (issue 18):
//
//   - FHIR JSON has no empty values: an empty string, array or object is
//     refused (ele-1: every element has a value or children).
//   - An extension has a value or extensions, not both and not neither
//     (ext-1).
//   - A contained resource is referenced from the resource that contains it
//     (dom-3).
//   - Narrative holds only the basic XHTML FHIR allows, no scripts, event
//     handlers or script URLs (txt-1), and some content (txt-2).
//   - A literal reference is Type/id (optionally /_history/vid), relative or
//     absolute, a fragment "#id", a urn:uuid/urn:oid, or a conditional
//     Type?query; ids are FHIR ids (up to 64 of A-Z a-z 0-9 - .).
//   - An identifier's value has content other than whitespace, and an NHS
//     number is ten digits with a valid modulus 11 check digit.
//
// Each problem names its element and the invariant.

// invariantWalker collects problems while walking a resource's JSON.
type invariantWalker struct {
	errs      []*adapter.Error
	localRefs []string // fragment references seen ("#id" → "id")
}

func (w *invariantWalker) fail(path *codePath, format string, args ...any) {
	w.errs = append(w.errs, adapter.Errorf(adapter.EINVARIANT, format, args...).At(path.String()))
}

// checkInvariants checks the invariants on a resource's raw JSON; rt is
// its resourceType, the root of the paths.
func checkInvariants(rt string, raw []byte) []*adapter.Error {
	w := &invariantWalker{}
	root := gjson.ParseBytes(raw)
	path := &codePath{name: rt, index: -1}
	w.walk(root, path)
	w.contained(root, path)
	return w.errs
}

// walk checks a value at path. Paths are spelled out only for a problem
// (issue 22: building each element's path string was most of the walk).
func (w *invariantWalker) walk(v gjson.Result, path *codePath) {
	switch {
	case v.IsObject():
		empty := true
		v.ForEach(func(k, val gjson.Result) bool {
			empty = false
			w.member(k.Str, val, &codePath{parent: path, name: k.Str, index: -1})
			return true
		})
		if empty {
			w.fail(path, "an element must have a value or children, not be empty (ele-1)")
		}
	case v.IsArray():
		if w.each(v, path, w.walk) == 0 {
			w.fail(path, "an array must not be empty: leave the element out instead (FHIR JSON)")
		}
	case v.Type == gjson.String && v.Str == "":
		w.fail(path, "a string must not be empty: leave the element out instead (ele-1)")
	}
}

// member checks one member k of an object (its value at path), then walks
// its value.
func (w *invariantWalker) member(k string, val gjson.Result, path *codePath) {
	switch k {
	case "reference":
		if val.Type == gjson.String && val.Str != "" {
			w.reference(path, val.Str)
		}
	case "div":
		if path.parent != nil && path.parent.name == "text" && path.parent.index < 0 && val.Type == gjson.String {
			if err := checkNarrative(val.Str); err != "" {
				w.fail(path, "%s", err)
			}
		}
	case "extension", "modifierExtension":
		w.each(val, path, w.extension)
	case "identifier":
		if val.IsArray() {
			w.each(val, path, w.identifier)
		} else if val.IsObject() {
			w.identifier(val, path)
		}
	}
	w.walk(val, path)
}

// each calls check with every item of an array at path, and says how many
// there were (0 when arr is not an array).
func (w *invariantWalker) each(arr gjson.Result, path *codePath, check func(gjson.Result, *codePath)) int {
	if !arr.IsArray() {
		return 0
	}
	i := 0
	arr.ForEach(func(_, e gjson.Result) bool {
		check(e, &codePath{parent: path.parent, name: path.name, index: i})
		i++
		return true
	})
	return i
}

// extension: ext-1.
func (w *invariantWalker) extension(e gjson.Result, path *codePath) {
	if !e.IsObject() {
		return
	}
	hasValue, hasExt := false, false
	e.ForEach(func(k, _ gjson.Result) bool {
		hasValue = hasValue || strings.HasPrefix(k.Str, "value")
		hasExt = hasExt || k.Str == "extension"
		return true
	})
	if hasValue == hasExt {
		w.fail(path, "an extension must have either a value or extensions, not both and not neither (ext-1)")
	}
}

// identifier: a value with content; an NHS number well formed.
func (w *invariantWalker) identifier(id gjson.Result, path *codePath) {
	v := id.Get("value")
	if v.Type != gjson.String {
		return
	}
	if strings.TrimSpace(v.Str) == "" && v.Str != "" {
		w.fail(&codePath{parent: path, name: "value", index: -1}, "an identifier's value must have content other than whitespace")
		return
	}
	if id.Get("system").Str == adapter.SystemNHSNumber && !adapter.ValidNHSNumber(v.Str) {
		w.fail(&codePath{parent: path, name: "value", index: -1}, "an NHS number is ten digits with a valid modulus 11 check digit")
	}
}

// reference checks a Reference.reference.
func (w *invariantWalker) reference(path *codePath, ref string) {
	if problem := referenceProblem(ref); problem != "" {
		w.fail(path, "%s", problem)
		return
	}
	if strings.HasPrefix(ref, "#") {
		w.localRefs = append(w.localRefs, ref[1:])
	}
}

// ReferenceProblem says why ref is not a well-formed reference ("" when it
// is one): Type/id (optionally /_history/vid), relative or absolute, #id,
// urn:uuid:, urn:oid: or Type?query, with FHIR ids.
func ReferenceProblem(ref string) string { return referenceProblem(ref) }

// referenceProblem says why ref is not a well-formed reference ("" when it
// is one).
func referenceProblem(ref string) string {
	const want = "a reference is Type/id (optionally /_history/vid), relative or absolute, #id, urn:uuid:, urn:oid: or Type?query, with FHIR ids"
	switch {
	case len(ref) > 4096:
		return "the reference is too long: " + want
	case strings.HasPrefix(ref, "#"):
		if ref == "#" || fhirID.MatchString(ref[1:]) {
			return ""
		}
	case strings.HasPrefix(ref, "urn:uuid:"), strings.HasPrefix(ref, "urn:oid:"):
		if !strings.ContainsAny(ref, " /?#") {
			return ""
		}
	case strings.HasPrefix(ref, "http://"), strings.HasPrefix(ref, "https://"):
		u, err := url.Parse(ref)
		if err == nil && u.Host != "" && u.RawQuery == "" && literalPath(strings.TrimPrefix(u.Path, "/"), true) {
			return ""
		}
	case strings.Contains(ref, "?"):
		typ, _, _ := strings.Cut(ref, "?")
		if resourceTypeName.MatchString(typ) {
			return ""
		}
	default:
		if literalPath(ref, false) {
			return ""
		}
	}
	return want
}

// literalPath checks "Type/id" or "Type/id/_history/vid" (the last such
// segments of an absolute URL's path when absolute).
func literalPath(p string, absolute bool) bool {
	segs := strings.Split(p, "/")
	n := len(segs)
	if n >= 4 && segs[n-2] == "_history" {
		if !isFHIRID(segs[n-1]) {
			return false
		}
		segs, n = segs[:n-2], n-2
	}
	if n < 2 || !absolute && n != 2 {
		return false
	}
	for _, s := range segs[:n-2] { // the server's base path, absolute only
		if s == ".." || s == "." {
			return false
		}
	}
	return resourceTypeName.MatchString(segs[n-2]) && isFHIRID(segs[n-1])
}

// isFHIRID reports whether s is a FHIR id (and not a path segment of dots).
func isFHIRID(s string) bool {
	return fhirID.MatchString(s) && strings.Trim(s, ".") != ""
}

// contained: dom-3, every contained resource is referenced.
func (w *invariantWalker) contained(root gjson.Result, path *codePath) {
	i := 0
	root.Get("contained").ForEach(func(_, c gjson.Result) bool {
		id := c.Get("id").Str
		if id == "" || !slices.Contains(w.localRefs, id) {
			w.fail(&codePath{parent: path, name: "contained", index: i},
				"a contained resource must have an id and be referenced from the resource that contains it (dom-3)")
		}
		i++
		return true
	})
}

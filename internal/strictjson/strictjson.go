// Package strictjson is the adapter's one strict JSON decoding, used for
// every body it reads: FHIR resources (adapter/fhir), the adapter's own
// JSON API (adapter/httpapi), token claims and the clients file
// (adapter/auth).
//
// Strict means RFC 8259 with the I-JSON rules of RFC 7493: one object, no
// duplicate member names (the second "status" is refused, not taken), valid
// UTF-8, nothing after the object; nesting no deeper than MaxDepth and
// numbers no longer than MaxNumberLen. Decode adds, for Go values: member
// names matched exactly (no case folding, so "Status" is not "status") and
// unknown members refused. Errors are *adapter.Error values whose
// expression names the member at fault; they never quote a value.
package strictjson

import (
	"bytes"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Limits applied to every body.
const (
	// MaxDepth is the deepest nesting of objects and arrays accepted. Real
	// resources (with extensions inside extensions) stay well under it.
	MaxDepth = 32
	// MaxNumberLen bounds the length of a JSON number literal. FHIR
	// decimals are arbitrary precision, but nothing clinical needs more.
	MaxNumberLen = 40
)

// ErrNotObject is returned by Scan and Decode for a body that is valid
// JSON but not an object.
var ErrNotObject = &adapter.Error{Code: adapter.ESTRUCTURE, Message: "the body must be a JSON object"}

// Scan reads body as strict JSON holding one object, checking the limits,
// and calls visit (when not nil) with every token, the decoder positioned
// just after it. A visit error stops the scan and is returned as is.
func Scan(body []byte, visit func(d *jsontext.Decoder, tok jsontext.Token) error) error {
	d := jsontext.NewDecoder(bytes.NewBuffer(body)) // a Buffer is read in place, not copied
	if d.PeekKind() != '{' {
		if _, err := d.ReadToken(); err != nil {
			return malformed(d, err)
		}
		return ErrNotObject
	}
	ended := false // the top-level object is closed: only EOF may follow
	for {
		start := d.InputOffset()
		tok, err := d.ReadToken()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return malformed(d, err)
		}
		if ended {
			return adapter.Errorf(adapter.ESTRUCTURE, "malformed JSON at byte offset %d: data after the object", start)
		}
		ended = d.StackDepth() == 0
		if err := limits(d, tok); err != nil {
			return err
		}
		if visit != nil {
			if err := visit(d, tok); err != nil {
				return err
			}
		}
	}
}

// limits enforces the depth and number limits on one token.
func limits(d *jsontext.Decoder, tok jsontext.Token) *adapter.Error {
	if d.StackDepth() > MaxDepth {
		return adapter.Errorf(adapter.ESTRUCTURE, "JSON nested deeper than %d levels", MaxDepth).At(pointerPath(d))
	}
	switch {
	case tok.Kind() != '0':
		return nil
	case len(tok.String()) > MaxNumberLen:
		return adapter.Errorf(adapter.EVALUE, "number longer than %d digits", MaxNumberLen).At(pointerPath(d))
	case isOverflow(tok.String()):
		// Valid JSON, but beyond any number a float64 can hold.
		return adapter.Errorf(adapter.EVALUE, "number out of range").At(pointerPath(d))
	}
	return nil
}

// isOverflow reports whether a JSON number is beyond float64's range.
func isOverflow(num string) bool {
	f, _ := strconv.ParseFloat(num, 64)
	return math.IsInf(f, 0)
}

// Decode scans body (see Scan) and decodes it into v, a pointer: member
// names must match v's json tags exactly, and a member v has no field for
// is refused. Decode into jsontext.Value (not json.RawMessage) to keep a
// member's JSON as it is.
func Decode(body []byte, v any) error {
	if err := Scan(body, nil); err != nil {
		return err
	}
	if err := json.Unmarshal(body, v, json.RejectUnknownMembers(true)); err != nil {
		return decodeError(err)
	}
	return nil
}

// decodeError names the member a decoding failure is about, without its
// value.
func decodeError(err error) error {
	var se *json.SemanticError
	if !errors.As(err, &se) {
		return adapter.Errorf(adapter.ESTRUCTURE, "malformed JSON")
	}
	path := Path(string(se.JSONPointer))
	if errors.Is(se.Err, json.ErrUnknownName) {
		return adapter.Errorf(adapter.ESTRUCTURE, "unknown member %q", Clip(lastName(string(se.JSONPointer)))).At(Clip(path))
	}
	want := "another type"
	if se.GoType != nil {
		want = kindName(se.GoType.Kind().String())
	}
	if path == "" {
		return adapter.Errorf(adapter.ESTRUCTURE, "the body must be a JSON object of the expected members")
	}
	return adapter.Errorf(adapter.EVALUE, "%s has the wrong type or value (want %s)", Clip(path), want).At(Clip(path))
}

// kindName words a Go kind for an error message.
func kindName(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"):
		return "a whole number"
	case strings.HasPrefix(k, "float"):
		return "a number"
	case k == "bool":
		return "true or false"
	case k == "string":
		return "a string"
	case k == "struct", k == "map":
		return "an object"
	case k == "slice", k == "array":
		return "an array"
	}
	return "another type"
}

func lastName(pointer string) string {
	i := strings.LastIndexByte(pointer, '/')
	return unescape(pointer[i+1:])
}

func malformed(d *jsontext.Decoder, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return adapter.Errorf(adapter.ESTRUCTURE, "malformed JSON: unexpected end of input")
	}
	var se *jsontext.SyntacticError
	if errors.As(err, &se) {
		if strings.Contains(se.Error(), "duplicate object member name") {
			path := Path(string(se.JSONPointer))
			return adapter.Errorf(adapter.ESTRUCTURE, "duplicate JSON member name %q", Clip(lastName(string(se.JSONPointer)))).At(Clip(path))
		}
		if strings.Contains(se.Error(), "invalid UTF-8") {
			return adapter.Errorf(adapter.ESTRUCTURE, "invalid UTF-8 in JSON string at byte offset %d", se.ByteOffset)
		}
		return adapter.Errorf(adapter.ESTRUCTURE, "malformed JSON at byte offset %d", se.ByteOffset)
	}
	return adapter.Errorf(adapter.ESTRUCTURE, "malformed JSON at byte offset %d", d.InputOffset())
}

func pointerPath(d *jsontext.Decoder) string { return Path(string(d.StackPointer())) }

// Path turns a JSON pointer ("/a/0/b") into the element path used in
// OperationOutcome expressions ("a[0].b").
func Path(pointer string) string {
	var b strings.Builder
	for _, tok := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		if tok == "" {
			continue
		}
		if _, err := strconv.Atoi(tok); err == nil {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(unescape(tok))
	}
	return b.String()
}

func unescape(tok string) string {
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
}

// maxName bounds a member name or path quoted in an error message.
const maxName = 64

// Clip bounds a name taken from the input before it goes into an error
// message: member names are the caller's own text.
func Clip(s string) string {
	if len(s) <= maxName {
		return s
	}
	cut := maxName
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

package fhir

import (
	"bytes"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Limits applied before a body reaches the FHIR parser.
const (
	// MaxDepth is the deepest nesting of objects and arrays accepted. Real
	// resources (with extensions inside extensions) stay well under it.
	MaxDepth = 32
	// MaxNumberLen bounds the length of a JSON number literal. FHIR
	// decimals are arbitrary precision, but nothing clinical needs more.
	MaxNumberLen = 40
)

// checkStrict scans body as strict JSON (RFC 8259 plus RFC 7493: no
// duplicate member names, valid UTF-8), enforces the depth and number
// limits, and returns the top-level resourceType. Errors never quote the
// body.
func checkStrict(body []byte) (string, error) {
	d := jsontext.NewDecoder(bytes.NewReader(body))
	if d.PeekKind() != '{' {
		if _, err := d.ReadToken(); err != nil {
			return "", malformed(d, err)
		}
		return "", adapter.Errorf(adapter.ESTRUCTURE, "the body must be a JSON object holding one FHIR resource")
	}
	var resourceType string
	nextIsType := false // the previous token was the top-level "resourceType" name
	for {
		tok, err := d.ReadToken()
		if errors.Is(err, io.EOF) {
			return resourceType, nil
		}
		if err != nil {
			return "", qualify(malformed(d, err), resourceType, body)
		}
		if err := checkToken(d, tok, nextIsType); err != nil {
			return "", qualify(err, resourceType, body)
		}
		switch {
		case nextIsType:
			resourceType, nextIsType = tok.String(), false
		case tok.Kind() == '"' && d.StackDepth() == 1 && resourceType == "" && tok.String() == "resourceType" && d.StackPointer() == "/resourceType":
			// The top-level "resourceType" member name: its value is next.
			nextIsType = true
		}
	}
}

// checkToken enforces the depth and number limits on one token, and that
// the top-level resourceType (when isType) is a string.
func checkToken(d *jsontext.Decoder, tok jsontext.Token, isType bool) *adapter.Error {
	if d.StackDepth() > MaxDepth {
		return adapter.Errorf(adapter.ESTRUCTURE, "JSON nested deeper than %d levels", MaxDepth).At(pointerPath(d))
	}
	switch {
	case isType && tok.Kind() != '"':
		return adapter.Errorf(adapter.ESTRUCTURE, "resourceType must be a string naming the resource type").At("resourceType")
	case tok.Kind() != '0':
		return nil
	case len(tok.String()) > MaxNumberLen:
		return adapter.Errorf(adapter.EVALUE, "number longer than %d digits", MaxNumberLen).At(pointerPath(d))
	case isOverflow(tok.String()):
		// Valid JSON, but beyond any decimal the FHIR library can hold.
		return adapter.Errorf(adapter.EVALUE, "number out of range").At(pointerPath(d))
	}
	return nil
}

// isOverflow reports whether a JSON number is beyond float64's range.
func isOverflow(num string) bool {
	f, _ := strconv.ParseFloat(num, 64)
	return math.IsInf(f, 0)
}

// qualify prefixes an error's element paths with the resource type, so
// they read as FHIRPath ("ServiceRequest.status") like the paths of
// validation errors. When the scan stopped before the resourceType member,
// the type is looked up leniently.
func qualify(err error, resourceType string, body []byte) error {
	e, ok := err.(*adapter.Error)
	if !ok || len(e.Expression) == 0 {
		return err
	}
	if resourceType == "" {
		resourceType = lenientType(body)
	}
	if !resourceTypeName.MatchString(resourceType) {
		return err
	}
	c := *e
	c.Expression = make([]string, len(e.Expression))
	for i, x := range e.Expression {
		if x != "resourceType" {
			x = resourceType + "." + x
		}
		c.Expression[i] = x
	}
	return &c
}

// lenientType finds the top-level resourceType of a body the strict scan
// refused for a reason that leaves it readable (a duplicate name, a limit);
// "" when it cannot.
func lenientType(body []byte) string {
	d := jsontext.NewDecoder(bytes.NewReader(body), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	if tok, err := d.ReadToken(); err != nil || tok.Kind() != '{' {
		return ""
	}
	for {
		name, err := d.ReadToken()
		if err != nil || name.Kind() != '"' {
			return ""
		}
		if name.String() != "resourceType" {
			if d.SkipValue() != nil {
				return ""
			}
			continue
		}
		v, err := d.ReadToken()
		if err != nil || v.Kind() != '"' {
			return ""
		}
		return v.String()
	}
}

func malformed(d *jsontext.Decoder, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return adapter.Errorf(adapter.ESTRUCTURE, "malformed JSON: unexpected end of input")
	}
	var se *jsontext.SyntacticError
	if errors.As(err, &se) {
		if strings.Contains(se.Error(), "duplicate object member name") {
			return adapter.Errorf(adapter.ESTRUCTURE, "duplicate JSON member name").At(jsonPointerToPath(string(se.JSONPointer)))
		}
		if strings.Contains(se.Error(), "invalid UTF-8") {
			return adapter.Errorf(adapter.ESTRUCTURE, "invalid UTF-8 in JSON string at byte offset %d", se.ByteOffset)
		}
		return adapter.Errorf(adapter.ESTRUCTURE, "malformed JSON at byte offset %d", se.ByteOffset)
	}
	return adapter.Errorf(adapter.ESTRUCTURE, "malformed JSON at byte offset %d", d.InputOffset())
}

func pointerPath(d *jsontext.Decoder) string { return jsonPointerToPath(string(d.StackPointer())) }

// jsonPointerToPath turns "/a/0/b" into "a[0].b".
func jsonPointerToPath(p string) string {
	var b strings.Builder
	for _, tok := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
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
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		b.WriteString(tok)
	}
	return b.String()
}

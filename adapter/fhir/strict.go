package fhir

import (
	"bytes"
	"errors"
	"io"
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
			return "", malformed(d, err)
		}
		if d.StackDepth() > MaxDepth {
			return "", adapter.Errorf(adapter.ESTRUCTURE, "JSON nested deeper than %d levels", MaxDepth).At(pointerPath(d))
		}
		switch tok.Kind() {
		case '0':
			if len(tok.String()) > MaxNumberLen {
				return "", adapter.Errorf(adapter.EVALUE, "number longer than %d digits", MaxNumberLen).At(pointerPath(d))
			}
		case '"':
			if nextIsType {
				resourceType, nextIsType = tok.String(), false
				continue
			}
			// The top-level "resourceType" member name: its value is next.
			if d.StackDepth() == 1 && resourceType == "" && tok.String() == "resourceType" && d.StackPointer() == "/resourceType" {
				nextIsType = true
				continue
			}
		}
		nextIsType = false
	}
}

func malformed(d *jsontext.Decoder, err error) error {
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
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return adapter.Errorf(adapter.ESTRUCTURE, "malformed JSON: unexpected end of input")
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

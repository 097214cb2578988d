package fhir

import (
	"bytes"
	"errors"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/internal/strictjson"
)

// Limits applied before a body reaches the FHIR parser: those of every
// body the adapter reads (internal/strictjson).
const (
	MaxDepth     = strictjson.MaxDepth
	MaxNumberLen = strictjson.MaxNumberLen
)

// checkStrict scans body as strict JSON (internal/strictjson: RFC 8259 plus
// RFC 7493, no duplicate member names, valid UTF-8, the depth and number
// limits) and returns the top-level resourceType. Errors never quote the
// body.
func checkStrict(body []byte) (string, error) {
	var resourceType string
	nextIsType := false // the previous token was the top-level "resourceType" name
	err := strictjson.Scan(body, func(d *jsontext.Decoder, tok jsontext.Token) error {
		switch {
		case nextIsType && tok.Kind() != '"':
			return adapter.Errorf(adapter.ESTRUCTURE, "resourceType must be a string naming the resource type").At("resourceType")
		case nextIsType:
			resourceType, nextIsType = tok.String(), false
		case tok.Kind() == '"' && d.StackDepth() == 1 && resourceType == "" && tok.String() == "resourceType" && d.StackPointer() == "/resourceType":
			// The top-level "resourceType" member name: its value is next.
			nextIsType = true
		}
		return nil
	})
	if errors.Is(err, strictjson.ErrNotObject) {
		return "", adapter.Errorf(adapter.ESTRUCTURE, "the body must be a JSON object holding one FHIR resource")
	}
	if err != nil {
		return "", qualify(err, resourceType, body)
	}
	return resourceType, nil
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

package fhir

import (
	"net/url"
	"strings"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// ParseIdentifierCondition parses the search of an If-None-Exist header or
// Bundle.entry.request.ifNoneExist. Only "identifier=system|value" is
// supported; anything else is ENOTSUPPORTED.
func ParseIdentifierCondition(q string) (adapter.Identifier, error) {
	q = strings.TrimPrefix(strings.TrimSpace(q), "?")
	vals, err := url.ParseQuery(q)
	if err != nil || len(vals) != 1 || len(vals["identifier"]) != 1 {
		return adapter.Identifier{}, adapter.Errorf(adapter.ENOTSUPPORTED,
			"conditional create supports exactly one search parameter, identifier=system|value")
	}
	return ParseIdentifierToken(vals.Get("identifier"))
}

// ParseIdentifierToken parses a token search value "system|value"; both
// parts are required.
func ParseIdentifierToken(tok string) (adapter.Identifier, error) {
	sys, val, ok := strings.Cut(tok, "|")
	if !ok || sys == "" || val == "" {
		return adapter.Identifier{}, adapter.Errorf(adapter.EINVALID, "identifier must be given as system|value")
	}
	return adapter.Identifier{System: sys, Value: val}, nil
}

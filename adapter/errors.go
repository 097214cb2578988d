package adapter

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Error codes. Each maps to one HTTP status and one OperationOutcome issue
// code in the httpapi package's error table.
const (
	EINVALID         = "invalid"           // generic bad request
	ESTRUCTURE       = "structure"         // malformed JSON, unknown element, wrong resource type
	EREQUIRED        = "required"          // a required element is missing
	EVALUE           = "value"             // a primitive has an invalid value
	ECODEINVALID     = "code-invalid"      // a code is not in a required value set
	EBUSINESSRULE    = "business-rule"     // valid FHIR that the adapter will not accept
	EINVARIANT       = "invariant"         // a FHIR invariant (ele-1, ext-1, dom-3, txt-1...) is broken
	ENOTFOUND        = "not-found"         // no such resource (or not visible to the caller)
	ECONFLICT        = "conflict"          // state conflict, e.g. an illegal Task transition
	EPRECONDITION    = "precondition"      // conditional request matched more than one resource
	EVERSION         = "version"           // an update made against a version that is no longer current (If-Match)
	EUNAUTHORIZED    = "unauthorized"      // missing, invalid or expired credentials
	EFORBIDDEN       = "forbidden"         // authenticated but not allowed
	ETOOLARGE        = "too-large"         // request body over the limit
	EHEADERSTOOLARGE = "headers-too-large" // request line and headers over the limit
	EUNSUPPORTEDTYPE = "unsupported-type"  // wrong Content-Type
	ENOTACCEPTABLE   = "not-acceptable"    // Accept header names no format we produce
	ENOTSUPPORTED    = "not-supported"     // an interaction or parameter the adapter does not support
	EMETHOD          = "method"            // HTTP method not allowed on the path
	ERATELIMIT       = "rate-limit"        // too many requests
	EUNAVAILABLE     = "unavailable"       // a dependency (Redis) is down; retry later
	EINTERNAL        = "internal"          // a bug; details are logged, never returned
)

// Error is a domain error carrying a code, a message safe to show the
// caller, and optional FHIRPath expressions pointing at the offending
// elements. Messages never contain patient data.
type Error struct {
	Code       string
	Message    string
	Expression []string
	// Issues holds further problems found in the same request, so that a
	// caller can fix everything at once.
	Issues []*Error
}

func (e *Error) Error() string {
	if len(e.Expression) > 0 {
		return fmt.Sprintf("%s: %s (at %s)", e.Code, e.Message, e.Expression[0])
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// At returns a copy of e pointing at the given FHIRPath expressions.
func (e *Error) At(expr ...string) *Error {
	c := *e
	c.Expression = append(append([]string(nil), e.Expression...), expr...)
	return &c
}

// NotFound is the one answer for a record that is not there and for one
// the caller may not see: the same code and words for both, so that
// existence never leaks.
func NotFound(kind string) *Error {
	return &Error{Code: ENOTFOUND, Message: kind + " not found"}
}

// ErrorCode returns the code of an *Error in err's chain, or EINTERNAL.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-safe message of an *Error in err's chain;
// any other error yields a generic message so internals never leak.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// EchoMax is how much of a caller-supplied id or code an error message
// echoes by default.
const EchoMax = 64

// Clip bounds a caller-supplied string (an id, a code, a parameter name)
// before an error message echoes it: its first n bytes. Messages stay
// short whatever was sent.
func Clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Combine reports several problems with one request at once: the first
// by FHIRPath expression, carrying the others (in the same order) as its
// Issues. issues must not be empty; it is sorted in place.
func Combine(issues []*Error) *Error {
	slices.SortStableFunc(issues, func(a, b *Error) int {
		return strings.Compare(strings.Join(a.Expression, ","), strings.Join(b.Expression, ","))
	})
	first := *issues[0]
	first.Issues = issues[1:]
	return &first
}

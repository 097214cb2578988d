package httpapi

import (
	"net/http"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// errorMapping is how one domain error code is answered.
type errorMapping struct {
	status    int
	issueCode string // http://hl7.org/fhir/issue-type
}

// errorTable maps every domain error code to an HTTP status and an
// OperationOutcome issue code. It is the only place that does.
var errorTable = map[string]errorMapping{
	adapter.EINVALID:         {http.StatusBadRequest, "invalid"},
	adapter.ESTRUCTURE:       {http.StatusBadRequest, "structure"},
	adapter.EREQUIRED:        {http.StatusBadRequest, "required"},
	adapter.EVALUE:           {http.StatusBadRequest, "value"},
	adapter.ECODEINVALID:     {http.StatusBadRequest, "code-invalid"},
	adapter.ENOTSUPPORTED:    {http.StatusBadRequest, "not-supported"},
	adapter.EBUSINESSRULE:    {http.StatusUnprocessableEntity, "business-rule"},
	adapter.EINVARIANT:       {http.StatusBadRequest, "invariant"},
	adapter.EUNAUTHORIZED:    {http.StatusUnauthorized, "login"},
	adapter.EFORBIDDEN:       {http.StatusForbidden, "forbidden"},
	adapter.ENOTFOUND:        {http.StatusNotFound, "not-found"},
	adapter.EMETHOD:          {http.StatusMethodNotAllowed, "not-supported"},
	adapter.ENOTACCEPTABLE:   {http.StatusNotAcceptable, "not-supported"},
	adapter.ECONFLICT:        {http.StatusConflict, "conflict"},
	adapter.EPRECONDITION:    {http.StatusPreconditionFailed, "multiple-matches"},
	adapter.EVERSION:         {http.StatusPreconditionFailed, "conflict"},
	adapter.ETOOLARGE:        {http.StatusRequestEntityTooLarge, "too-long"},
	adapter.EHEADERSTOOLARGE: {http.StatusRequestHeaderFieldsTooLarge, "too-long"},
	adapter.EUNSUPPORTEDTYPE: {http.StatusUnsupportedMediaType, "not-supported"},
	adapter.ERATELIMIT:       {http.StatusTooManyRequests, "throttled"},
	adapter.EUNAVAILABLE:     {http.StatusServiceUnavailable, "transient"},
	adapter.EINTERNAL:        {http.StatusInternalServerError, "exception"},
}

// mappingFor returns the mapping for a code; unknown codes are internal.
func mappingFor(code string) errorMapping {
	if m, ok := errorTable[code]; ok {
		return m
	}
	return errorTable[adapter.EINTERNAL]
}

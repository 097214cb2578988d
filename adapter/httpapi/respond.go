package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/tidwall/gjson"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// ContentTypeFHIR is the media type of every FHIR response.
const ContentTypeFHIR = "application/fhir+json; charset=utf-8"

// retryAfterSeconds is advertised when the store is unavailable or a
// client is throttled.
const retryAfterSeconds = 5

// writeFHIR sends a FHIR JSON body. A final newline keeps terminal output
// (curl) readable and is insignificant JSON whitespace.
func (s *Server) writeFHIR(c *gin.Context, status int, body []byte) {
	if n := len(body); n > 0 && body[n-1] != '\n' {
		body = append(body[:n:n], '\n')
	}
	c.Data(status, ContentTypeFHIR, body)
}

// writeError answers with the OperationOutcome for err. Internal errors are
// logged with the request id and answered with a generic message: no stack
// trace or internal detail ever reaches the caller.
func (s *Server) writeError(c *gin.Context, err error) {
	var e *adapter.Error
	if !errors.As(err, &e) {
		s.log.ErrorContext(c.Request.Context(), "internal error", "error", err.Error(), "request_id", requestID(c))
		e = &adapter.Error{Code: adapter.EINTERNAL, Message: "internal error; quote request id " + requestID(c)}
	} else if e.Code == adapter.EINTERNAL {
		s.log.ErrorContext(c.Request.Context(), "internal error", "error", err.Error(), "request_id", requestID(c))
	}
	m := mappingFor(e.Code)
	errorsByCode.WithLabelValues(m.issueCode).Inc()
	if (m.status == http.StatusServiceUnavailable || m.status == http.StatusTooManyRequests) && c.Writer.Header().Get("Retry-After") == "" {
		c.Header("Retry-After", strconv.Itoa(retryAfterSeconds))
	}
	if m.status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Bearer realm="referral-adapter"`)
	}
	issues := []fhir.Issue{issueFor(e, m.issueCode)}
	for _, sub := range e.Issues {
		issues = append(issues, issueFor(sub, mappingFor(sub.Code).issueCode))
	}
	c.Set(ctxErrorCode, e.Code)
	if browsingDashboard(c) && writeDashboardError(c, m.status, issues) {
		return
	}
	s.writeFHIR(c, m.status, s.render.OperationOutcome(issues...))
}

func issueFor(e *adapter.Error, code string) fhir.Issue {
	return fhir.Issue{Severity: "error", Code: code, Diagnostics: e.Message, Expression: e.Expression}
}

// abort writes the error and stops the handler chain.
func (s *Server) abort(c *gin.Context, err error) {
	s.writeError(c, err)
	c.Abort()
}

// logAttrs are the attributes safe to log about a request: never bodies,
// query strings or path ids.
func logAttrs(c *gin.Context) []any {
	attrs := []any{"method", c.Request.Method, "route", c.FullPath(), "status", c.Writer.Status(), "request_id", requestID(c)}
	if p := principalOf(c); p != nil {
		attrs = append(attrs, "role", string(p.Role), "org", p.Org)
	}
	if code, ok := c.Get(ctxErrorCode); ok {
		attrs = append(attrs, "error_code", code)
	}
	return attrs
}

// writeResource answers a read of one resource (issue 18): ETag (its
// version) and Last-Modified (meta.lastUpdated); 304 with no body when
// If-None-Match names that version; and, for a vread
// (.../_history/{vid}), the resource only when {vid} is its current
// version: earlier versions are not kept, and answer 404.
func (s *Server) writeResource(c *gin.Context, body []byte) {
	vid := gjson.GetBytes(body, "meta.versionId").Str
	if want := c.Param("vid"); want != "" && want != vid {
		kind := gjson.GetBytes(body, "resourceType").Str
		s.writeError(c, adapter.Errorf(adapter.ENOTFOUND, "%s version %s is not kept: only the current version (%s) is", kind, adapter.Clip(want, nameMax), vid))
		return
	}
	if vid != "" {
		etag := `W/"` + vid + `"`
		c.Header("ETag", etag)
		if match := c.GetHeader("If-None-Match"); match != "" && etagMatches(match, etag) {
			s.setLastModified(c, body)
			c.Status(http.StatusNotModified)
			return
		}
	}
	s.setLastModified(c, body)
	s.writeFHIR(c, http.StatusOK, body)
}

func (s *Server) setLastModified(c *gin.Context, body []byte) {
	if lu := gjson.GetBytes(body, "meta.lastUpdated").Str; lu != "" {
		if t, err := time.Parse(time.RFC3339Nano, lu); err == nil {
			c.Header("Last-Modified", t.UTC().Format(http.TimeFormat))
		}
	}
}

// etagMatches reports whether an If-None-Match header names the ETag
// (weak comparison, as RFC 9110 has If-None-Match use; "*" matches any).
func etagMatches(header, etag string) bool {
	strip := func(s string) string { return strings.TrimPrefix(strings.TrimSpace(s), "W/") }
	for _, e := range strings.Split(header, ",") {
		if strings.TrimSpace(e) == "*" || strip(e) == strip(etag) {
			return true
		}
	}
	return false
}

// location is a created resource's Location, as R4 has it: absolute and
// naming the version, [base]/[type]/[id]/_history/[vid]; the vread it
// names answers.
func (s *Server) location(c *gin.Context, kind, id string, version int) string {
	return s.baseURL(c) + "/" + kind + "/" + id + "/_history/" + strconv.Itoa(max(1, version))
}

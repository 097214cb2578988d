package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/tidwall/gjson"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/auth"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/adapter/intake"
)

func (s *Server) createServiceRequest(c *gin.Context) {
	s.create(c, adapter.KindServiceRequest, s.Intake.CreateServiceRequest)
}

func (s *Server) createConsent(c *gin.Context) {
	s.create(c, adapter.KindConsent, s.Intake.CreateConsent)
}

type createFunc func(ctx context.Context, c intake.Caller, body []byte, cond adapter.Identifier) (*intake.Result, error)

// create handles a (conditional) create: 201 with the stored resource, or
// 200 with the earlier one when the identifier was already received.
func (s *Server) create(c *gin.Context, kind string, fn createFunc) {
	cond, err := ifNoneExist(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	p := principalOf(c)
	res, err := fn(c.Request.Context(), p.Caller(), bodyOf(c), cond)
	if err != nil {
		s.writeError(c, err)
		return
	}
	status := http.StatusCreated
	if res.Existing || res.Version > 1 { // a withdrawn Consent is a new version (issue 4)
		status = http.StatusOK
	}
	c.Header("Location", s.location(c, kind, res.ID, max(1, res.Version)))
	c.Header("ETag", weakETag(max(1, res.Version)))
	s.setLastModified(c, res.JSON)
	s.respondCreated(c, status, res)
}

// respondCreated honours Prefer: return=minimal | representation |
// OperationOutcome (representation by default).
func (s *Server) respondCreated(c *gin.Context, status int, res *intake.Result) {
	safetyHeaders(c, res)
	switch preferReturn(c) {
	case "minimal":
		c.Status(status)
	case "OperationOutcome":
		s.writeFHIR(c, status, s.render.OperationOutcome(s.createdIssues(res)...))
	default:
		s.writeFHIR(c, status, res.JSON)
	}
}

// createdIssues describes a create, including where a referral went.
func (s *Server) createdIssues(res *intake.Result) []fhir.Issue {
	msg := res.Kind + "/" + res.ID + " created"
	if res.Existing {
		msg = res.Kind + "/" + res.ID + " already received with this identifier"
	}
	issues := []fhir.Issue{{Severity: "information", Code: "informational", Diagnostics: msg}}
	if t := res.Task; t != nil {
		issues = append(issues, taskIssue(t, s.describe(t)))
	}
	return issues
}

// taskIssue says where a referral's Task stands; a referral stopped at
// intake (safety screen) is a warning the clinician must read.
func taskIssue(t *adapter.Task, description string) fhir.Issue {
	is := fhir.Issue{Severity: "information", Code: "informational",
		Diagnostics: "Task/" + t.ID + " is " + string(t.Status) + ": " + description}
	if t.Status == adapter.TaskRejected {
		is.Severity, is.Code = "warning", "business-rule"
		is.Diagnostics = "Task/" + t.ID + " is rejected (" + t.BusinessStatus.Code + "): " + description
	}
	return is
}

// safetyHeaders tells the referrer, on any Prefer, that the referral was
// accepted for the record but not queued.
func safetyHeaders(c *gin.Context, res *intake.Result) {
	if t := res.Task; t != nil && t.Status == adapter.TaskRejected {
		c.Header("X-Task-Status", "rejected; reason="+t.BusinessStatus.Code+"; task=Task/"+t.ID)
	}
}

func preferReturn(c *gin.Context) string { return preference(c, "return") }

// preference is the value the Prefer headers give name (RFC 7240: the
// preferences separated by ',', each with its parameters after ';', the
// token case-insensitive, '=' with optional space, a quoted value
// unquoted); "" when none does.
func preference(c *gin.Context, name string) string {
	for _, pref := range c.Request.Header.Values("Prefer") {
		for _, part := range strings.FieldsFunc(pref, func(r rune) bool { return r == ',' || r == ';' }) {
			if k, v, ok := strings.Cut(part, "="); ok && strings.EqualFold(strings.TrimSpace(k), name) {
				return strings.Trim(strings.TrimSpace(v), `"`)
			}
		}
	}
	return ""
}

// unconditional refuses an If-None-Exist header where conditional create
// is not offered (the CapabilityStatement's conditionalCreate): ignoring
// it would create what the client asked to create only if absent.
func (s *Server) unconditional(what string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if _, given := c.Request.Header["If-None-Exist"]; given {
			s.abort(c, adapter.Errorf(adapter.ENOTSUPPORTED, "conditional create (If-None-Exist) is not supported for %s", what).At("If-None-Exist"))
		}
	}
}

// ifNoneExist reads a conditional create's If-None-Exist header. One given
// but empty is refused rather than read as absent: the client asked for a
// condition, and creating unconditionally could duplicate.
func ifNoneExist(c *gin.Context) (adapter.Identifier, error) {
	vals, given := c.Request.Header["If-None-Exist"]
	if !given {
		return adapter.Identifier{}, nil
	}
	if len(vals) != 1 || strings.TrimSpace(vals[0]) == "" {
		return adapter.Identifier{}, adapter.Errorf(adapter.EINVALID, "If-None-Exist must be given once, as identifier=system|value").At("If-None-Exist")
	}
	return fhir.ParseIdentifierCondition(vals[0])
}

// transaction handles POST /fhir with a transaction Bundle.
func (s *Server) transaction(c *gin.Context) {
	entries, err := s.Parser.Transaction(bodyOf(c))
	if err != nil {
		s.writeError(c, err)
		return
	}
	in := make([]intake.Entry, len(entries))
	for i := range entries {
		e := &entries[i]
		in[i] = intake.Entry{Tx: e}
		if e.IfNoneExist != "" {
			if in[i].IfNoneExist, err = fhir.ParseIdentifierCondition(e.IfNoneExist); err != nil {
				s.writeError(c, at(err, fmt.Sprintf("Bundle.entry[%d].request.ifNoneExist", e.Index)))
				return
			}
		}
	}
	p := principalOf(c)
	results, err := s.Intake.Transact(c.Request.Context(), p.Caller(), in)
	if err != nil {
		s.writeError(c, err)
		return
	}
	s.transactionResponse(c, results)
}

func (s *Server) transactionResponse(c *gin.Context, results []*intake.Result) {
	now := s.now()
	out := make([]fhir.BundleEntry, len(results))
	minimal := preferReturn(c) == "minimal"
	for i, r := range results {
		status := "201 Created"
		if r.Existing || r.Version > 1 {
			status = "200 OK"
		}
		v := strconv.Itoa(max(1, r.Version))
		out[i] = fhir.BundleEntry{
			FullURL: s.baseURL(c) + "/" + r.Kind + "/" + r.ID,
			Response: &fhir.EntryResponse{Status: status, Location: r.Kind + "/" + r.ID + "/_history/" + v, Etag: `W/"` + v + `"`,
				LastModified: gjson.GetBytes(r.JSON, "meta.lastUpdated").Str},
		}
		if !minimal {
			out[i].Resource = r.JSON
		}
		if t := r.Task; t != nil && t.Status == adapter.TaskRejected {
			out[i].Response.Outcome = s.render.OperationOutcome(taskIssue(t, s.describe(t)))
		}
	}
	body, err := fhir.TransactionResponse(newBundleID(), now, out)
	if err != nil {
		s.writeError(c, err)
		return
	}
	s.writeFHIR(c, http.StatusOK, body)
}

// visibleTask loads a Task and checks, with the access policy, that the
// caller may see it; a Task the caller may not see answers exactly as one
// that does not exist, so existence never leaks.
func (s *Server) visibleTask(c *gin.Context, id string) (*adapter.Task, error) {
	t, err := s.Store.Task(c.Request.Context(), id)
	if adapter.ErrorCode(err) == adapter.ENOTFOUND {
		return nil, adapter.NotFound("Task")
	}
	if err != nil {
		return nil, err
	}
	seen, err := s.Access.SeeTask(c.Request.Context(), callerOf(c), t)
	if err != nil {
		return nil, err
	}
	if !seen {
		return nil, adapter.NotFound("Task")
	}
	return t, nil
}

func (s *Server) readServiceRequest(c *gin.Context) {
	id := c.Param("id")
	if err := s.visibleReferral(c, id); err != nil {
		s.writeError(c, notFoundAs(err, "ServiceRequest"))
		return
	}
	body, err := s.referralFor(c, id)
	if err != nil {
		s.writeError(c, notFoundAs(err, "ServiceRequest"))
		return
	}
	s.writeResource(c, body)
}

// visibleReferral answers nil when the caller may see the referral: it
// sees the referral's own Task, or one of its onward referrals' Tasks (the
// provider holding an onward referral reads the ServiceRequest its Task's
// focus names, as the claim gave it). Each Task is decided by SeeTask,
// whose consent decision is about this ServiceRequest.
func (s *Server) visibleReferral(c *gin.Context, id string) error {
	_, err := s.visibleTask(c, id)
	if adapter.ErrorCode(err) != adapter.ENOTFOUND {
		return err
	}
	ctx, caller := c.Request.Context(), callerOf(c)
	tasks, terr := s.Store.TasksForReferral(ctx, id)
	if adapter.ErrorCode(terr) == adapter.ENOTFOUND {
		return err
	}
	if terr != nil {
		return terr
	}
	for _, t := range tasks {
		if t.ID == id {
			continue // the referral's own Task: decided above
		}
		seen, serr := s.Access.SeeTask(ctx, caller, t)
		if serr != nil || seen {
			return serr
		}
	}
	return err
}

// referralFor is a referral's ServiceRequest as the caller, who may see
// it, gets it. Minimum necessary: a VCSE provider gets the reason for
// referral and the patient reference, not the GP's clinical narrative.
func (s *Server) referralFor(c *gin.Context, id string) ([]byte, error) {
	body, err := s.Store.ServiceRequest(c.Request.Context(), id)
	if err != nil || principalOf(c).Role != auth.RoleProvider {
		return body, err
	}
	return fhir.MinimumNecessary(body)
}

// notFoundAs renames a not-found error after the resource asked for.
func notFoundAs(err error, kind string) error {
	if adapter.ErrorCode(err) == adapter.ENOTFOUND {
		return adapter.NotFound(kind)
	}
	return err
}

func (s *Server) readConsent(c *gin.Context) {
	body, practice, err := s.Store.Consent(c.Request.Context(), c.Param("id"))
	if err == nil && principalOf(c).Org != practice {
		err = adapter.NotFound("Consent")
	}
	if err != nil {
		s.writeError(c, notFoundAs(err, "Consent"))
		return
	}
	s.writeResource(c, body)
}

// at points a domain error at an expression; other errors pass through.
func at(err error, expr string) error {
	if e, ok := err.(*adapter.Error); ok {
		return e.At(expr)
	}
	return err
}

package httpapi

import (
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/tidwall/gjson"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// ServiceRequest searches (issue 18): identifier ([system|]value: without
// a system, by value across systems), subject and patient (a reference,
// Patient/{id} or Patient?identifier=...), subject:identifier and
// patient:identifier ([system|]value), status, _lastUpdated (any date prefix) and
// _id; each caller shown only the referrals it may see, paged as Task
// searches are (creation order).

// srParams are the ServiceRequest search parameters.
var srParams = []string{"identifier", "subject", "patient", "subject:identifier", "patient:identifier", "status", "_lastUpdated", "_id"}

// serviceRequestStatuses is the request-status value set.
var serviceRequestStatuses = []string{"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"}

// srQuery is a parsed ServiceRequest search.
type srQuery struct {
	ident    adapter.Identifier // System "" matches any system
	subject  func(string) bool  // nil: any patient
	statuses []string
	since    time.Time // exclusive bounds of _lastUpdated; zero: none
	until    time.Time
	id       string
}

func srQueryOf(c *gin.Context) (srQuery, error) {
	var q srQuery
	if v, ok := c.GetQuery("identifier"); ok {
		ident, err := identifierToken(v, "identifier")
		if err != nil {
			return q, err
		}
		q.ident = ident
	}
	for _, name := range []string{"subject", "patient"} {
		if v, ok := c.GetQuery(name); ok {
			if !strings.HasPrefix(v, "Patient/") && !strings.HasPrefix(v, "Patient?identifier=") || fhir.ReferenceProblem(v) != "" {
				return q, adapter.Errorf(adapter.EVALUE, "%s must be Patient/{id} or Patient?identifier=system|value", name).At(name)
			}
			q.subject = func(ref string) bool { return ref == v }
		}
		if v, ok := c.GetQuery(name + ":identifier"); ok {
			ident, err := identifierToken(v, name+":identifier")
			if err != nil {
				return q, err
			}
			q.subject = func(ref string) bool {
				sysValue, ok := strings.CutPrefix(ref, "Patient?identifier=")
				if !ok {
					return false
				}
				sys, val, _ := strings.Cut(sysValue, "|")
				return val == ident.Value && (ident.System == "" || sys == ident.System)
			}
		}
	}
	if v := c.Query("status"); v != "" {
		q.statuses = strings.Split(v, ",")
		for _, st := range q.statuses {
			if !slices.Contains(serviceRequestStatuses, st) {
				return q, adapter.Errorf(adapter.ECODEINVALID, "%q is not a ServiceRequest status", adapter.Clip(st, nameMax)).At("status")
			}
		}
	}
	var err error
	if q.since, q.until, err = lastUpdated(c); err != nil {
		return q, err
	}
	if v, ok := c.GetQuery("_id"); ok {
		if !fhirID.MatchString(v) {
			return q, adapter.Errorf(adapter.EVALUE, "_id must be a FHIR id").At("_id")
		}
		q.id = v
	}
	return q, nil
}

// identifierToken reads a token search value: system|value, or a value
// alone (any system). What FHIR's token search means but this server does
// not do is refused rather than answered wrongly: a list (a,b: FHIR's OR)
// and |value (an identifier with no system, which is not indexed here).
func identifierToken(v, at string) (adapter.Identifier, error) {
	if strings.Contains(strings.ReplaceAll(v, `\,`, ""), ",") {
		return adapter.Identifier{}, adapter.Errorf(adapter.ENOTSUPPORTED, "%s takes one value here, not a list: search once per identifier", at).At(at)
	}
	sys, val, ok := strings.Cut(v, "|")
	if !ok {
		sys, val = "", v
	} else if sys == "" {
		return adapter.Identifier{}, adapter.Errorf(adapter.ENOTSUPPORTED, "%s: an identifier without a system (|value) is not searchable here; give system|value, or the value alone", at).At(at)
	}
	val = strings.ReplaceAll(val, `\,`, ",")
	if strings.TrimSpace(val) == "" {
		return adapter.Identifier{}, adapter.Errorf(adapter.EVALUE, "%s needs a value: value, or system|value", at).At(at)
	}
	return adapter.Identifier{System: sys, Value: val}, nil
}

// matches is the part of the query the referral's Task answers: it is a
// referral's own Task, of the patient asked for, stored (the
// ServiceRequest's meta.lastUpdated is when it was) after since. A stored
// ServiceRequest keeps the status its practice sent (active): the Task
// says where the referral stands.
func (q srQuery) matches(t *adapter.Task) bool {
	return t.ID == t.ReferralID && (q.id == "" || t.ID == q.id) && (q.subject == nil || q.subject(t.Patient)) &&
		(q.since.IsZero() || t.AuthoredOn.After(q.since)) && (q.until.IsZero() || t.AuthoredOn.Before(q.until)) &&
		(len(q.statuses) == 0 || slices.Contains(q.statuses, "active"))
}

// searchServiceRequest: GET /fhir/ServiceRequest.
func (s *Server) searchServiceRequest(c *gin.Context) {
	if err := onlyParams(c, srParams...); err != nil {
		s.writeError(c, err)
		return
	}
	pr, err := pageRequestOf(c)
	if err == nil {
		var q srQuery
		if q, err = srQueryOf(c); err == nil {
			err = s.serviceRequestPage(c, pr, q)
		}
	}
	if err != nil {
		s.writeError(c, err)
	}
}

func (s *Server) serviceRequestPage(c *gin.Context, pr pageRequest, q srQuery) error {
	m := taskMatcher{s: s, ctx: c.Request.Context(), caller: callerOf(c), also: q.matches}
	var found foundTasks
	var err error
	switch {
	case q.ident.Value != "":
		found, err = s.referralsByIdentifier(c, m, pr, q.ident)
	case q.id != "":
		m.f.focus = q.id
		found, err = s.findTasks(m, pr)
	default:
		found, err = s.scanTasks(m, pr)
	}
	if err != nil {
		return err
	}
	p := page{next: found.next, prev: found.prev, total: found.total}
	for _, t := range found.tasks {
		body, err := s.referralFor(c, t.ID)
		if err != nil {
			return err
		}
		p.entries = append(p.entries, fhir.BundleEntry{FullURL: s.baseURL(c) + "/ServiceRequest/" + t.ID, Resource: body})
	}
	s.writePage(c, pr, p)
	return nil
}

// referralsByIdentifier finds the referrals with a business identifier
// (by its value, across practices and, without a system, across systems),
// keeping those the caller may see.
func (s *Server) referralsByIdentifier(c *gin.Context, m taskMatcher, pr pageRequest, ident adapter.Identifier) (foundTasks, error) {
	ctx := c.Request.Context()
	ids, err := s.Store.ReferralsByIdentifier(ctx, ident.Value)
	if err != nil {
		return foundTasks{}, err
	}
	var matched []*adapter.Task
	for _, id := range ids {
		t, err := s.Store.Task(ctx, id)
		if adapter.ErrorCode(err) == adapter.ENOTFOUND {
			continue
		}
		if err != nil {
			return foundTasks{}, err
		}
		ok, err := m.match(t)
		if err != nil {
			return foundTasks{}, err
		}
		if !ok {
			continue
		}
		if ident.System != "" {
			body, err := s.Store.ServiceRequest(ctx, id)
			if adapter.ErrorCode(err) == adapter.ENOTFOUND {
				continue
			}
			if err != nil {
				return foundTasks{}, err
			}
			if !hasIdentifier(body, ident) {
				continue
			}
		}
		matched = append(matched, t)
	}
	return keyedPage(matched, pr)
}

func hasIdentifier(body []byte, ident adapter.Identifier) bool {
	for _, id := range gjson.GetBytes(body, "identifier").Array() {
		if id.Get("system").Str == ident.System && id.Get("value").Str == ident.Value {
			return true
		}
	}
	return false
}

package httpapi

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// respondTask answers 200 with the Task as the caller may see it.
func (s *Server) respondTask(c *gin.Context, t *adapter.Task) {
	body, err := s.renderTask(c.Request.Context(), t, callerOf(c))
	if err != nil {
		s.writeError(c, err)
		return
	}
	s.writeFHIR(c, http.StatusOK, body)
}

func (s *Server) readTask(c *gin.Context) {
	t, err := s.visibleTask(c, c.Param("id"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	body, err := s.renderTask(c.Request.Context(), t, callerOf(c))
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.Header("ETag", weakETag(t.Version))
	s.writeFHIR(c, http.StatusOK, body)
}

// renderTask renders a Task for a caller: Task.output lists the outcomes
// the caller may see; when the referring practice is shown fewer than were
// recorded, the Task carries the REDACTED security label, so the GP knows
// something was withheld without learning what.
func (s *Server) renderTask(ctx context.Context, t *adapter.Task, caller adapter.Caller) ([]byte, error) {
	view := fhir.TaskView{}
	if svc, ok := s.Mappings.Service(t.Owner); ok {
		view.OwnerName = svc.Name
		if t.BusinessStatus.Code == adapter.BSClaimed {
			// The service picked it up; the named contact (a note) is the
			// person (issue 19).
			t.BusinessStatus.Display = "Picked up by " + svc.Name
		}
		view.Contact = namedContact(t, svc)
		if view.Contact != "" {
			view.ContactSince = t.ContactSince
		}
	}
	if t.StatusReason == "" {
		t.StatusReason = s.describe(t)
	}
	if s.Outcomes != nil {
		outs, err := s.Outcomes.Outcomes(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		for _, o := range outs {
			if s.disclosed(ctx, caller, t, o) {
				view.Outputs = append(view.Outputs, o.Type+"/"+o.ID)
			} else {
				view.Redacted = true
			}
		}
		slices.Sort(view.Outputs)
	}
	note, err := s.contactNote(ctx, t)
	if err != nil {
		return nil, err
	}
	if note != "" {
		view.Notes = append(view.Notes, fhir.TaskNote{Text: note, Time: t.AuthoredOn})
	}
	if s.Dialogue != nil {
		// Safeguarding alerts are shown whatever the outcome-sharing
		// consent says (issue 9): who raised one and when, never what.
		flags, err := s.Dialogue.Alerts(ctx, t)
		if err != nil {
			return nil, err
		}
		for _, f := range flags {
			view.Alerts = append(view.Alerts, fhir.TaskNote{Time: f.Raised, Text: "Safeguarding concern raised by " + s.orgName(f.AuthorOrg) +
				" on " + f.Raised.UTC().Format("2 January 2006 15:04 UTC") + ": read " + f.Reference() + " and act on it now"})
		}
	}
	return s.render.Task(t, view)
}

// orgName names an organisation of the directory by its ODS code (the
// network, a provider), or says its code.
func (s *Server) orgName(ods string) string {
	if n := s.Mappings.Network; n.ODS == ods && n.Name != "" {
		return n.Name
	}
	for _, svc := range s.Mappings.Services() {
		if svc.ProvidedBy.ODS == ods && svc.ProvidedBy.Name != "" {
			return svc.ProvidedBy.Name
		}
	}
	return "organisation " + ods
}

// describe says in plain words where a referral stands, for Task.statusReason
// when no explicit reason was recorded.
func (s *Server) describe(t *adapter.Task) string {
	if t.StatusReason != "" {
		return t.StatusReason
	}
	name := t.Owner
	if svc, ok := s.Mappings.Service(t.Owner); ok {
		name = svc.Name
	}
	switch t.BusinessStatus.Code {
	case adapter.BSRouted:
		return "Routed to " + name
	case "":
		return string(t.Status)
	}
	return t.BusinessStatus.Display
}

// searchTask handles GET /fhir/Task?focus=ServiceRequest/{id}, and polling
// with owner=HealthcareService/{id}, status=a,b and _lastUpdated=gt{instant}
// (results oldest change first, at most _count, default 100).
func (s *Server) searchTask(c *gin.Context) {
	if err := onlyParams(c, "focus", "owner", "status", "_lastUpdated", "_count"); err != nil {
		s.writeError(c, err)
		return
	}
	tasks, err := s.findTasks(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	caller := callerOf(c)
	f, err := taskFilterOf(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	var entries []fhir.BundleEntry
	for _, t := range tasks {
		if !f.matches(t) {
			continue
		}
		seen, err := s.Access.SeeTask(c.Request.Context(), caller, t)
		if err != nil {
			s.writeError(c, err)
			return
		}
		if !seen {
			continue
		}
		body, err := s.renderTask(c.Request.Context(), t, caller)
		if err != nil {
			s.writeError(c, err)
			return
		}
		entries = append(entries, fhir.BundleEntry{FullURL: s.baseURL(c) + "/Task/" + t.ID, Resource: body})
		if len(entries) == f.count {
			break
		}
	}
	s.searchset(c, entries)
}

func (s *Server) findTasks(c *gin.Context) ([]*adapter.Task, error) {
	if v, ok := c.GetQuery("focus"); ok {
		focus := strings.TrimPrefix(v, "ServiceRequest/")
		if focus == "" || strings.Contains(focus, "/") {
			return nil, adapter.Errorf(adapter.EINVALID, "focus must be ServiceRequest/{id}").At("focus")
		}
		return s.Store.TasksForReferral(c.Request.Context(), focus)
	}
	var since time.Time
	if v := c.Query("_lastUpdated"); v != "" {
		bound, prefix, t, err := datePrefix(v, time.RFC3339)
		if err != nil || bound != "lower" {
			return nil, adapter.Errorf(adapter.EVALUE, "_lastUpdated must be gt or ge followed by an instant, e.g. gt2026-11-23T09:00:00Z").At("_lastUpdated")
		}
		since = t
		if prefix == "ge" {
			since = t.Add(-time.Millisecond)
		}
	}
	// Read more than asked: the visibility filter drops other tenants' Tasks.
	return s.Store.ChangedTasks(c.Request.Context(), since, 2000)
}

// taskFilter is the owner/status/_count part of a Task search.
type taskFilter struct {
	owner    string
	statuses []string
	count    int
}

func taskFilterOf(c *gin.Context) (taskFilter, error) {
	f := taskFilter{owner: strings.TrimPrefix(c.Query("owner"), "HealthcareService/"), count: 100}
	if v := c.Query("status"); v != "" {
		f.statuses = strings.Split(v, ",")
		for _, st := range f.statuses {
			if !adapter.TaskStatus(st).Valid() {
				return f, adapter.Errorf(adapter.ECODEINVALID, "unknown Task status %q", clip(st)).At("status")
			}
		}
	}
	if v := c.Query("_count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return f, adapter.Errorf(adapter.EVALUE, "_count must be 1..1000").At("_count")
		}
		f.count = n
	}
	return f, nil
}

func (f taskFilter) matches(t *adapter.Task) bool {
	return (f.owner == "" || t.Owner == f.owner) && (len(f.statuses) == 0 || slices.Contains(f.statuses, string(t.Status)))
}

func (s *Server) searchset(c *gin.Context, entries []fhir.BundleEntry) {
	self := s.baseURL(c) + strings.TrimPrefix(c.Request.URL.Path, "/fhir")
	if q := c.Request.URL.RawQuery; q != "" {
		self += "?" + q
	}
	body, err := fhir.SearchSet(newBundleID(), self, s.now(), entries)
	if err != nil {
		s.writeError(c, err)
		return
	}
	s.writeFHIR(c, http.StatusOK, body)
}

// resultParams are accepted on every search and do not filter.
var resultParams = map[string]bool{"_format": true, "_pretty": true}

// onlyParams rejects search parameters the endpoint does not support:
// silently ignoring a filter could show a caller results it did not ask
// for (FHIR's strict handling).
func onlyParams(c *gin.Context, allowed ...string) error {
	for k := range c.Request.URL.Query() {
		if resultParams[k] || contains(allowed, k) {
			continue
		}
		return adapter.Errorf(adapter.ENOTSUPPORTED, "search parameter %q is not supported here; supported: %s",
			clip(k), strings.Join(allowed, ", ")).At(clip(k))
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// clip bounds a caller-supplied name before it is echoed.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40]
	}
	return s
}

// baseURL is the FHIR base for fullUrls: BASE_URL when configured,
// otherwise derived from the request.
func (s *Server) baseURL(c *gin.Context) string {
	if s.cfg.BaseURL != "" {
		return strings.TrimSuffix(s.cfg.BaseURL, "/")
	}
	scheme := "http"
	if c.Request.TLS != nil || c.GetHeader("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host + "/fhir"
}

func newBundleID() string { return uuid.NewString() }

func weakETag(v int) string { return `W/"` + strconv.Itoa(v) + `"` }

// namedContact tells the referrer who is handling the referral and how to
// reach them (issue 9): the link worker or provider who took it, their
// role, the service and its work contact routes (phone, email), and when
// it was handed over to them from an earlier named contact. The note's time
// is when they took it. Nothing about the patient.
func namedContact(t *adapter.Task, svc *adapter.Service) string {
	if t.ClaimantName == "" || t.Status == adapter.TaskRequested && t.LeaseUntil.IsZero() {
		return ""
	}
	msg := "Named contact: " + t.ClaimantName
	if t.ClaimantTitle != "" {
		msg += " (" + t.ClaimantTitle + ")"
	}
	msg += ", " + svc.Name
	for _, route := range []string{svc.Contact.Phone, svc.Contact.Email} {
		if route != "" {
			msg += ", " + route
		}
	}
	if !t.HandedOver.IsZero() {
		msg += ". Handed over to them on " + t.HandedOver.UTC().Format("2 January 2006 15:04 UTC")
	}
	return msg
}

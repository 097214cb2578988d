package httpapi

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// respondTask answers 200 with the Task as the caller may see it, with its
// version's ETag and Last-Modified.
func (s *Server) respondTask(c *gin.Context, t *adapter.Task) {
	body, err := s.renderTask(c.Request.Context(), t, callerOf(c))
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.Header("ETag", `W/"`+strconv.Itoa(t.Version)+`"`)
	s.setLastModified(c, body)
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
	s.writeResource(c, body)
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

// resultParams are accepted on every search and do not filter.
var resultParams = map[string]bool{"_format": true, "_pretty": true, "_count": true, "_cursor": true}

// repeatable are the search parameters an endpoint combines when given
// more than once (MeasureReport's period: a lower and an upper bound).
var repeatable = map[string]bool{"period": true}

// onlyParams rejects search parameters the endpoint does not support:
// silently ignoring a filter could show a caller results it did not ask
// for (FHIR's strict handling).
//
// A parameter given twice is refused too, unless it is one the endpoint
// combines (repeatable): FHIR reads repeats as AND, and reading the first
// alone would answer a search nobody asked for.
func onlyParams(c *gin.Context, allowed ...string) error {
	for k, vs := range c.Request.URL.Query() {
		if len(vs) > 1 && !repeatable[k] {
			return adapter.Errorf(adapter.ENOTSUPPORTED, "search parameter %q is given %d times; this server does not combine repeats (FHIR reads them as AND): give it once",
				adapter.Clip(k, nameMax), len(vs)).At(adapter.Clip(k, nameMax))
		}
		if resultParams[k] || contains(allowed, k) {
			continue
		}
		if strings.EqualFold(k, "access_token") { // a token in a URL ends up in logs and history: refused, however lenient
			return adapter.Errorf(adapter.ENOTSUPPORTED, "a token is never taken from the URL (access_token): send it as Authorization: Bearer").At(k)
		}
		if lenient(c) { // ignored, and left out of the self link
			q := c.Request.URL.Query()
			q.Del(k)
			c.Request.URL.RawQuery = q.Encode()
			continue
		}
		return adapter.Errorf(adapter.ENOTSUPPORTED, "search parameter %q is not supported here; supported: %s",
			adapter.Clip(k, nameMax), strings.Join(allowed, ", ")).At(adapter.Clip(k, nameMax))
	}
	return nil
}

// lenient: the client sent Prefer: handling=lenient, asking that search
// parameters the server does not know be ignored rather than refused
// (FHIR search.html#errors); the Bundle's self link then shows the
// search that was done.
func lenient(c *gin.Context) bool { return strings.EqualFold(preference(c, "handling"), "lenient") }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
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

// nameMax is how much of a caller-supplied parameter name, status or
// version an error message echoes.
const nameMax = 40

package httpapi

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
	"github.com/social-prescribing/referral-adapter/adapter/dashboard"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// dashboardPage: GET /dashboard?area=&from=&to=, the commissioners' page
// (issue 8): the capacity report and its trend drawn as HTML with inline
// SVG, for the areas the caller may see. Like every route it needs a
// bearer token: a browser reaches it through a proxy that adds the
// header. A token in the query string (?access_token=) is refused as an
// unknown parameter: it would end up in browser history and proxy logs.
func (s *Server) dashboardPage(c *gin.Context) {
	r, from, to, err := s.buildCapacityReport(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	days, _, _, _ := s.reportPeriod(c, "from", "to")
	t, err := s.Reports.Trend(c.Request.Context(), days, r.Areas)
	if err != nil {
		s.writeError(c, err)
		return
	}
	in := dashboard.Input{Report: r, Trend: t, Area: c.Query("area"), From: from.Format(time.DateOnly), To: to.Format(time.DateOnly),
		Generated: s.now(), Path: "/dashboard"}
	if s.Mappings != nil {
		in.Network = s.Mappings.Network.Name
	}
	if p := principalOf(c); p.Role != auth.RoleAdmin {
		in.Choices = slices.Sorted(slices.Values(s.areasOf(p)))
	}
	var buf bytes.Buffer
	if err := dashboard.Render(&buf, dashboard.Build(in)); err != nil {
		s.writeError(c, err)
		return
	}
	c.Header("Content-Security-Policy", dashboard.CSP)
	c.Data(http.StatusOK, "text/html; charset=utf-8", buf.Bytes())
}

// dashboardCSV: GET /dashboard/report.csv?area=&from=&to=, the page's
// download: the capacity report as CSV, whatever the Accept header (a link
// cannot set one).
func (s *Server) dashboardCSV(c *gin.Context) {
	r, _, _, err := s.buildCapacityReport(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	s.writeCSV(c, r)
}

// browsingDashboard: a browser asking for the dashboard or its download
// (Accept names text/html, as every browser's navigation does), which is
// answered an error as a page rather than as FHIR JSON. A client asking
// for anything else gets the OperationOutcome, as everywhere.
func browsingDashboard(c *gin.Context) bool {
	p := c.Request.URL.Path
	if p != "/dashboard" && !strings.HasPrefix(p, "/dashboard/") {
		return false
	}
	return strings.Contains(c.GetHeader("Accept"), "text/html")
}

// writeDashboardError answers status with a page listing the issues'
// diagnostics, with the way back to the dashboard; false if the page could
// not be drawn (the caller then answers FHIR JSON).
func writeDashboardError(c *gin.Context, status int, issues []fhir.Issue) bool {
	p := dashboard.ErrorPage{Status: status, Back: "/dashboard"}
	for _, i := range issues {
		p.Problems = append(p.Problems, i.Diagnostics)
	}
	var buf bytes.Buffer
	if err := dashboard.RenderError(&buf, p); err != nil {
		return false
	}
	c.Header("Content-Security-Policy", dashboard.CSP)
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
	return true
}

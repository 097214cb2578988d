package httpapi

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/auth"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/adapter/report"
)

// Reports builds commissioners' and practices' reports (issue 8).
type Reports interface {
	Capacity(ctx context.Context, days []string, areas []string) (*report.Report, error)
	Practice(ctx context.Context, practice string, days []string) (*report.PracticeReport, error)
	Trend(ctx context.Context, days []string, areas []string) (*report.Trend, error)
}

// reportPeriod reads from and to (YYYY-MM-DD, default: the last 30 days).
func (s *Server) reportPeriod(c *gin.Context, fromParam, toParam string) ([]string, time.Time, time.Time, error) {
	to := s.now().UTC().Truncate(24 * time.Hour)
	from := to.AddDate(0, 0, -29)
	var err error
	if v := c.Query(fromParam); v != "" {
		if from, err = time.Parse(time.DateOnly, v); err != nil {
			return nil, from, to, adapter.Errorf(adapter.EVALUE, "%s must be a date YYYY-MM-DD", fromParam).At(fromParam)
		}
	}
	if v := c.Query(toParam); v != "" {
		if to, err = time.Parse(time.DateOnly, v); err != nil {
			return nil, from, to, adapter.Errorf(adapter.EVALUE, "%s must be a date YYYY-MM-DD", toParam).At(toParam)
		}
	}
	days, err := report.Days(from, to)
	return days, from, to, err
}

// reportAreas is the areas a caller may see: a commissioner only those in
// its token (narrowed by area=), an admin any.
func (s *Server) reportAreas(c *gin.Context) ([]string, error) {
	p := principalOf(c)
	want := c.Query("area")
	if p.Role == auth.RoleAdmin {
		if want == "" {
			return nil, nil
		}
		return []string{want}, nil
	}
	if len(p.Areas) == 0 {
		return nil, adapter.Errorf(adapter.EFORBIDDEN, "the token names no areas to report on")
	}
	mine := s.areasOf(p)
	if want == "" {
		return mine, nil
	}
	if !slices.Contains(mine, want) {
		return nil, adapter.Errorf(adapter.EFORBIDDEN, "area %s is not among the token's areas", adapter.Clip(want, nameMax)).At("area")
	}
	return []string{want}, nil
}

// areasOf is the areas a commissioner reports on: the token's, and
// "unknown" (referrals with no postcode from a practice not in the
// practice table) for the network's commissioners, whose token covers
// every area the network serves (issue 20).
func (s *Server) areasOf(p *auth.Principal) []string {
	areas := slices.Clone(p.Areas)
	if s.Mappings == nil || slices.Contains(areas, adapter.AreaUnknown) {
		return areas
	}
	network := s.Mappings.NetworkAreas()
	if len(network) > 0 && !slices.ContainsFunc(network, func(a string) bool { return !slices.Contains(areas, a) }) {
		areas = append(areas, adapter.AreaUnknown)
	}
	return areas
}

// capacityReport: GET /api/v1/reports/capacity?area=&from=&to=, JSON or
// CSV (Accept: text/csv).
func (s *Server) capacityReport(c *gin.Context) {
	r, _, _, err := s.buildCapacityReport(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	if strings.Contains(c.GetHeader("Accept"), "text/csv") {
		s.writeCSV(c, r)
		return
	}
	c.JSON(http.StatusOK, r)
}

// writeCSV answers with the report as a CSV attachment.
func (s *Server) writeCSV(c *gin.Context, r *report.Report) {
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="capacity-report.csv"`)
	c.Status(http.StatusOK)
	if err := r.WriteCSV(c.Writer); err != nil {
		s.log.ErrorContext(c.Request.Context(), "csv write failed", "error", err.Error())
	}
}

func (s *Server) buildCapacityReport(c *gin.Context) (*report.Report, time.Time, time.Time, error) {
	if err := onlyParams(c, "area", "from", "to"); err != nil {
		return nil, time.Time{}, time.Time{}, err
	}
	days, from, to, err := s.reportPeriod(c, "from", "to")
	if err != nil {
		return nil, from, to, err
	}
	areas, err := s.reportAreas(c)
	if err != nil {
		return nil, from, to, err
	}
	r, err := s.Reports.Capacity(c.Request.Context(), days, areas)
	return r, from, to, err
}

// practiceReport: GET /api/v1/reports/practice?from=&to= for the caller's
// own practice.
func (s *Server) practiceReport(c *gin.Context) {
	if err := onlyParams(c, "from", "to"); err != nil {
		s.writeError(c, err)
		return
	}
	days, _, _, err := s.reportPeriod(c, "from", "to")
	if err != nil {
		s.writeError(c, err)
		return
	}
	r, err := s.Reports.Practice(c.Request.Context(), principalOf(c).Org, days)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

// searchMeasureReport: GET /fhir/MeasureReport?subject=HealthcareService/x
// &period=geYYYY-MM-DD&period=leYYYY-MM-DD&area=: one summary per service.
func (s *Server) searchMeasureReport(c *gin.Context) {
	if err := onlyParams(c, "subject", "period", "area"); err != nil {
		s.writeError(c, err)
		return
	}
	from, to, err := periodParams(c, s.now())
	if err != nil {
		s.writeError(c, err)
		return
	}
	days, err := report.Days(from, to)
	if err != nil {
		s.writeError(c, err)
		return
	}
	areas, err := s.reportAreas(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	r, err := s.Reports.Capacity(c.Request.Context(), days, areas)
	if err != nil {
		s.writeError(c, err)
		return
	}
	subject := strings.TrimPrefix(c.Query("subject"), "HealthcareService/")
	var entries []fhir.BundleEntry
	for _, row := range r.Services {
		if subject != "" && row.Service != subject {
			continue
		}
		v := measureView(row, from, to, s.now())
		if svc, ok := s.Mappings.Service(row.Service); ok {
			v.Reporter = svc.ProvidedBy.ODS
		}
		body, err := s.render.MeasureReport(v)
		if err != nil {
			s.writeError(c, err)
			return
		}
		entries = append(entries, fhir.BundleEntry{FullURL: s.baseURL(c) + "/MeasureReport/" + row.Service + "-" + days[0], Resource: body})
	}
	s.pageList(c, entries)
}

func periodParams(c *gin.Context, now time.Time) (time.Time, time.Time, error) {
	to := now.UTC().Truncate(24 * time.Hour)
	from := to.AddDate(0, 0, -29)
	for _, v := range c.QueryArray("period") {
		bound, prefix, t, err := datePrefix(v, time.DateOnly)
		// A report's days are whole: gt a day starts the day after it,
		// lt a day ends the day before it (FHIR date search prefixes).
		switch {
		case err != nil:
			return from, to, adapter.Errorf(adapter.EVALUE, "period must be geYYYY-MM-DD and/or leYYYY-MM-DD (or gt, lt)").At("period")
		case bound == "lower" && prefix == "gt":
			from = t.AddDate(0, 0, 1)
		case bound == "lower":
			from = t
		case prefix == "lt":
			to = t.AddDate(0, 0, -1)
		default:
			to = t
		}
	}
	return from, to, nil
}

// measureView turns a report row into MeasureReport groups, leaving out
// suppressed figures.
func measureView(row report.ServiceRow, from, to, now time.Time) fhir.MeasureReportView {
	i64 := func(n int) *int64 { v := int64(n); return &v }
	f64 := func(v float64) *float64 { return &v }
	count := func(code, display string, c report.Count) fhir.MeasureGroup {
		g := fhir.MeasureGroup{Code: code, Display: display, Unit: "1", UnitCode: "1"}
		if !c.Suppressed {
			g.Score = f64(float64(c.N))
		}
		return g
	}
	groups := []fhir.MeasureGroup{
		{Code: "capacity-utilisation", Display: "Open referrals against caseload limit", Numerator: i64(row.Capacity.Reserved),
			Denominator: i64(row.Capacity.MaxOpen), Score: f64(row.Capacity.UtilisationNow)},
		count("queue-length", "Waitlist length now", row.Capacity.Waitlist),
		count("referrals-received", "Referrals received in the period", row.Received),
		count("redirected-for-capacity", "Referrals redirected because the service lacked capacity", row.RedirectedCapacity),
	}
	st := fhir.MeasureGroup{Code: "service-time", Display: "Median hours from referral to first contact", Unit: "h", UnitCode: "h", ScoreIsUpperBound: true}
	if v, ok := strings.CutPrefix(row.TimeToFirstContact.Median, "<="); ok {
		if h, err := time.ParseDuration(v + "h"); err == nil {
			st.Score = f64(h.Hours())
		}
	}
	groups = append(groups, st)
	// Wellbeing change (issue 20): the mean change over the referrals with
	// a pair of scores (initial population), of which the numerator
	// improved meaningfully; nothing under 5 pairs.
	for _, w := range row.Wellbeing {
		m, _ := adapter.Measure(w.Measure)
		g := fhir.MeasureGroup{Code: "wellbeing-change-" + w.Measure, Unit: "{score}", UnitCode: "{score}",
			Display: "Mean change, first to latest score: " + m.Display}
		if w.MeanChange != nil && w.Improved != nil && !w.Improved.Suppressed {
			g.Population, g.Numerator, g.Score = i64(int(w.Paired.N)), i64(int(w.Improved.N)), w.MeanChange
		} else if w.MeanChange != nil {
			g.Population, g.Score = i64(int(w.Paired.N)), w.MeanChange
		}
		groups = append(groups, g)
	}
	return fhir.MeasureReportView{ID: row.Service + "-" + from.Format("20060102"), Service: row.Service,
		From: from, To: to, Generated: now, Groups: groups}
}

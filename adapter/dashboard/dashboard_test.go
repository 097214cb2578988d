package dashboard

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter/report"
)

func exact(n int64) report.Count { return report.Count{N: n} }
func small(n int64) report.Count { return report.Count{N: n, Suppressed: true} }

// sample is a report of two services and one area: money-advice received
// 40 and placed 30 with 3 redirected ("<5") and a hidden waitlisted count
// of 1234; the link workers have no limit.
func sample(redirected int64) (*report.Report, *report.Trend) {
	r := &report.Report{Period: [2]string{"2026-11-01", "2026-11-03"}, Areas: []string{"LS6"}, Suppression: "counts from 1 to 4 are shown as \"<5\""}
	r.Services = []report.ServiceRow{
		{Service: "money-advice", Name: "Riverside Citizens Advice - debt and benefits",
			Capacity: report.Capacity{Status: "open", MaxOpen: 60, Reserved: 18, UtilisationNow: 0.3, Waitlist: exact(0)},
			Figures: report.Figures{Received: exact(40), Placed: exact(30), RedirectedCapacity: small(redirected), Waitlisted: small(1234),
				TimeToFirstContact: report.Wait{Median: "<=24", P90: "<=72", N: exact(30)},
				TimeToSupport:      report.Wait{N: small(2)}}},
		{Service: "riverside-link-workers", Name: "Riverside link workers",
			Capacity: report.Capacity{Status: "open", MaxOpen: 0, Reserved: 7, Waitlist: exact(0)},
			Figures:  report.Figures{Received: exact(6), Placed: small(1234), RedirectedCapacity: exact(0)}},
	}
	r.ByArea = []report.AreaRow{{Area: "LS6", Figures: report.Figures{Received: exact(46),
		Funnel: report.Funnel{Referred: exact(46), Contacted: exact(23), Engaged: exact(40), SupportStarted: small(redirected), Completed: exact(0)}}}}
	r.UnmetDemand = []report.Unmet{{Need: "debt-and-benefits", Area: "LS6", Count: small(redirected)}}
	// Issue 20: wellbeing, reach and engagement, each with a small count.
	six, nineteen, twenty3, two := 6.0, 19.0, 25.0, 0.75
	r.ByArea[0].Wellbeing = []report.WellbeingRow{{Measure: "swemwbs", Paired: exact(9), MeanBaseline: &nineteen, MeanFollowUp: &twenty3,
		MeanChange: &six, Improved: &report.Count{N: 6, Suppressed: true}, NoChange: &report.Count{N: redirected, Suppressed: true}, Worsened: &report.Count{N: 0}, MeaningfulChange: 3},
		{Measure: "ons4-anxiety", Paired: small(redirected), MeaningfulChange: 1, LowerIsBetter: true}}
	r.ByArea[0].BySource = []report.ReachRow{{ReferrerRole: "gp", Referred: exact(40), Contacted: exact(20), SupportStarted: exact(10), Completed: small(1234)},
		{ReferrerRole: "nurse", Referred: exact(6), Contacted: small(redirected), SupportStarted: exact(0), Completed: small(redirected)}}
	r.ByArea[0].ByPractice = []report.ReachRow{{Practice: "A81001", Name: "Riverside Medical Practice", Referred: exact(46)}}
	r.PracticeEngagement = []report.Engagement{
		{Practice: "A81001", Name: "Riverside Medical Practice", Area: "LS6", Referrals: exact(46), PreviousPeriod: exact(100), FellByHalf: true,
			Months:       []report.EngagementMonth{{Month: "2026-10", Referrals: exact(30)}, {Month: "2026-11", Referrals: exact(16)}},
			WithFeedback: exact(36), WithoutFeedback: exact(10), FeedbackShare: &two},
		{Practice: "B82002", Referrals: small(redirected), PreviousPeriod: exact(0),
			Months: []report.EngagementMonth{{Month: "2026-10", Referrals: small(redirected)}, {Month: "2026-11", Referrals: exact(0)}}}}
	u := 0.3
	t := &report.Trend{Step: "day", Points: []report.TrendPoint{
		{From: "2026-11-01", To: "2026-11-01", Received: exact(20), Placed: exact(15), Redirected: small(redirected), Contacted: exact(10), Utilisation: &u},
		{From: "2026-11-02", To: "2026-11-02", Received: small(redirected), Placed: exact(5), Redirected: exact(0), Contacted: exact(6)},
		{From: "2026-11-03", To: "2026-11-03", Received: small(1234), Placed: exact(10), Redirected: exact(0), Contacted: exact(7), Utilisation: &u},
	}}
	return r, t
}

func render(t *testing.T, redirected int64) string {
	t.Helper()
	r, tr := sample(redirected)
	var b bytes.Buffer
	p := Build(Input{Network: "Riverside Primary Care Network", Report: r, Trend: tr, Area: "LS6", Choices: []string{"LS6", "LS7"},
		From: "2026-11-01", To: "2026-11-03", Generated: time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC)})
	if err := Render(&b, p); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func approx(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func bars(c Chart, series, key string) []Bar {
	var out []Bar
	for _, b := range c.Bars {
		if b.Series == series && b.Key == key {
			out = append(out, b)
		}
	}
	return out
}

// A suppressed count is never drawn to its value: the page for 1, 3 or 4
// redirected referrals is the same, byte for byte, and a count hidden for
// complementary suppression appears nowhere.
func TestSuppressedCountsDoNotShowThroughThePage(t *testing.T) {
	one, four := render(t, 1), render(t, 4)
	if one != four {
		t.Error("the page differs between 1 and 4 redirected referrals: a suppressed count shows through")
	}
	if strings.Contains(one, "1234") {
		t.Error("a count hidden by complementary suppression is on the page")
	}
	for _, want := range []string{`data-kind="small" data-value="&lt;5"`, `data-kind="hidden" data-value="suppressed"`, ">&lt;5</text>"} {
		if !strings.Contains(one, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

func TestCapacityGeometry(t *testing.T) {
	r, _ := sample(3)
	c := Capacity(r.Services)
	// Demand scale: largest shown count 40 → axis to 50 over 300 px.
	rec := bars(c, "received", "money-advice")
	if len(rec) != 1 || rec[0].Kind != KindExact || rec[0].W != 240 || rec[0].Value != "40" {
		t.Fatalf("received bar %+v", rec)
	}
	if pl := bars(c, "placed", "money-advice")[0]; pl.W != 180 || pl.Y <= rec[0].Y {
		t.Errorf("placed bar %+v", pl)
	}
	red := bars(c, "redirected", "money-advice")[0]
	if red.Kind != KindSmall || red.W != 5*6 || red.Value != "<5" || !strings.Contains(red.Title, "<5") {
		t.Errorf("small count must be a threshold-wide glyph: %+v", red)
	}
	// Caseload scale: largest 60 → axis to 100 over 340 px.
	if mx := bars(c, "max", "money-advice"); len(mx) != 1 || mx[0].W != 204 {
		t.Errorf("caseload limit bar %+v", mx)
	}
	if res := bars(c, "reserved", "money-advice")[0]; !approx(res.W, 18*3.4) {
		t.Errorf("places held bar %+v", res)
	}
	if mx := bars(c, "max", "riverside-link-workers"); len(mx) != 0 {
		t.Errorf("a service without a limit has no limit bar: %+v", mx)
	}
	if len(c.Table.Rows) != 2 || c.Table.Rows[0][2] != "60" || c.Table.Rows[1][2] != "no limit" || c.Table.Rows[0][10] != "<5" {
		t.Errorf("table %v", c.Table.Rows)
	}
	// Rows do not overlap.
	if b := bars(c, "received", "riverside-link-workers")[0]; b.Y < rec[0].Y+56 {
		t.Errorf("second service drawn at %v over the first at %v", b.Y, rec[0].Y)
	}
}

func TestWaitsGeometry(t *testing.T) {
	for v, want := range map[string]int{"<=1": 1, "<=24": 4, "<=1344": 11, ">1344": 12, "": 0, "<=5": 0} {
		if got := waitPos(v); got != want {
			t.Errorf("waitPos(%q) = %d, want %d", v, got, want)
		}
	}
	r, _ := sample(3)
	c := Waits(r.Services)
	med, p90 := bars(c, "median", "money-advice"), bars(c, "p90", "money-advice")
	px := 320.0 / 12
	if len(med) != 1 || len(p90) != 1 || !approx(med[0].W, 4*px) || !approx(p90[0].W, 6*px) {
		t.Fatalf("median %+v p90 %+v", med, p90)
	}
	// Support start over 2 people and no waits at the link workers: no
	// bars, said in words.
	if n := len(bars(c, "median", "riverside-link-workers")); n != 0 {
		t.Errorf("%d bars without waits", n)
	}
	na := 0
	for _, tx := range c.Texts {
		if tx.S == "fewer than 5 people" {
			na++
		}
	}
	if na != 3 {
		t.Errorf("%d 'fewer than 5 people' labels, want 3", na)
	}
}

func TestFunnelGeometry(t *testing.T) {
	r, _ := sample(3)
	c := Funnel(r.ByArea[0])
	// Largest 46 → axis to 50 over 280 px.
	if b := bars(c, "referred", "LS6"); len(b) != 1 || !approx(b[0].W, 46*5.6) {
		t.Fatalf("referred %+v", b)
	}
	if b := bars(c, "support", "LS6")[0]; b.Kind != KindSmall || !approx(b.W, 5*5.6) {
		t.Errorf("support started %+v", b)
	}
	var labels []string
	for _, tx := range c.Texts {
		if tx.Class == "value" {
			labels = append(labels, tx.S)
		}
	}
	if strings.Join(labels, "|") != "46|23 (50%)|40 (87%)|<5|0 (0%)" {
		t.Errorf("funnel labels %q", labels)
	}
}

// The trend joins shown counts only: a "<5" day breaks the line and is a
// hatched mark from 0 to 5; a hidden day is a gap.
func TestTrendGeometry(t *testing.T) {
	_, tr := sample(3)
	c := Trend(tr)
	paths := map[string]string{}
	for _, p := range c.Paths {
		paths[p.Series] = p.D
	}
	// Received: 20, <5, hidden → one point, no line segment.
	if d := paths["received"]; strings.Contains(d, "L") || !strings.HasPrefix(d, "M56 ") {
		t.Errorf("received path %q", d)
	}
	if d := paths["placed"]; strings.Count(d, "L") != 2 {
		t.Errorf("placed path %q", d)
	}
	// Redirected: <5, 0, 0 → the line starts on day 2.
	if d := paths["redirected"]; !strings.HasPrefix(d, "M518 240") || strings.Count(d, "L") != 1 {
		t.Errorf("redirected path %q", d)
	}
	sm := bars(c, "received", "2026-11-02")
	if len(sm) != 1 || sm[0].Kind != KindSmall || sm[0].Y+sm[0].H != 240 || sm[0].H != 220*5/20.0 {
		t.Errorf("small mark %+v", sm)
	}
	for _, p := range c.Points {
		if p.Series == "received" && p.Key == "2026-11-03" {
			t.Errorf("hidden count drawn: %+v", p)
		}
	}
	u := Utilisation(tr)
	if len(u.Paths) != 1 || strings.Count(u.Paths[0].D, "M") != 2 {
		t.Errorf("utilisation must break where no snapshot was taken: %+v", u.Paths)
	}
	if none := Utilisation(&report.Trend{Step: "day", Points: []report.TrendPoint{{From: "2026-11-01", To: "2026-11-01"}}}); len(none.Paths) != 0 ||
		!strings.Contains(none.Texts[len(none.Texts)-1].S, "No daily capacity snapshot") {
		t.Errorf("no snapshots: %+v", none)
	}
}

func TestNiceMax(t *testing.T) {
	for v, want := range map[float64][2]float64{0: {10, 2}, 5: {10, 2}, 10: {10, 2}, 11: {20, 5}, 40: {50, 10}, 60: {100, 20}, 120: {200, 50}, 1000: {1000, 200}} {
		if top, step := niceMax(v); top != want[0] || step != want[1] {
			t.Errorf("niceMax(%v) = %v, %v; want %v", v, top, step, want)
		}
	}
}

// The inline stylesheet is exactly what the CSP's hash allows, the page
// loads nothing and runs no script, and the CSV link keeps the page's
// area and period.
func TestPageIsSelfContained(t *testing.T) {
	page := render(t, 3)
	m := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no inline stylesheet")
	}
	sum := sha256.Sum256([]byte(m[1]))
	if h := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(CSP, "style-src "+h) {
		t.Errorf("CSP %q does not allow the inline stylesheet %s", CSP, h)
	}
	for _, banned := range []string{"<script", "src=", "http://", "https://", "@import", " style="} {
		if strings.Contains(page, banned) {
			t.Errorf("page contains %q", banned)
		}
	}
	if !strings.Contains(page, `href="/dashboard/report.csv?area=LS6&amp;from=2026-11-01&amp;to=2026-11-03"`) {
		t.Error("CSV link does not carry the page's parameters")
	}
	if !strings.Contains(page, `<option value="LS6" selected>LS6</option>`) || !strings.Contains(page, `<option value="LS7">LS7</option>`) {
		t.Error("area selector")
	}
	for _, id := range []string{`id="capacity"`, `id="waits"`, `id="funnel-LS6"`, `id="trend"`, `id="utilisation"`, `role="img"`, "<table>",
		`id="wellbeing"`, `id="reach-LS6"`, `id="engagement"`, "<h3>Area LS6</h3>"} {
		if !strings.Contains(page, id) {
			t.Errorf("page lacks %s", id)
		}
	}
}

// Wellbeing: the mean first and latest SWEMWBS score on the 7 to 35
// scale, the change in words, the improved / within 3 / worse shares only
// when none is hidden; fewer than 5 pairs is said, never drawn; the table
// has every measure.
func TestWellbeingGeometry(t *testing.T) {
	r, _ := sample(3)
	c := Wellbeing(r)
	var base, follow *Point
	for i, p := range c.Points {
		switch {
		case p.Series == "baseline" && p.Key == "LS6":
			base = &c.Points[i]
		case p.Series == "followup" && p.Key == "LS6":
			follow = &c.Points[i]
		}
	}
	px := 360.0 / 28
	if base == nil || follow == nil || !approx(base.X, 250+12*px) || !approx(follow.X, 250+18*px) || base.Value != "19" || follow.Value != "25" {
		t.Fatalf("baseline %+v follow-up %+v", base, follow)
	}
	// No change is hidden ("<5"): no share bars, the counts in words.
	if n := len(bars(c, "improved", "LS6")); n != 0 {
		t.Errorf("%d share bars with a hidden count", n)
	}
	words := ""
	for _, tx := range c.Texts {
		words += tx.S + "|"
	}
	if !strings.Contains(words, "+6, 9 pairs|") || !strings.Contains(words, "improved suppressed, worse 0|") {
		t.Errorf("texts %s", words)
	}
	if len(c.Table.Rows) != 2 || c.Table.Rows[1][2] != "<5" || c.Table.Rows[1][5] != "—" || c.Table.Rows[0][5] != "+6" || c.Table.Rows[0][6] != "suppressed" || c.Table.Rows[0][7] != "<5" {
		t.Errorf("table %v", c.Table.Rows)
	}
	// All shown: bars share the width by count.
	r.ByArea[0].Wellbeing[0].Improved, r.ByArea[0].Wellbeing[0].NoChange = &report.Count{N: 6}, &report.Count{N: 3}
	c = Wellbeing(r)
	imp, same := bars(c, "improved", "LS6"), bars(c, "nochange", "LS6")
	if len(imp) != 1 || !approx(imp[0].W, 230*6/9.0) || len(same) != 1 || !approx(same[0].X, 760+230*6/9.0) || !approx(same[0].W, 230*3/9.0) {
		t.Errorf("shares %+v %+v", imp, same)
	}
	r.ByArea[0].Wellbeing[0] = report.WellbeingRow{Measure: "swemwbs", Paired: small(3)}
	c = Wellbeing(r)
	if len(c.Points) != 0 || !strings.Contains(c.Texts[len(c.Texts)-1].S, "fewer than 5 pairs") {
		t.Errorf("fewer than 5 pairs drawn: %+v", c.Points)
	}
}

// Reach: per group a referred bar and a support-started bar, small counts
// as the "<5" glyph, the four breakdowns headed; every chart names its area.
func TestReachGeometry(t *testing.T) {
	r, _ := sample(3)
	c := Reach(r.ByArea[0])
	if c.Heading != "Area LS6" || c.ID != "reach-LS6" {
		t.Errorf("heading %q id %q", c.Heading, c.ID)
	}
	// Largest 46 → axis to 50 over 340 px.
	if b := bars(c, "referred", "source:gp"); len(b) != 1 || !approx(b[0].W, 40*6.8) {
		t.Errorf("gp referred %+v", b)
	}
	if b := bars(c, "support", "source:nurse"); len(b) != 1 || b[0].Kind != KindExact || b[0].W != 0 {
		t.Errorf("nurse support %+v", b)
	}
	if b := bars(c, "referred", "practice:A81001"); len(b) != 1 || b[0].Value != "46" {
		t.Errorf("practice %+v", b)
	}
	var heads []string
	for _, tx := range c.Texts {
		if tx.Class == "group" {
			heads = append(heads, tx.S)
		}
	}
	if strings.Join(heads, "|") != "Referrer role|Practice|Age band|Sex" {
		t.Errorf("heads %v", heads)
	}
	if len(c.Table.Rows) != 3 || c.Table.Rows[1][0] != "Referrer role: nurse" || c.Table.Rows[1][2] != "<5" || c.Table.Rows[0][4] != "suppressed" || c.Table.Rows[0][5] != "25%" {
		t.Errorf("table %v", c.Table.Rows)
	}
	if u := Funnel(report.AreaRow{Area: "unknown"}); u.Heading != "Area not known" || !strings.Contains(u.Desc, "area not known") {
		t.Errorf("unknown area funnel %q %q", u.Heading, u.Desc)
	}
}

// Engagement: per practice its months' referrals as bars on one scale, a
// warning when its referrals fell by half.
func TestEngagementGeometry(t *testing.T) {
	r, _ := sample(3)
	c := Engagement(r.PracticeEngagement)
	oct, nov := bars(c, "referrals", "A81001:2026-10"), bars(c, "referrals", "A81001:2026-11")
	if len(oct) != 1 || len(nov) != 1 || !approx(oct[0].H, 22*30/50.0) || !approx(oct[0].Y+oct[0].H, nov[0].Y+nov[0].H) {
		t.Errorf("months %+v %+v", oct, nov)
	}
	if b := bars(c, "referrals", "B82002:2026-10"); len(b) != 1 || b[0].Kind != KindSmall {
		t.Errorf("small month %+v", b)
	}
	warn := 0
	for _, tx := range c.Texts {
		if tx.Class == "warn" {
			warn++
		}
	}
	if warn != 1 || c.Table.Rows[0][4] != "yes" || c.Table.Rows[1][4] != "no" || c.Table.Rows[0][8] != "75%" || c.Table.Rows[1][8] != "—" {
		t.Errorf("warnings %d, table %v", warn, c.Table.Rows)
	}
}

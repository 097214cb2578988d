package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

// seedDashboardScenario is seedReportScenario (six referrals to the link
// workers, five contacted, one declined) plus, all from LS6: three money
// worries for debt advice (a small count, shown "<5") and, with the
// befriending service paused, six referrals for loneliness redirected to
// the link workers for lack of capacity.
func seedDashboardScenario(t *testing.T, h *harness) {
	t.Helper()
	seedReportScenario(t, h)
	gp := h.token(auth.RolePractice, practice)
	admin := h.token(auth.RoleAdmin, "U00001")
	if r := h.do("PUT", "/api/v1/services/befriending/capacity", admin, []byte(`{"status":"paused","maxOpen":30}`), "Content-Type", "application/json"); r.status != 200 {
		t.Fatalf("pause befriending = %d %s", r.status, r.body)
	}
	debt := map[string]any{"system": "http://hl7.org/fhir/sid/icd-10", "code": "Z59.6", "display": "Low income"}
	lonely := map[string]any{"system": "http://snomed.info/sct", "code": "422650009", "display": "Social isolation"}
	for i := range 9 {
		reason := lonely
		if i < 3 {
			reason = debt
		}
		var b map[string]any
		_ = json.Unmarshal(fixture(t, "bundle-referral-transaction.json"), &b)
		e := b["entry"].([]any)
		pat := e[0].(map[string]any)
		nhs := adapter.SyntheticNHSNumber(100 + i)
		pat["resource"].(map[string]any)["identifier"] = []any{map[string]any{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs}}
		pat["request"].(map[string]any)["ifNoneExist"] = "identifier=https://fhir.nhs.uk/Id/nhs-number|" + nhs
		sr := e[1].(map[string]any)
		sr["resource"].(map[string]any)["identifier"] = []any{map[string]any{"system": referralSys, "value": fmt.Sprintf("D-%d", i)}}
		sr["resource"].(map[string]any)["reasonCode"] = []any{map[string]any{"coding": []any{reason}}}
		delete(sr["resource"].(map[string]any), "code")
		delete(sr["request"].(map[string]any), "ifNoneExist")
		e[2].(map[string]any)["resource"].(map[string]any)["identifier"] = []any{map[string]any{"system": "https://x/consent", "value": fmt.Sprintf("DC-%d", i)}}
		body, _ := json.Marshal(b)
		if r := h.do("POST", "/fhir", gp, body); r.status != 200 {
			t.Fatalf("bundle %d = %d %s", i, r.status, r.body)
		}
	}
	// Wellbeing (issue 20): the five LS6 referrals the link workers are
	// working on each have a SWEMWBS baseline and follow-up: 15→22, 16→20,
	// 17→23, 18→25, 19→22, a mean change of 5.4, all improved.
	lw := h.token(auth.RoleLinkWorker, "U00001")
	r := h.do("GET", "/fhir/Task?owner=HealthcareService/riverside-link-workers&status=accepted", lw, nil)
	entries, _ := r.json(t)["entry"].([]any)
	if len(entries) != 5 {
		t.Fatalf("%d accepted referrals, want 5: %s", len(entries), r.body)
	}
	now := time.Now().UTC()
	for i, e := range entries {
		id := e.(map[string]any)["resource"].(map[string]any)["id"].(string)
		for _, sc := range []struct {
			v  int
			at time.Time
		}{{15 + i, now.AddDate(0, 0, -20)}, {[]int{22, 20, 23, 25, 22}[i], now.Add(-time.Hour)}} {
			if r := h.api("POST", "/api/v1/referrals/"+id+"/outcomes", lw, scoreBody(t, "observation-swemwbs.json", sc.v, sc.at, i%2 == 0)); r.status != 201 {
				t.Fatalf("outcome = %d %s", r.status, r.body)
			}
		}
	}
	// Today's capacity snapshot, as the daily-snapshot job takes it.
	if _, err := h.app.snapshot(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
}

func commissioner(t *testing.T, areas ...string) string {
	t.Helper()
	tok, err := auth.Mint(testSecret, auth.MintOptions{Role: auth.RoleCommissioner, Org: "QWO", Areas: areas, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// dataValue is the data-value of the chart mark of a series for a key
// (service, area or day), or "" when there is none.
func dataValue(page, chart, series, key string) string {
	start := strings.Index(page, `<figure class="chart" id="`+chart+`"`)
	if start < 0 {
		return ""
	}
	fig := page[start:]
	fig = fig[:strings.Index(fig, "</figure>")]
	m := regexp.MustCompile(`data-series="` + regexp.QuoteMeta(series) + `" data-key="` + regexp.QuoteMeta(key) + `"(?: data-kind="[a-z]+")? data-value="([^"]*)"`).FindStringSubmatch(fig)
	if m == nil {
		return ""
	}
	return m[1]
}

// The page draws the seeded figures for the commissioner's areas and
// nothing else; other roles are refused; the CSV download serves the same
// report; no token in the query string is accepted and no query value is
// logged.
func TestDashboardPageFiguresScopeAndAuth(t *testing.T) {
	h := newHarness(t, nil)
	seedDashboardScenario(t, h)
	com := commissioner(t, "LS6")
	r := h.do("GET", "/dashboard?area=LS6", com, nil, "Accept", "text/html")
	if r.status != 200 {
		t.Fatalf("dashboard = %d %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none'; style-src 'sha256-") || strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q", csp)
	}
	page := string(r.body)
	want := []struct{ chart, series, key, value string }{
		{"capacity", "received", "riverside-link-workers", "12"},
		{"capacity", "placed", "riverside-link-workers", "12"},
		{"capacity", "received", "money-advice", "<5"},
		{"capacity", "redirected", "befriending", "6"},
		{"capacity", "max", "riverside-link-workers", "120"},
		{"funnel-LS6", "referred", "LS6", "15"},
		{"funnel-LS6", "engaged", "LS6", "6"},
		{"funnel-LS6", "contacted", "LS6", "5"},
		{"waits", "median", "riverside-link-workers", "<=1"},
		{"trend", "received", time.Now().UTC().Format(time.DateOnly), "15"},
	}
	for _, w := range want {
		if got := dataValue(page, w.chart, w.series, w.key); got != strings.ReplaceAll(w.value, "<", "&lt;") {
			t.Errorf("%s %s of %s = %q, want %q", w.chart, w.series, w.key, got, w.value)
		}
	}
	for _, secret := range []string{"90000000", "90000001", "Patient/", "R-1", "D-1", "Testpatient", "LS6 1AA"} {
		if strings.Contains(page, secret) {
			t.Errorf("the page holds patient-level data %q", secret)
		}
	}
	if !strings.Contains(page, `href="/dashboard/report.csv?area=LS6&amp;from=`) {
		t.Error("no CSV download link with the page's parameters")
	}

	// Only commissioners and admins; a token is required.
	for role, org := range map[auth.Role]string{auth.RolePractice: practice, auth.RoleLinkWorker: "U00001", auth.RoleProvider: "X1V01"} {
		for _, path := range []string{"/dashboard", "/dashboard/report.csv"} {
			if r := h.do("GET", path, h.token(role, org), nil); r.status != 403 {
				t.Errorf("%s as %s = %d, want 403", path, role, r.status)
			}
		}
	}
	if r := h.do("GET", "/dashboard", "", nil); r.status != 401 {
		t.Errorf("no token = %d, want 401", r.status)
	}
	if r := h.do("GET", "/dashboard?access_token="+url.QueryEscape(com), "", nil); r.status != 401 {
		t.Errorf("a token in the query string = %d, want 401", r.status)
	}
	if r := h.do("GET", "/dashboard?access_token=x", com, nil); r.status != 400 {
		t.Errorf("access_token parameter = %d, want 400", r.status)
	}
	if r := h.do("GET", "/dashboard?from=2026-02-30", com, nil); r.status != 400 {
		t.Errorf("bad date = %d, want 400", r.status)
	}

	// Another area's commissioner sees its own area only: none of LS6.
	other := commissioner(t, "LS9")
	o := h.do("GET", "/dashboard", other, nil)
	if o.status != 200 {
		t.Fatalf("LS9 dashboard = %d %s", o.status, o.body)
	}
	op := string(o.body)
	if strings.Contains(op, "funnel-LS6") || !strings.Contains(op, `id="funnel-LS9"`) || strings.Contains(op, `<option value="LS6"`) {
		t.Error("the LS9 commissioner's page shows or offers LS6")
	}
	for _, svc := range []string{"riverside-link-workers", "money-advice", "befriending"} {
		if got := dataValue(op, "capacity", "received", svc); got != "0" {
			t.Errorf("LS9 commissioner sees %s received %q", svc, got)
		}
	}
	if r := h.do("GET", "/dashboard?area=LS6", other, nil); r.status != 403 {
		t.Errorf("LS9 commissioner asking for LS6 = %d, want 403", r.status)
	}
	if r := h.do("GET", "/dashboard/report.csv?area=LS6", other, nil); r.status != 403 {
		t.Errorf("LS9 commissioner's CSV for LS6 = %d, want 403", r.status)
	}

	// The admin sees every area.
	if a := string(h.do("GET", "/dashboard", h.token(auth.RoleAdmin, "U00001"), nil).body); dataValue(a, "funnel-LS6", "referred", "LS6") != "15" {
		t.Error("the admin's page lacks LS6")
	}

	// The download is the capacity report's CSV, whatever the Accept header.
	csv := h.do("GET", "/dashboard/report.csv?area=LS6", com, nil, "Accept", "text/html")
	if csv.status != 200 || !strings.HasPrefix(csv.header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(csv.header.Get("Content-Disposition"), "attachment") ||
		!strings.Contains(string(csv.body), ",service,riverside-link-workers,received,12") ||
		!strings.Contains(string(csv.body), ",service,money-advice,received,<5") {
		t.Errorf("CSV = %d %v %s", csv.status, csv.header, csv.body)
	}

	logs := h.logs.String()
	if !strings.Contains(logs, `"route":"/dashboard"`) {
		t.Error("no access log line for the dashboard")
	}
	for _, leak := range []string{"area=", "from=2026", "access_token", com} {
		if strings.Contains(logs, leak) {
			t.Errorf("the logs hold a query value or token: %q", leak)
		}
	}
}

// A browser shown the dashboard's error gets a page in words, not FHIR
// JSON: the diagnostics escaped, the status kept, the way back, under the
// page's CSP. A client asking for anything else gets the OperationOutcome.
func TestDashboardErrorsAreAPageInABrowser(t *testing.T) {
	h := newHarness(t, nil)
	com := commissioner(t, "LS6")
	browser := "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	for _, tc := range []struct {
		path, token string
		status      int
		words       string
	}{
		{"/dashboard?from=2026-02-30", com, 400, "from must be a date YYYY-MM-DD"},
		{"/dashboard?from=2026-12-01&to=2026-11-01", com, 400, "from must not be after to"},
		{"/dashboard?area=LS9", com, 403, "area LS9 is not among the token&#39;s areas"},
		{"/dashboard?area=%3Cscript%3E", com, 403, "area &lt;script&gt; is not among"},
		{"/dashboard/report.csv?to=tomorrow", com, 400, "to must be a date"},
		{"/dashboard", "", 401, "an Authorization: Bearer token is required"},
	} {
		r := h.do("GET", tc.path, tc.token, nil, "Accept", browser)
		page := string(r.body)
		if r.status != tc.status || r.header.Get("Content-Type") != "text/html; charset=utf-8" ||
			!strings.Contains(page, tc.words) || !strings.Contains(page, `<a href="/dashboard">`) ||
			strings.Contains(page, "<script") || !strings.HasPrefix(r.header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("%s as a browser = %d %s %q\n%s", tc.path, r.status, r.header.Get("Content-Type"), r.header.Get("Content-Security-Policy"), page)
		}
		api := h.do("GET", tc.path, tc.token, nil, "Accept", "application/fhir+json")
		if api.status != tc.status || !strings.HasPrefix(api.header.Get("Content-Type"), "application/fhir+json") ||
			!strings.Contains(string(api.body), `"resourceType":"OperationOutcome"`) {
			t.Errorf("%s as an API client = %d %s %s", tc.path, api.status, api.header.Get("Content-Type"), api.body)
		}
	}
	// Elsewhere a browser still gets FHIR: the page is the dashboard's.
	if r := h.do("GET", "/fhir/Task?bogus=1", com, nil, "Accept", browser); strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Errorf("a FHIR error as HTML: %d %s", r.status, r.body)
	}
}

// chromium finds Debian's headless browser. On CI (CI set) a missing
// browser fails the test: scripts/test installs it there.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "chromium is not installed: the dashboard browser test needs Debian's chromium package (apt-get install chromium; scripts/test installs it when run as root)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// runChromium runs headless Chromium on url with extra flags, in a fresh
// profile, bounded in time, and returns its standard output.
func runChromium(t *testing.T, bin string, extra ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir=" + t.TempDir(), "--window-size=1366," + windowHeight()}, extra...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.WaitDelay = 5 * time.Second
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", extra, err, errOut.String())
	}
	return out.Bytes()
}

// The page in a real browser: headless Chromium loads it from the real
// server (through a local proxy that adds the commissioner's bearer token,
// as an authenticating proxy would), the charts are in the rendered DOM
// with the seeded figures, and a screenshot is taken, written to
// $DASHBOARD_SCREENSHOT when set (else the test's temporary directory),
// and checked to be a real rendering of the styled page.
func TestDashboardInHeadlessChromium(t *testing.T) {
	bin := chromium(t)
	h := newHarness(t, nil)
	seedDashboardScenario(t, h)
	target, _ := url.Parse(h.srv.URL)
	tok := commissioner(t, "LS6", "LS7")
	var mu sync.Mutex
	var proxied []string
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Header.Set("Authorization", "Bearer "+tok)
		mu.Lock()
		proxied = append(proxied, r.Out.URL.Path)
		mu.Unlock()
	}}
	proxy := httptest.NewServer(rp)
	t.Cleanup(proxy.Close)
	page := proxy.URL + "/dashboard?area=LS6"

	dom := string(runChromium(t, bin, "--dump-dom", page))
	if !strings.Contains(dom, "<h1>Social prescribing: capacity and demand</h1>") {
		t.Fatalf("Chromium did not render the dashboard: %.2000s", dom)
	}
	for _, w := range []struct{ chart, series, key, value string }{
		{"capacity", "received", "riverside-link-workers", "12"},
		{"capacity", "received", "money-advice", "&lt;5"},
		{"capacity", "redirected", "befriending", "6"},
		{"funnel-LS6", "referred", "LS6", "15"},
		{"waits", "median", "riverside-link-workers", "&lt;=1"},
	} {
		if got := dataValue(dom, w.chart, w.series, w.key); got != w.value {
			t.Errorf("rendered %s %s of %s = %q, want %q", w.chart, w.series, w.key, got, w.value)
		}
	}
	// Issue 20: the wellbeing, reach and practice engagement sections, and
	// every funnel and reach chart naming its area in visible text.
	for _, w := range []struct{ chart, series, key, value string }{
		{"wellbeing", "baseline", "LS6", "17"},
		{"wellbeing", "followup", "LS6", "22.4"},
		{"wellbeing", "improved", "LS6", "5"},
		{"wellbeing", "followup", "riverside-link-workers", "22.4"},
		{"reach-LS6", "referred", "source:unknown", "15"},
		{"reach-LS6", "referred", "age:65-74", "15"},
		{"reach-LS6", "referred", "sex:female", "15"},
		{"reach-LS6", "referred", "practice:" + practice, "15"},
		{"engagement", "referrals", practice + ":" + time.Now().Format("2006-01"), "15"},
	} {
		if got := dataValue(dom, w.chart, w.series, w.key); got != w.value {
			t.Errorf("rendered %s %s of %s = %q, want %q", w.chart, w.series, w.key, got, w.value)
		}
	}
	for _, want := range []string{`<h2 id="wellbeing-h">Did people get better?</h2>`, `<h2 id="reach-h">Who is referred and who gets support</h2>`,
		`<h2 id="engagement-h">Practice engagement</h2>`, "+5.4, 5 pairs", `<figure class="chart" id="funnel-LS6"><h3>Area LS6</h3>`,
		`<figure class="chart" id="reach-LS6"><h3>Area LS6</h3>`, "Riverside Medical Practice"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered page lacks %s", want)
		}
	}
	if n := strings.Count(dom, `<rect class="bar`); n < 20 {
		t.Errorf("only %d bars rendered", n)
	}
	if !strings.Contains(dom, `<path class="line received"`) || !strings.Contains(dom, `<rect class="bar small`) {
		t.Error("the trend line or a <5 mark is missing from the rendered page")
	}

	shot := os.Getenv("DASHBOARD_SCREENSHOT")
	if shot == "" {
		shot = filepath.Join(t.TempDir(), "dashboard.png")
	} else if abs, err := filepath.Abs(shot); err == nil {
		shot = abs
	}
	_ = os.MkdirAll(filepath.Dir(shot), 0o755)
	_ = os.Remove(shot)
	runChromium(t, bin, "--hide-scrollbars", "--screenshot="+shot, page)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1366 || strconv.Itoa(b.Dy()) != windowHeight() {
		t.Errorf("screenshot is %v, want 1366×%s", b, windowHeight())
	}
	// The header band is the stylesheet's blue: the inline style passed the
	// page's Content-Security-Policy.
	if r, g, b, _ := img.At(8, 8).RGBA(); r>>8 != 0x1d || g>>8 != 0x4e || b>>8 != 0x89 {
		t.Errorf("header pixel is #%02x%02x%02x, want the stylesheet's #1d4e89: the page rendered unstyled", r>>8, g>>8, b>>8)
	}
	colours := map[uint32]bool{}
	for y := 0; y < 900; y += 3 {
		for x := 0; x < 1366; x += 3 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[(r>>8)<<16|(g>>8)<<8|b>>8] = true
		}
	}
	if len(colours) < 50 {
		t.Errorf("the screenshot has %d colours: not a rendered dashboard", len(colours))
	}
	st, _ := f.Stat()
	t.Logf("dashboard screenshot: %s (%d bytes)", shot, st.Size())
	mu.Lock()
	defer mu.Unlock()
	for _, p := range proxied {
		if p != "/dashboard" && p != "/favicon.ico" {
			t.Errorf("the page made the browser fetch %s: it must load nothing", p)
		}
	}
}

// windowHeight is the browser window's height: 900 (a laptop screen), or
// DASHBOARD_WINDOW_HEIGHT to see the whole page in the screenshot.
func windowHeight() string {
	if h := os.Getenv("DASHBOARD_WINDOW_HEIGHT"); h != "" {
		if _, err := strconv.Atoi(h); err == nil {
			return h
		}
	}
	return "900"
}

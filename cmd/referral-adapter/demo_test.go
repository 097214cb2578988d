package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// The demo's history (issue 20) fills every section of a commissioner's
// report and dashboard: each area of the network with referrals, wellbeing
// change with figures, referrals from GPs and nurses under bySource, a
// practice whose referrals fell by half, the unknown area labelled; and
// still no patient-level data on the page.
func TestDemoFillsTheReportAndDashboard(t *testing.T) {
	h := newHarness(t, map[string]string{"CONSENT_REQUIRED": "true"})
	sum, err := seedDemo(context.Background(), h.app, demoOptions{Months: 3, PerWeek: 40, Seed: 7, End: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Referrals < 300 || sum.WithPatient < sum.Referrals/2 || sum.Contacted == 0 || sum.Completed == 0 || sum.Scores < 200 || sum.Refused != 0 {
		t.Errorf("demo made %+v", sum)
	}
	network := commissioner(t, h.app.mappings.NetworkAreas()...)
	r := h.do("GET", "/api/v1/reports/capacity?from="+time.Now().AddDate(0, -3, 0).Format(time.DateOnly), network, nil)
	if r.status != 200 {
		t.Fatalf("report = %d %s", r.status, r.body)
	}
	rep := r.json(t)
	withFigures := 0
	for _, area := range append(h.app.mappings.NetworkAreas(), "unknown") {
		row := areaRow(t, rep, area)
		if n, ok := row["received"].(float64); !ok || n < 5 {
			t.Errorf("%s received %v", area, row["received"])
		}
		if sw := row["wellbeing"].([]any)[0].(map[string]any); sw["meanChange"] != nil {
			withFigures++
			if sw["meanChange"].(float64) <= 0 || sw["meanChange"].(float64) > 8 {
				t.Errorf("%s SWEMWBS change %v", area, sw)
			}
		}
		if area != "unknown" && (groupRow(row["bySource"], "referrerRole", "gp") == nil || groupRow(row["bySource"], "referrerRole", "nurse") == nil) {
			t.Errorf("%s bySource %v", area, row["bySource"])
		}
	}
	if withFigures < 4 {
		t.Errorf("wellbeing change with figures in %d areas", withFigures)
	}
	// Over the last 30 days (the default period), against the 30 before.
	fell := map[string]bool{}
	for _, e := range h.do("GET", "/api/v1/reports/capacity", network, nil).json(t)["practiceEngagement"].([]any) {
		m := e.(map[string]any)
		fell[m["practice"].(string)] = m["fellByHalf"].(bool)
	}
	if !fell["E85005"] || fell["A81001"] || len(fell) != 6 {
		t.Errorf("fell by half %v", fell)
	}
	page := h.do("GET", "/dashboard", network, nil)
	body := string(page.body)
	if page.status != 200 || !strings.Contains(body, `id="wellbeing"`) || !strings.Contains(body, `id="reach-LS6"`) ||
		!strings.Contains(body, "▼ fell by half") || !strings.Contains(body, "<h3>Area not known</h3>") {
		t.Errorf("dashboard = %d, sections missing", page.status)
	}
	for _, secret := range []string{"9900000", "Synthetic", "DEMO-", "Patient/"} {
		if strings.Contains(body, secret) || strings.Contains(string(r.body), secret) {
			t.Errorf("patient-level data %q on the page or in the report", secret)
		}
	}
}

// The demo fills only the embedded store, and its browser proxy, which adds
// a commissioner's token, listens on loopback only.
func TestDemoRefusesARealStoreAndAPublicProxy(t *testing.T) {
	t.Setenv("AUTH_DEV_HS256_SECRET", testSecret)
	t.Setenv("REDIS_URL", "redis://127.0.0.1:1/0")
	var out, errOut bytes.Buffer
	err := realMain(context.Background(), []string{"demo"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "fills only the embedded store") {
		t.Errorf("demo with REDIS_URL: %v", err)
	}
	for _, addr := range []string{"0.0.0.0:8081", "192.0.2.1:8081", ":8081"} {
		if err := realMain(context.Background(), []string{"demo", "--browser", addr}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("--browser %s: %v", addr, err)
		}
	}
	if err := realMain(context.Background(), []string{"demo", "--months", "40"}, &out, &errOut); err == nil {
		t.Error("40 months accepted")
	}
}

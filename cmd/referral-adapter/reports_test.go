package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

// seedReportScenario: six referrals from practice A81001 for patients in
// LS6 (via transaction bundles), all taken by the link workers; five
// contacted, one declined by the patient.
func seedReportScenario(t *testing.T, h *harness) {
	t.Helper()
	gp := h.token(auth.RolePractice, practice)
	lw := h.token(auth.RoleLinkWorker, "U00001")
	for i := range 6 {
		var b map[string]any
		_ = json.Unmarshal(fixture(t, "bundle-referral-transaction.json"), &b)
		e := b["entry"].([]any)
		pat := e[0].(map[string]any)
		nhs := adapter.SyntheticNHSNumber(i)
		pat["resource"].(map[string]any)["identifier"] = []any{map[string]any{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs}}
		pat["request"].(map[string]any)["ifNoneExist"] = "identifier=https://fhir.nhs.uk/Id/nhs-number|" + nhs
		e[1].(map[string]any)["resource"].(map[string]any)["identifier"] = []any{map[string]any{"system": referralSys, "value": fmt.Sprintf("R-%d", i)}}
		delete(e[1].(map[string]any)["request"].(map[string]any), "ifNoneExist")
		e[2].(map[string]any)["resource"].(map[string]any)["identifier"] = []any{map[string]any{"system": "https://x/consent", "value": fmt.Sprintf("C-%d", i)}}
		body, _ := json.Marshal(b)
		if r := h.do("POST", "/fhir", gp, body); r.status != 200 {
			t.Fatalf("bundle %d = %d %s", i, r.status, r.body)
		}
	}
	for i := range 6 {
		r := h.api("POST", "/api/v1/queues/riverside-link-workers/claim", lw, "")
		if r.status != 200 {
			t.Fatalf("claim %d = %d", i, r.status)
		}
		id := r.json(t)["task"].(map[string]any)["id"].(string)
		h.api("POST", "/api/v1/referrals/"+id+"/transition", lw, `{"status":"accepted"}`)
		if i == 5 {
			h.api("POST", "/api/v1/referrals/"+id+"/transition", lw, `{"status":"cancelled","businessStatus":{"code":"declined-by-patient"}}`)
			continue
		}
		if r := h.api("POST", "/api/v1/referrals/"+id+"/transition", lw, `{"status":"accepted","businessStatus":{"code":"contacted"}}`); r.status != 200 {
			t.Fatalf("contact = %d %s", r.status, r.body)
		}
	}
}

func TestCapacityReportFiguresAndScope(t *testing.T) {
	h := newHarness(t, nil)
	seedReportScenario(t, h)
	com, _ := auth.Mint(testSecret, auth.MintOptions{Role: auth.RoleCommissioner, Org: "QWO", Areas: []string{"LS6"}, TTL: time.Hour})
	r := h.do("GET", "/api/v1/reports/capacity?area=LS6", com, nil)
	if r.status != 200 {
		t.Fatalf("= %d %s", r.status, r.body)
	}
	var rep struct {
		Services []map[string]any `json:"services"`
		ByArea   []map[string]any `json:"byArea"`
	}
	_ = json.Unmarshal(r.body, &rep)
	var lw map[string]any
	for _, s := range rep.Services {
		if s["service"] == "riverside-link-workers" {
			lw = s
		}
	}
	funnel := lw["funnel"].(map[string]any)
	checks := map[string]any{"received": 6.0, "placed": 6.0, "declinedByPatient": "<5"}
	for k, want := range checks {
		if lw[k] != want {
			t.Errorf("%s = %v, want %v", k, lw[k], want)
		}
	}
	if funnel["referred"] != 6.0 || funnel["engaged"] != 6.0 || funnel["contacted"] != 5.0 {
		t.Errorf("funnel %v", funnel)
	}
	if w := lw["timeToFirstContactHours"].(map[string]any); w["median"] != "<=1" || w["n"] != 5.0 {
		t.Errorf("time to first contact %v", w)
	}
	if len(rep.ByArea) != 1 || rep.ByArea[0]["area"] != "LS6" || rep.ByArea[0]["received"] != 6.0 {
		t.Errorf("by area %v", rep.ByArea)
	}
	for _, secret := range []string{"9000000009", "Patient/", "R-1"} {
		if strings.Contains(string(r.body), secret) {
			t.Errorf("report holds patient-level data %q", secret)
		}
	}
	if r := h.do("GET", "/api/v1/reports/capacity?area=LS7", com, nil); r.status != 403 {
		t.Errorf("area outside the token = %d", r.status)
	}
	noAreas := h.token(auth.RoleCommissioner, "QWO")
	if r := h.do("GET", "/api/v1/reports/capacity", noAreas, nil); r.status != 403 {
		t.Errorf("token without areas = %d", r.status)
	}
	other, _ := auth.Mint(testSecret, auth.MintOptions{Role: auth.RoleCommissioner, Org: "QWP", Areas: []string{"LS9"}, TTL: time.Hour})
	if r := h.do("GET", "/api/v1/reports/capacity", other, nil).json(t); r["byArea"].([]any)[0].(map[string]any)["received"] != 0.0 {
		t.Errorf("another area's commissioner sees LS6 referrals: %v", r["byArea"])
	}

	csv := h.do("GET", "/api/v1/reports/capacity?area=LS6", com, nil, "Accept", "text/csv")
	if !strings.HasPrefix(csv.header.Get("Content-Type"), "text/csv") || !strings.Contains(string(csv.body), ",service,riverside-link-workers,received,6") ||
		!strings.Contains(string(csv.body), "declined_by_patient,<5") {
		t.Errorf("CSV: %s", csv.body)
	}

	mr := h.do("GET", "/fhir/MeasureReport?subject=HealthcareService/riverside-link-workers&area=LS6", com, nil)
	if mr.status != 200 {
		t.Fatalf("MeasureReport = %d %s", mr.status, mr.body)
	}
	if _, err := h.app.parser.Parse(mr.body, "Bundle"); err != nil {
		t.Fatalf("MeasureReport bundle is not valid FHIR: %v", err)
	}
	for _, want := range []string{`"type":"summary"`, `"code":"capacity-utilisation"`, `"code":"referrals-received"`, `"value":6`} {
		if !strings.Contains(string(mr.body), want) {
			t.Errorf("MeasureReport lacks %s", want)
		}
	}
	// period's FHIR date prefixes over whole days: ge and le include the
	// day, gt and lt leave it out.
	for q, want := range map[string][2]string{
		"period=ge2026-09-01&period=le2026-09-30": {"2026-09-01", "2026-09-30"},
		"period=gt2026-09-01&period=lt2026-09-30": {"2026-09-02", "2026-09-29"},
	} {
		r := h.do("GET", "/fhir/MeasureReport?subject=HealthcareService/riverside-link-workers&area=LS6&"+q, com, nil)
		start, end := gjson.GetBytes(r.body, "entry.0.resource.period.start").Str, gjson.GetBytes(r.body, "entry.0.resource.period.end").Str
		if r.status != 200 || !strings.HasPrefix(start, want[0]) || !strings.HasPrefix(end, want[1]) {
			t.Errorf("%s: %d, period %s to %s, want %s to %s", q, r.status, start, end, want[0], want[1])
		}
	}
}

func TestPracticeFeedbackReport(t *testing.T) {
	h := newHarness(t, nil)
	seedReportScenario(t, h)
	r := h.do("GET", "/api/v1/reports/practice", h.token(auth.RolePractice, practice), nil).json(t)
	// One patient declined: shown "<5", and contacted (5) is hidden with it
	// so the decline cannot be worked out from the total.
	if r["referred"] != 6.0 || r["contacted"] != "suppressed" || r["declinedByPatient"] != "<5" || r["practice"] != practice {
		t.Errorf("practice report %v", r)
	}
	o := h.do("GET", "/api/v1/reports/practice", h.token(auth.RolePractice, otherPractice), nil).json(t)
	if o["referred"] != 0.0 {
		t.Errorf("another practice sees %v referrals", o["referred"])
	}
	if r := h.do("GET", "/api/v1/reports/practice?from=2026-13-01", h.token(auth.RolePractice, practice), nil); r.status != 400 {
		t.Errorf("bad date = %d", r.status)
	}
}

// Safety screens by practice and by referrer role (issue 11): a seeded
// scenario of referrals stopped at intake, from a care navigator and a GP
// of one practice and a receptionist of another, with the usual
// suppression; capacity redirects are counted apart.
func TestSafetyScreensByPracticeAndRole(t *testing.T) {
	h := newHarness(t, nil)
	navigator := staff(t, practice, "cn@A81001", "Care navigator")
	gp := staff(t, practice, "dr.a@A81001", "GP")
	receptionist := staff(t, otherPractice, "rc@B82002", "Receptionist")
	n := 0
	send := func(token, file string, times int) {
		t.Helper()
		for range times {
			n++
			// No requester: the referrer is the token's person (the
			// fixture names A81001, another agency to B82002).
			body := withJSON(t, fixture(t, file), map[string]any{"requester": nil,
				"identifier": []any{map[string]any{"system": referralSys, "value": fmt.Sprintf("S-%d", n)}}})
			if r := h.do("POST", "/fhir/ServiceRequest", token, body); r.status != 201 || !strings.Contains(r.header.Get("X-Task-Status"), "rejected") {
				t.Fatalf("referral %d = %d %s", n, r.status, r.header.Get("X-Task-Status"))
			}
		}
	}
	send(navigator, "servicerequest-crisis.json", 6)
	send(navigator, "servicerequest-out-of-remit.json", 5)
	send(gp, "servicerequest-out-of-remit.json", 5)
	send(receptionist, "servicerequest-crisis.json", 1)

	r := h.do("GET", "/api/v1/reports/capacity", h.token(auth.RoleAdmin, "U00001"), nil)
	if r.status != 200 {
		t.Fatalf("= %d %s", r.status, r.body)
	}
	var rep struct {
		SafetyScreens struct {
			ByPractice     []map[string]any `json:"byPractice"`
			ByReferrerRole []map[string]any `json:"byReferrerRole"`
		} `json:"safetyScreens"`
	}
	if err := json.Unmarshal(r.body, &rep); err != nil {
		t.Fatal(err)
	}
	row := func(rows []map[string]any, key, id string) string {
		for _, r := range rows {
			if r[key] == id {
				return fmt.Sprint(r["clinicalRedirect"], "/", r["outOfRemit"])
			}
		}
		return "absent"
	}
	// By practice: the other practice's single crisis referral is "<5", so
	// A81001's 6 is hidden too (it could be worked out from the total).
	for id, want := range map[string]string{practice: "suppressed/10", otherPractice: "<5/0"} {
		if got := row(rep.SafetyScreens.ByPractice, "practice", id); got != want {
			t.Errorf("practice %s: %s, want %s (%v)", id, got, want, rep.SafetyScreens.ByPractice)
		}
	}
	for id, want := range map[string]string{"care-navigator": "7/5", "gp": "0/5"} {
		if got := row(rep.SafetyScreens.ByReferrerRole, "referrerRole", id); got != want {
			t.Errorf("role %s: %s, want %s (%v)", id, got, want, rep.SafetyScreens.ByReferrerRole)
		}
	}
	csv := h.do("GET", "/api/v1/reports/capacity", h.token(auth.RoleAdmin, "U00001"), nil, "Accept", "text/csv")
	for _, want := range []string{",safety_practice," + practice + ",out_of_remit,10", ",safety_referrer_role,care-navigator,clinical_redirect,7",
		",safety_practice," + otherPractice + ",clinical_redirect,<5"} {
		if !strings.Contains(string(csv.body), want) {
			t.Errorf("CSV lacks %q:\n%s", want, csv.body)
		}
	}

	// The practice sees its own, by role; the other practice only its own.
	pr := h.do("GET", "/api/v1/reports/practice", gp, nil).json(t)
	if pr["clinicalRedirects"] != 6.0 || pr["outOfRemit"] != 10.0 {
		t.Errorf("practice totals %v / %v", pr["clinicalRedirects"], pr["outOfRemit"])
	}
	byRole := map[string]string{}
	for _, r := range pr["safetyScreensByReferrerRole"].([]any) {
		m := r.(map[string]any)
		byRole[m["referrerRole"].(string)] = fmt.Sprint(m["clinicalRedirect"], "/", m["outOfRemit"])
	}
	if byRole["care-navigator"] != "6/5" || byRole["gp"] != "0/5" || len(byRole) != 2 {
		t.Errorf("practice report by role %v", byRole)
	}
	other := h.do("GET", "/api/v1/reports/practice", receptionist, nil).json(t)
	if rows := other["safetyScreensByReferrerRole"].([]any); len(rows) != 1 || fmt.Sprint(rows[0]) != "map[clinicalRedirect:<5 outOfRemit:0 referrerRole:care-navigator]" {
		t.Errorf("other practice's report %v", rows)
	}
	if strings.Contains(string(r.body), "9000000009") {
		t.Error("report holds an NHS number")
	}
}

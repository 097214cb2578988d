package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

// referWith sends, as tok's practice, a transaction Bundle of a Patient
// (NHS number from n, home postcode, gender and birth date; "" leaves one
// out), a referral to the link workers and the patient's consent, and
// returns the referral's id.
func referWith(t *testing.T, h *harness, tok string, n int, postcode, gender, born string) string {
	t.Helper()
	var b map[string]any
	if err := json.Unmarshal(fixture(t, "bundle-referral-transaction.json"), &b); err != nil {
		t.Fatal(err)
	}
	e := b["entry"].([]any)
	pat := e[0].(map[string]any)
	nhs := adapter.SyntheticNHSNumber(2_000_000 + n)
	res := pat["resource"].(map[string]any)
	res["identifier"] = []any{map[string]any{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs}}
	res["address"].([]any)[0].(map[string]any)["postalCode"] = postcode
	for k, v := range map[string]string{"gender": gender, "birthDate": born} {
		if v == "" {
			delete(res, k)
		} else {
			res[k] = v
		}
	}
	pat["request"].(map[string]any)["ifNoneExist"] = "identifier=https://fhir.nhs.uk/Id/nhs-number|" + nhs
	e[1].(map[string]any)["resource"].(map[string]any)["identifier"] = []any{map[string]any{"system": referralSys, "value": fmt.Sprintf("W-%d", n)}}
	delete(e[1].(map[string]any)["request"].(map[string]any), "ifNoneExist")
	e[2].(map[string]any)["resource"].(map[string]any)["identifier"] = []any{map[string]any{"system": "https://x/consent", "value": fmt.Sprintf("WC-%d", n)}}
	body, _ := json.Marshal(b)
	r := h.do("POST", "/fhir", tok, body)
	if r.status != 200 {
		t.Fatalf("bundle %d = %d %s", n, r.status, r.body)
	}
	loc := r.json(t)["entry"].([]any)[1].(map[string]any)["response"].(map[string]any)["location"].(string)
	return strings.Split(strings.TrimPrefix(loc, "ServiceRequest/"), "/")[0]
}

// scoreBody is an outcome: the fixture Observation with its value and
// effectiveDateTime set.
func scoreBody(t *testing.T, file string, value any, at time.Time, approved bool) string {
	t.Helper()
	obs := withJSON(t, fixture(t, file), map[string]any{"valueInteger": value, "effectiveDateTime": at.Format(time.RFC3339)})
	b, _ := json.Marshal(map[string]any{"resource": json.RawMessage(obs), "patientApprovedSharing": approved})
	return string(b)
}

// areaRow is the report's byArea row of an area.
func areaRow(t *testing.T, rep map[string]any, area string) map[string]any {
	t.Helper()
	for _, a := range rep["byArea"].([]any) {
		if m := a.(map[string]any); m["area"] == area {
			return m
		}
	}
	t.Fatalf("no area %s in %v", area, rep["byArea"])
	return nil
}

// groupRow is the row of a reach breakdown whose key field is value.
func groupRow(rows any, key, value string) map[string]any {
	for _, r := range rows.([]any) {
		if m := r.(map[string]any); m[key] == value {
			return m
		}
	}
	return nil
}

// Issue 20, done when: seven referrals in one area, each with a baseline
// SWEMWBS of 17 and a follow-up of 23, give paired 7 and mean change 6 for
// that area, whatever order the scores came in and whether or not the
// patient approved sharing them; four pairs in another area give no
// figures; referrals from a GP and a nurse appear under bySource, with age
// band and sex from the Patients. Over HTTP, in JSON, CSV and MeasureReport.
func TestWellbeingChangeAndReachOverHTTP(t *testing.T) {
	h := newHarness(t, nil)
	gp := staff(t, practice, "dr.a@A81001", "GP")
	nurse := staff(t, practice, "nurse.b@A81001", "Practice nurse")
	lw := h.token(auth.RoleLinkWorker, "U00001")
	now := time.Now().UTC()
	baseline, followUp := now.AddDate(0, 0, -20), now.AddDate(0, 0, -2)

	var ls6, ls7 []string
	for i := range 8 { // the eighth has a baseline only: no pair
		ls6 = append(ls6, referWith(t, h, gp, i, "LS6 2BB", "female", "1958-03-14"))
	}
	for i := range 4 {
		ls7 = append(ls7, referWith(t, h, nurse, 100+i, "LS7 3CD", "male", "1945-06-30"))
	}
	record := func(id string, v int, at time.Time, approved bool) {
		t.Helper()
		if r := h.api("POST", "/api/v1/referrals/"+id+"/outcomes", lw, scoreBody(t, "observation-swemwbs.json", v, at, approved)); r.status != 201 {
			t.Fatalf("outcome on %s = %d %s", id, r.status, r.body)
		}
	}
	for i, id := range append(append([]string{}, ls6...), ls7...) {
		if r := h.api("POST", "/api/v1/referrals/"+id+"/transition", lw, `{"status":"accepted"}`); r.status != 200 {
			t.Fatalf("accept %s = %d %s", id, r.status, r.body)
		}
		switch {
		case i == 7: // LS6's eighth: one score
			record(id, 17, baseline, true)
		case i == 2: // the follow-up recorded first: paired by the Observations' own dates
			record(id, 23, followUp, true)
			record(id, 17, baseline, true)
		default:
			record(id, 17, baseline, i%2 == 0) // approved or not: counted the same
			record(id, 23, followUp, i%2 == 0)
		}
	}
	if r := h.api("POST", "/api/v1/referrals/"+ls6[0]+"/outcomes", lw, scoreBody(t, "observation-swemwbs.json", 40, now, true)); r.status != 400 ||
		issue(t, r)["expression"].([]any)[0] != "Observation.valueInteger" {
		t.Errorf("a SWEMWBS of 40 = %d %s", r.status, r.body)
	}

	com := commissioner(t, "LS6", "LS7")
	r := h.do("GET", "/api/v1/reports/capacity", com, nil)
	if r.status != 200 {
		t.Fatalf("report = %d %s", r.status, r.body)
	}
	rep := r.json(t)
	sw := areaRow(t, rep, "LS6")["wellbeing"].([]any)[0].(map[string]any)
	if sw["measure"] != "swemwbs" || sw["paired"] != 7.0 || sw["meanChange"] != 6.0 || sw["meanBaseline"] != 17.0 || sw["meanFollowUp"] != 23.0 || sw["improved"] != 7.0 {
		t.Errorf("LS6 SWEMWBS %v, want paired 7, mean change 6", sw)
	}
	four := areaRow(t, rep, "LS7")["wellbeing"].([]any)[0].(map[string]any)
	if four["paired"] != "<5" || four["meanChange"] != nil || four["improved"] != nil || four["meanBaseline"] != nil {
		t.Errorf("LS7's four pairs show figures: %v", four)
	}
	var lwRow map[string]any
	for _, s := range rep["services"].([]any) {
		if s.(map[string]any)["service"] == "riverside-link-workers" {
			lwRow = s.(map[string]any)
		}
	}
	if w := lwRow["wellbeing"].([]any)[0].(map[string]any); w["paired"] != 11.0 || w["meanChange"] != 6.0 {
		t.Errorf("the link workers' SWEMWBS %v, want 11 pairs", w)
	}

	ls6Row, ls7Row := areaRow(t, rep, "LS6"), areaRow(t, rep, "LS7")
	if g := groupRow(ls6Row["bySource"], "referrerRole", "gp"); g == nil || g["referred"] != 8.0 || g["contacted"] != 0.0 {
		t.Errorf("LS6 bySource %v", ls6Row["bySource"])
	}
	if n := groupRow(ls7Row["bySource"], "referrerRole", "nurse"); n == nil || n["referred"] != "<5" {
		t.Errorf("LS7 bySource %v", ls7Row["bySource"])
	}
	if g := groupRow(ls6Row["byAgeBand"], "ageBand", "65-74"); g == nil || g["referred"] != 8.0 {
		t.Errorf("LS6 byAgeBand %v", ls6Row["byAgeBand"])
	}
	if g := groupRow(ls7Row["byAgeBand"], "ageBand", "75-84"); g == nil || g["referred"] != "<5" {
		t.Errorf("LS7 byAgeBand %v", ls7Row["byAgeBand"])
	}
	if g := groupRow(ls6Row["bySex"], "sex", "female"); g == nil || g["referred"] != 8.0 {
		t.Errorf("LS6 bySex %v", ls6Row["bySex"])
	}
	if g := groupRow(ls6Row["byPractice"], "practice", practice); g == nil || g["name"] != "Riverside Medical Practice" || g["referred"] != 8.0 {
		t.Errorf("LS6 byPractice %v", ls6Row["byPractice"])
	}
	// Engagement: all twelve got feedback (accepted); A81001 referred none before.
	var eng map[string]any
	for _, e := range rep["practiceEngagement"].([]any) {
		if e.(map[string]any)["practice"] == practice {
			eng = e.(map[string]any)
		}
	}
	if eng == nil || eng["referrals"] != 12.0 || eng["withFeedback"] != 12.0 || eng["feedbackShare"] != 1.0 || eng["fellByHalf"] != false {
		t.Errorf("engagement %v", eng)
	}
	for _, secret := range []string{"9200000", "Patient/", "W-1", "1958-03-14", "LS6 2BB"} {
		if strings.Contains(string(r.body), secret) {
			t.Errorf("the report holds patient-level data %q", secret)
		}
	}

	csv := string(h.do("GET", "/api/v1/reports/capacity", com, nil, "Accept", "text/csv").body)
	for _, want := range []string{",area,LS6,wellbeing_swemwbs_paired,7", ",area,LS6,wellbeing_swemwbs_mean_change,6", ",area,LS7,wellbeing_swemwbs_paired,<5",
		",reach_referrer_role,LS6/gp,referred,8", ",reach_referrer_role,LS7/nurse,referred,<5"} {
		if !strings.Contains(csv, want) {
			t.Errorf("CSV lacks %q", want)
		}
	}
	mr := h.do("GET", "/fhir/MeasureReport?subject=HealthcareService/riverside-link-workers&area=LS6", com, nil)
	if _, err := h.app.parser.Parse(mr.body, "Bundle"); err != nil {
		t.Fatalf("MeasureReport bundle is not valid FHIR: %v\n%s", err, mr.body)
	}
	if b := string(mr.body); !strings.Contains(b, `"code":"wellbeing-change-swemwbs"`) || !strings.Contains(b, `"code":"initial-population"`) ||
		!strings.Contains(b, `"value":6,`) && !strings.Contains(b, `"value":6}`) {
		t.Errorf("MeasureReport lacks the wellbeing change: %s", b)
	}
}

// Areas for referrals without a Patient (issue 20): the practice's area
// from the practice table; "unknown" only when neither is known, shown,
// labelled, to admins and to the network's commissioners (a token covering
// every area of the network), and to no one else.
func TestAreasFromThePracticeTable(t *testing.T) {
	h := newHarness(t, nil)
	inTable := h.token(auth.RolePractice, practice) // A81001: LS6 in mappings/40-practices.yaml
	notInTable := h.token(auth.RolePractice, "Z99999")
	for i := range 5 {
		for _, tok := range []string{inTable, notInTable} {
			org := practice
			if tok == notInTable {
				org = "Z99999"
			}
			body := withJSON(t, fixture(t, "servicerequest-debt.json"), map[string]any{
				"identifier": []any{map[string]any{"system": referralSys, "value": fmt.Sprintf("NP-%d", i)}},
				"requester":  odsRef(org)})
			if r := h.do("POST", "/fhir/ServiceRequest", tok, body); r.status != 201 {
				t.Fatalf("referral = %d %s", r.status, r.body)
			}
		}
	}
	referWith(t, h, inTable, 1, "LS5 1AB", "", "") // the postcode wins over the practice's area

	received := func(rep map[string]any, area string) any {
		for _, a := range rep["byArea"].([]any) {
			if m := a.(map[string]any); m["area"] == area {
				return m["received"]
			}
		}
		return nil
	}
	ls6 := h.do("GET", "/api/v1/reports/capacity", commissioner(t, "LS6"), nil).json(t)
	if received(ls6, "LS6") != 5.0 || received(ls6, "unknown") != nil || len(ls6["byArea"].([]any)) != 1 {
		t.Errorf("LS6 commissioner: %v", ls6["byArea"])
	}
	if r := h.do("GET", "/api/v1/reports/capacity?area=unknown", commissioner(t, "LS6"), nil); r.status != 403 {
		t.Errorf("LS6 commissioner asking for unknown = %d", r.status)
	}
	network := commissioner(t, "LS4", "LS5", "LS6", "LS7", "LS8")
	rep := h.do("GET", "/api/v1/reports/capacity", network, nil).json(t)
	if received(rep, "LS6") != 5.0 || received(rep, "LS5") != "<5" || received(rep, "unknown") != 5.0 {
		t.Errorf("network commissioner: %v", rep["byArea"])
	}
	if areas := fmt.Sprint(rep["areas"]); areas != "[LS4 LS5 LS6 LS7 LS8 unknown]" {
		t.Errorf("network commissioner's areas %s", areas)
	}
	if row := areaRow(t, rep, "unknown"); !strings.HasPrefix(fmt.Sprint(row["label"]), "Area not known") {
		t.Errorf("the unknown area is not labelled: %v", row["label"])
	}
	only := h.do("GET", "/api/v1/reports/capacity?area=unknown", network, nil)
	if only.status != 200 || received(only.json(t), "unknown") != 5.0 {
		t.Errorf("network commissioner, area=unknown: %d %s", only.status, only.body)
	}
	if admin := h.do("GET", "/api/v1/reports/capacity", h.token(auth.RoleAdmin, "U00001"), nil).json(t); received(admin, "unknown") != 5.0 {
		t.Errorf("admin: %v", admin["byArea"])
	}
	page := string(h.do("GET", "/dashboard", network, nil).body)
	if !strings.Contains(page, `<option value="unknown">Area not known</option>`) || !strings.Contains(page, `id="funnel-unknown"`) ||
		!strings.Contains(page, "<h3>Area not known</h3>") {
		t.Error("the network commissioner's dashboard does not show the unknown area, labelled")
	}
}

package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

// api sends the adapter's own JSON.
func (h *harness) api(method, path, token, body string) response {
	h.t.Helper()
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	return h.do(method, path, token, b, "Content-Type", "application/json")
}

func outcomeBody(t *testing.T, file string, approved bool) string {
	b, _ := json.Marshal(map[string]any{"resource": json.RawMessage(fixture(t, file)), "patientApprovedSharing": approved})
	return string(b)
}

// The whole journey over HTTP: referral, claim, accept, contact, refer on
// to a VCSE service, provider decline (slot released), outcomes with and
// without the patient's approval, and what the GP sees.
func TestReferralLifecycleOverHTTP(t *testing.T) {
	h := newHarness(t, nil)
	gp := h.token(auth.RolePractice, practice)
	lw := h.token(auth.RoleLinkWorker, "U00001")
	cab := h.token(auth.RoleProvider, "X1V01") // debt advice
	id := h.do("POST", "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-general.json")).json(t)["id"].(string)

	r := h.api("POST", "/api/v1/queues/riverside-link-workers/claim", lw, "")
	if r.status != 200 {
		t.Fatalf("claim = %d %s", r.status, r.body)
	}
	var claim struct {
		Task           map[string]any `json:"task"`
		ServiceRequest map[string]any `json:"serviceRequest"`
		LeaseExpires   string         `json:"leaseExpires"`
	}
	if err := json.Unmarshal(r.body, &claim); err != nil || claim.Task["id"] != id || claim.ServiceRequest["id"] != id || claim.LeaseExpires == "" {
		t.Fatalf("claim body %s", r.body)
	}
	if r := h.api("POST", "/api/v1/queues/riverside-link-workers/claim", lw, ""); r.status != 204 {
		t.Errorf("empty queue claim = %d", r.status)
	}
	if r := h.api("POST", "/api/v1/referrals/"+id+"/lease", lw, ""); r.status != 200 {
		t.Errorf("renew = %d %s", r.status, r.body)
	}
	step := func(tok, body string, want int) response {
		t.Helper()
		r := h.api("POST", "/api/v1/referrals/"+id+"/transition", tok, body)
		if r.status != want {
			t.Fatalf("transition %s = %d %s", body, r.status, r.body)
		}
		return r
	}
	bad := step(lw, `{"status":"completed"}`, 409)
	if is := issue(t, bad); !strings.Contains(is["diagnostics"].(string), "accepted, rejected, cancelled") {
		t.Errorf("409 does not name the allowed statuses: %v", is)
	}
	step(lw, `{"status":"accepted"}`, 200)
	step(lw, `{"status":"accepted","businessStatus":{"system":"https://social-prescribing.github.io/referral-adapter/CodeSystem/task-business-status","code":"contacted"}}`, 200)

	r = h.api("POST", "/api/v1/referrals/"+id+"/refer-on", lw, `{"service":"money-advice","reason":"debt worries after first conversation"}`)
	if r.status != 201 {
		t.Fatalf("refer on = %d %s", r.status, r.body)
	}
	child := r.json(t)
	if child["partOf"].([]any)[0].(map[string]any)["reference"] != "Task/"+id || child["owner"].(map[string]any)["reference"] != "HealthcareService/money-advice" {
		t.Errorf("child Task = %s", r.body)
	}
	childID := child["id"].(string)
	if r := h.do("GET", "/fhir/Task/"+childID, lw, nil); r.status != 200 {
		t.Errorf("the link worker cannot follow its onward referral: %d", r.status)
	}
	if r := h.do("GET", "/fhir/Task/"+childID, h.token(auth.RoleProvider, "X1V03"), nil); r.status != 404 {
		t.Errorf("an unrelated provider reads the onward referral: %d", r.status)
	}
	capBefore := h.api("GET", "/api/v1/services/money-advice/capacity", cab, "").json(t)

	pr := h.api("POST", "/api/v1/queues/money-advice/claim", cab, "")
	if pr.status != 200 || !strings.Contains(string(pr.body), childID) {
		t.Fatalf("provider claim = %d %s", pr.status, pr.body)
	}
	dec := h.api("POST", "/api/v1/referrals/"+childID+"/transition", cab,
		`{"status":"rejected","businessStatus":{"code":"declined-by-provider"},"reason":"not-eligible"}`)
	if dec.status != 200 || dec.json(t)["status"] != "rejected" {
		t.Fatalf("provider decline = %d %s", dec.status, dec.body)
	}
	if parent := h.do("GET", "/fhir/Task/"+id, lw, nil); !strings.Contains(string(parent.body), "declined the onward referral (not-eligible)") {
		t.Errorf("the link worker's Task does not say the provider declined: %s", parent.body)
	}
	capAfter := h.api("GET", "/api/v1/services/money-advice/capacity", cab, "").json(t)
	if capAfter["reserved"].(float64) != capBefore["reserved"].(float64)-1 {
		t.Errorf("slot not released: before %v after %v", capBefore["reserved"], capAfter["reserved"])
	}

	// Outcomes: approved, not approved, approved procedure.
	var refs []string
	for _, o := range []struct {
		file     string
		approved bool
	}{{"observation-swemwbs.json", true}, {"observation-ons4-life-satisfaction.json", false}, {"procedure-activity-attended.json", true}} {
		r := h.api("POST", "/api/v1/referrals/"+id+"/outcomes", lw, outcomeBody(t, o.file, o.approved))
		if r.status != 201 {
			t.Fatalf("outcome = %d %s", r.status, r.body)
		}
		refs = append(refs, r.json(t)["reference"].(string))
	}
	task := h.do("GET", "/fhir/Task/"+id, gp, nil)
	if _, err := h.app.parser.Parse(task.body, "Task"); err != nil {
		t.Fatalf("Task with outputs is not valid FHIR: %v", err)
	}
	body := string(task.body)
	if !strings.Contains(body, refs[0]) || strings.Contains(body, refs[1]) || !strings.Contains(body, refs[2]) || !strings.Contains(body, `"code":"REDACTED"`) {
		t.Errorf("GP view of Task.output: %s", body)
	}
	if r := h.do("GET", "/fhir/"+refs[1], gp, nil); r.status != 404 {
		t.Errorf("GP reading an unapproved outcome = %d", r.status)
	}
	if r := h.do("GET", "/fhir/"+refs[0], gp, nil); r.status != 200 {
		t.Errorf("GP reading an approved outcome = %d", r.status)
	}
	if r := h.do("GET", "/fhir/"+refs[1], lw, nil); r.status != 200 {
		t.Errorf("link worker reading the outcome = %d", r.status)
	}
	if lwTask := h.do("GET", "/fhir/Task/"+id, lw, nil); !strings.Contains(string(lwTask.body), refs[1]) {
		t.Error("the link worker should see every outcome")
	}

	// Patient declines: neutral, no reason needed.
	end := step(lw, `{"status":"cancelled","businessStatus":{"code":"declined-by-patient"}}`, 200)
	if end.json(t)["status"] != "cancelled" {
		t.Errorf("end = %s", end.body)
	}
	step(gp, `{"status":"cancelled","reason":"x"}`, 409)
}

func TestReferOnToAFullServiceIsRefused(t *testing.T) {
	h := newHarness(t, nil)
	gp := h.token(auth.RolePractice, practice)
	lw := h.token(auth.RoleLinkWorker, "U00001")
	admin := h.token(auth.RoleAdmin, "U00001")
	id := h.do("POST", "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-general.json")).json(t)["id"].(string)
	h.api("POST", "/api/v1/queues/riverside-link-workers/claim", lw, "")
	h.api("POST", "/api/v1/referrals/"+id+"/transition", lw, `{"status":"accepted"}`)
	if r := h.api("PUT", "/api/v1/services/befriending/capacity", admin, `{"status":"paused","maxOpen":30}`); r.status != 200 {
		t.Fatalf("pause = %d %s", r.status, r.body)
	}
	r := h.api("POST", "/api/v1/referrals/"+id+"/refer-on", lw, `{"service":"befriending"}`)
	if r.status != 409 {
		t.Fatalf("refer on to a paused service = %d %s", r.status, r.body)
	}
	if task := h.do("GET", "/fhir/Task/"+id, gp, nil).json(t); task["status"] != "accepted" {
		t.Errorf("a refused onward referral changed the Task: %v", task["status"])
	}
	if r := h.api("POST", "/api/v1/referrals/"+id+"/refer-on", lw, `{"service":"nowhere"}`); r.status != 400 {
		t.Errorf("unknown service = %d", r.status)
	}
	if r := h.api("POST", "/api/v1/referrals/"+id+"/transition", lw, `{"status":"accepted","colour":"red"}`); r.status != 400 {
		t.Errorf("unknown field = %d", r.status)
	}
}

// EHRs and providers poll: owner, status and _lastUpdated=gt, each caller
// seeing only its own Tasks.
func TestPollingTasks(t *testing.T) {
	h := newHarness(t, nil)
	gp := h.token(auth.RolePractice, practice)
	other := h.token(auth.RolePractice, otherPractice)
	debt := h.do("POST", "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-debt.json")).json(t)["id"].(string)
	h.do("POST", "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-general.json"))
	h.do("POST", "/fhir/ServiceRequest", other, fixture(t, "servicerequest-loneliness.json"))

	all := h.do("GET", "/fhir/Task?_lastUpdated=gt2026-01-01T00:00:00Z", gp, nil).json(t)
	if all["total"] != float64(2) {
		t.Fatalf("practice sees %v Tasks, want its 2", all["total"])
	}
	mine := h.do("GET", "/fhir/Task?owner=HealthcareService/money-advice&status=requested,accepted", gp, nil).json(t)
	if mine["total"] != float64(1) || !strings.Contains(fmtJSON(mine), debt) {
		t.Errorf("owner+status filter: %v", mine["total"])
	}
	prov := h.do("GET", "/fhir/Task?status=requested", h.token(auth.RoleProvider, "X1V01"), nil).json(t)
	if prov["total"] != float64(1) {
		t.Errorf("provider sees %v Tasks, want the one routed to it", prov["total"])
	}
	future := h.do("GET", "/fhir/Task?_lastUpdated=gt2099-01-01T00:00:00Z", gp, nil).json(t)
	if future["total"] != float64(0) {
		t.Errorf("nothing changed after 2099, got %v", future["total"])
	}
	// Every form of FHIR's date search (search.html#date), a day in London.
	today := time.Now().In(adapter.London()).Format(time.DateOnly)
	for q, want := range map[string]float64{"_lastUpdated=" + today: 2, "_lastUpdated=ge" + today: 2, "_lastUpdated=lt" + today: 0,
		"_lastUpdated=le2099-01-01": 2, "_lastUpdated=lt2026-01-01T00:00:00Z": 0} {
		if got := h.do("GET", "/fhir/Task?"+q, gp, nil).json(t); got["total"] != want {
			t.Errorf("%s: total %v, want %v", q, got["total"], want)
		}
		if got := h.do("GET", "/fhir/ServiceRequest?"+q, gp, nil).json(t); got["total"] != want {
			t.Errorf("ServiceRequest?%s: total %v, want %v", q, got["total"], want)
		}
	}
	for _, q := range []string{"status=finished", "_lastUpdated=yesterday", "_count=-1", "_count=many", "_cursor=made-up"} {
		if r := h.do("GET", "/fhir/Task?"+q, gp, nil); r.status != 400 {
			t.Errorf("%s = %d, want 400", q, r.status)
		}
	}
}

func fmtJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Once claimed, the referring practice sees who is handling the referral.
func TestNamedContactOnTask(t *testing.T) {
	h := newHarness(t, nil)
	gp := h.token(auth.RolePractice, practice)
	id := h.do("POST", "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-general.json")).json(t)["id"].(string)
	if strings.Contains(string(h.do("GET", "/fhir/Task/"+id, gp, nil).body), "Named contact") {
		t.Fatal("named contact before anyone took the referral")
	}
	lw, _ := auth.Mint(testSecret, auth.MintOptions{Role: auth.RoleLinkWorker, Org: "U00001", Name: "Sam Okafor", Title: "Social prescribing link worker"})
	h.api("POST", "/api/v1/queues/riverside-link-workers/claim", lw, "")
	h.api("POST", "/api/v1/referrals/"+id+"/transition", lw, `{"status":"accepted"}`)
	task := h.do("GET", "/fhir/Task/"+id, gp, nil)
	if _, err := h.app.parser.Parse(task.body, "Task"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(task.body), "Named contact: Sam Okafor (Social prescribing link worker), Riverside Social Prescribing Link Workers, 0113 496 0000, riverside.sp@example.nhs.uk") {
		t.Errorf("Task: %s", task.body)
	}
}

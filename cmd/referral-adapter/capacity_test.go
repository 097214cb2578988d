package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

// Money advice is provided by Riverside Citizens Advice (X1V01); housing
// by X1V02.
const (
	moneyAdvice = "/api/v1/services/money-advice/capacity"
	adviceOrg   = "X1V01"
	housingOrg  = "X1V02"
)

func (h *harness) putCapacity(token, path, body string) response {
	h.t.Helper()
	return h.do("PUT", path, token, []byte(body), "Content-Type", "application/json")
}

func TestCapacityAPIAuthorisation(t *testing.T) {
	h := newHarness(t, nil)
	own := h.token(auth.RoleProvider, adviceOrg)
	other := h.token(auth.RoleProvider, housingOrg)
	body := `{"status": "waitlist", "maxOpen": 60, "weeklyIntake": 5}`

	r := h.putCapacity(own, moneyAdvice, body)
	if r.status != 200 {
		t.Fatalf("own provider PUT = %d %s", r.status, r.body)
	}
	got := r.json(t)
	if got["status"] != "waitlist" || got["maxOpen"] != float64(60) || got["weeklyIntake"] != float64(5) ||
		got["capacityStatus"].(map[string]any)["code"] != "waitlist" || got["lastVerified"] == nil || got["stale"] != false {
		t.Errorf("PUT answered %v", got)
	}

	cases := []struct {
		name, method, token, path string
		status                    int
		code                      string
	}{
		{"other provider updates", "PUT", other, moneyAdvice, 404, "not-found"},
		{"practice updates", "PUT", h.token(auth.RolePractice, practice), moneyAdvice, 403, "forbidden"},
		{"link worker updates", "PUT", h.token(auth.RoleLinkWorker, "U00001"), moneyAdvice, 403, "forbidden"},
		{"no token", "PUT", "", moneyAdvice, 401, "login"},
		{"unknown service", "PUT", own, "/api/v1/services/nowhere/capacity", 404, "not-found"},
		{"admin updates", "PUT", h.token(auth.RoleAdmin, "ADMIN"), moneyAdvice, 200, ""},
		{"own provider reads", "GET", own, moneyAdvice, 200, ""},
		{"other provider reads", "GET", other, moneyAdvice, 404, "not-found"},
		{"link worker reads", "GET", h.token(auth.RoleLinkWorker, "U00001"), moneyAdvice, 200, ""},
		{"practice reads", "GET", h.token(auth.RolePractice, practice), moneyAdvice, 403, "forbidden"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r response
			if c.method == "PUT" {
				r = h.putCapacity(c.token, c.path, body)
			} else {
				r = h.do("GET", c.path, c.token, nil)
			}
			if r.status != c.status {
				t.Fatalf("= %d %s, want %d", r.status, r.body, c.status)
			}
			if c.code != "" {
				if is := issue(t, r); is["code"] != c.code {
					t.Errorf("issue %v, want %s", is, c.code)
				}
			}
		})
	}
}

func TestCapacityUpdateRejectsBadInput(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.token(auth.RoleProvider, adviceOrg)
	before := h.do("GET", moneyAdvice, tok, nil).json(t)
	cases := []struct {
		name, body, ct string
		status         int
		code, expr     string
	}{
		{"missing status", `{"maxOpen": 5}`, "", 400, "required", "status"},
		{"missing maxOpen", `{"status": "open"}`, "", 400, "required", "maxOpen"},
		{"unknown status", `{"status": "full", "maxOpen": 5}`, "", 400, "code-invalid", "status"},
		{"negative maxOpen", `{"status": "open", "maxOpen": -1}`, "", 400, "value", "maxOpen"},
		{"fractional maxOpen", `{"status": "open", "maxOpen": 1.5}`, "", 400, "value", "maxOpen"},
		{"string maxOpen", `{"status": "open", "maxOpen": "5"}`, "", 400, "value", "maxOpen"},
		{"unknown member", `{"status": "open", "maxOpen": 5, "colour": "blue"}`, "", 400, "structure", "colour"},
		{"malformed", `{"status": "open",`, "", 400, "structure", ""},
		{"two objects", `{"status": "open", "maxOpen": 5} {}`, "", 400, "structure", ""},
		{"not JSON content", `status=open`, "text/plain", 415, "not-supported", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ct := c.ct
			if ct == "" {
				ct = "application/json"
			}
			r := h.do("PUT", moneyAdvice, tok, []byte(c.body), "Content-Type", ct)
			if r.status != c.status {
				t.Fatalf("= %d %s, want %d", r.status, r.body, c.status)
			}
			is := issue(t, r)
			if is["code"] != c.code {
				t.Errorf("issue %v, want %s", is, c.code)
			}
			if c.expr != "" {
				if ex, _ := is["expression"].([]any); len(ex) == 0 || ex[0] != c.expr {
					t.Errorf("expression %v, want %s", is["expression"], c.expr)
				}
			}
		})
	}
	after := h.do("GET", moneyAdvice, tok, nil).json(t)
	if after["lastVerified"] != before["lastVerified"] || after["status"] != before["status"] {
		t.Errorf("a rejected update changed the capacity: %v → %v", before, after)
	}
}

// searchIDs returns the ids of the HealthcareServices a search finds.
func (h *harness) searchIDs(token, query string) []string {
	h.t.Helper()
	r := h.do("GET", "/fhir/HealthcareService?"+query, token, nil)
	if r.status != 200 {
		h.t.Fatalf("search %s = %d %s", query, r.status, r.body)
	}
	var ids []string
	entries, _ := r.json(h.t)["entry"].([]any)
	for _, e := range entries {
		ids = append(ids, e.(map[string]any)["resource"].(map[string]any)["id"].(string))
	}
	return ids
}

// The pre-referral check: a practice finds services by live capacity
// status, with no patient data, and each service carries the Gravity
// capacity status extension.
func TestDirectorySearchByCapacityStatus(t *testing.T) {
	h := newHarness(t, nil)
	gp := h.token(auth.RolePractice, practice)
	if ids := h.searchIDs(gp, "capacity-status=capacity"); len(ids) != 8 {
		t.Fatalf("all services have capacity at start-up; found %v", ids)
	}
	h.putCapacity(h.token(auth.RoleProvider, adviceOrg), moneyAdvice, `{"status": "waitlist", "maxOpen": 60, "weeklyIntake": 5}`)
	h.putCapacity(h.token(auth.RoleProvider, housingOrg), "/api/v1/services/housing-options/capacity", `{"status": "paused", "maxOpen": 40}`)

	if ids := h.searchIDs(gp, "capacity-status=waitlist"); strings.Join(ids, ",") != "money-advice" {
		t.Errorf("waitlist search found %v", ids)
	}
	sys := url.QueryEscape("http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes|no-capacity")
	if ids := h.searchIDs(gp, "capacity-status="+sys); strings.Join(ids, ",") != "housing-options" {
		t.Errorf("system|code search found %v", ids)
	}
	if ids := h.searchIDs(gp, "capacity-status=capacity&area=LS8"); strings.Join(ids, ",") != "work-and-skills,carers-support" {
		t.Errorf("capacity in LS8 found %v", ids)
	}

	r := h.do("GET", "/fhir/HealthcareService/money-advice", gp, nil)
	ext := r.json(t)["extension"].([]any)[0].(map[string]any)
	if ext["url"] != "http://hl7.org/fhir/us/sdoh-clinicalcare/StructureDefinition/SDOHCC-ExtensionHealthcareServiceCapacityStatus" {
		t.Fatalf("extension %v", ext)
	}
	parts := map[string]map[string]any{}
	for _, e := range ext["extension"].([]any) {
		parts[e.(map[string]any)["url"].(string)] = e.(map[string]any)
	}
	coding := parts["capacityStatus"]["valueCodeableConcept"].(map[string]any)["coding"].([]any)[0].(map[string]any)
	if coding["code"] != "waitlist" || coding["display"] != "No Capacity - Has Waitlist" {
		t.Errorf("capacityStatus %v", coding)
	}
	if parts["capacityNotes"]["valueString"] != "0 waiting, estimated wait 2 days" {
		t.Errorf("capacityNotes %v", parts["capacityNotes"])
	}
	if r := h.do("GET", "/fhir/HealthcareService?capacity-status=capacity&colour=blue", gp, nil); r.status != 400 {
		t.Errorf("unknown parameter = %d", r.status)
	}
	// By category: R4's service-category, and category as before.
	low := url.QueryEscape("http://hl7.org/fhir/sid/icd-10|Z59.6")
	for _, name := range []string{"service-category", "category"} {
		if ids := h.searchIDs(gp, name+"="+low); strings.Join(ids, ",") != "money-advice" {
			t.Errorf("%s=Z59.6 found %v", name, ids)
		}
	}
}

// The GP sees the outcome at once on the Task: waitlisted with position and
// estimate; then, when the service closes, where the referral went and why.
func TestWaitlistedThenClosedReferralTask(t *testing.T) {
	h := newHarness(t, nil)
	gp := h.token(auth.RolePractice, practice)
	provider := h.token(auth.RoleProvider, adviceOrg)
	h.putCapacity(provider, moneyAdvice, `{"status": "waitlist", "maxOpen": 60, "weeklyIntake": 5}`)

	r := h.do("POST", "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-debt.json"))
	if r.status != http.StatusCreated {
		t.Fatalf("POST = %d %s", r.status, r.body)
	}
	id := r.json(t)["id"].(string)
	task := h.do("GET", "/fhir/Task/"+id, gp, nil).json(t)
	if code := task["businessStatus"].(map[string]any)["coding"].([]any)[0].(map[string]any)["code"]; code != "waitlisted" {
		t.Errorf("businessStatus %v", task["businessStatus"])
	}
	want := "Waitlisted at Riverside Citizens Advice - debt and benefits, position 1, estimated wait 2 days"
	if got := task["statusReason"].(map[string]any)["text"]; got != want {
		t.Errorf("statusReason %q", got)
	}
	if got := h.do("GET", moneyAdvice, provider, nil).json(t)["waiting"]; got != float64(1) {
		t.Errorf("waiting = %v", got)
	}

	closed := h.putCapacity(provider, moneyAdvice, `{"status": "closed", "maxOpen": 0}`)
	if closed.status != 200 || closed.json(t)["rerouted"] != float64(1) {
		t.Fatalf("closing = %d %s", closed.status, closed.body)
	}
	task = h.do("GET", "/fhir/Task/"+id, gp, nil).json(t)
	if task["owner"].(map[string]any)["reference"] != "HealthcareService/riverside-link-workers" {
		t.Errorf("owner after closure %v", task["owner"])
	}
	want = "Riverside Citizens Advice - debt and benefits closed. Routed to Riverside Social Prescribing Link Workers"
	if got := task["statusReason"].(map[string]any)["text"]; got != want {
		t.Errorf("statusReason after closure %q", got)
	}
	if v := task["meta"].(map[string]any)["versionId"]; v != "2" {
		t.Errorf("version %v", v)
	}
	// The closed service's provider no longer sees the referral.
	if r := h.do("GET", "/fhir/Task/"+id, provider, nil); r.status != 404 {
		t.Errorf("closed service's provider reads the moved Task: %d", r.status)
	}
}

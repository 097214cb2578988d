package fhir_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/adapter/routing"
	"github.com/social-prescribing/referral-adapter/internal/testfiles"
	"github.com/social-prescribing/referral-adapter/mappings"
)

func newRenderer(t testing.TB) *fhir.Renderer {
	t.Helper()
	r, err := fhir.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// reparse checks rendered JSON is valid FHIR R4 of the type, by the same
// parser and validator intake uses.
func reparse(t *testing.T, p *fhir.Parser, body []byte, typ string) {
	t.Helper()
	if _, err := p.Parse(body, typ); err != nil {
		t.Fatalf("rendered %s is not valid FHIR: %v\n%s", typ, err, body)
	}
}

// taskJSON is the part of a rendered Task the tests read.
type taskJSON struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	Meta         struct {
		VersionID   string           `json:"versionId"`
		LastUpdated string           `json:"lastUpdated"`
		Security    []adapter.Coding `json:"security"`
	} `json:"meta"`
	Status         string      `json:"status"`
	Intent         string      `json:"intent"`
	Priority       string      `json:"priority"`
	Code           conceptJSON `json:"code"`
	BusinessStatus conceptJSON `json:"businessStatus"`
	StatusReason   conceptJSON `json:"statusReason"`
	Focus          refJSON     `json:"focus"`
	BasedOn        []refJSON   `json:"basedOn"`
	PartOf         []refJSON   `json:"partOf"`
	For            refJSON     `json:"for"`
	Requester      refJSON     `json:"requester"`
	Owner          *refJSON    `json:"owner"`
	AuthoredOn     string      `json:"authoredOn"`
	LastModified   string      `json:"lastModified"`
	Restriction    struct {
		Period struct {
			End string `json:"end"`
		} `json:"period"`
	} `json:"restriction"`
	Output []struct {
		Type           conceptJSON `json:"type"`
		ValueReference refJSON     `json:"valueReference"`
	} `json:"output"`
}

type conceptJSON struct {
	Coding []adapter.Coding `json:"coding"`
	Text   string           `json:"text"`
}

type refJSON struct {
	Reference  string             `json:"reference"`
	Type       string             `json:"type"`
	Identifier adapter.Identifier `json:"identifier"`
	Display    string             `json:"display"`
}

var t0 = time.Date(2026, 11, 20, 10, 15, 0, 0, time.UTC)

// A rendered Task is the Gravity referral Task: intent order, code fulfill,
// focus and basedOn the ServiceRequest, for the patient, owned by the
// service; and it is valid FHIR R4.
func TestRenderTask(t *testing.T) {
	r, p := newRenderer(t), newParser(t)
	bs, _ := adapter.BusinessStatus(adapter.BSRouted)
	task := &adapter.Task{
		ID: "sr1", ReferralID: "sr1", PartOf: "parent1", Practice: "A81001", Patient: "Patient/p1",
		Owner: "money-advice", Status: adapter.TaskAccepted, BusinessStatus: bs, StatusReason: "Routed to Money Advice",
		Priority: adapter.PriorityUrgent, AuthoredOn: t0, LastModified: t0.Add(time.Hour), Version: 3,
		FirstContactDue: t0.Add(48 * time.Hour),
	}
	body, err := r.Task(task, fhir.TaskView{OwnerName: "Money Advice", Outputs: []string{"Observation/o1"}})
	if err != nil {
		t.Fatal(err)
	}
	reparse(t, p, body, "Task")
	var got taskJSON
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want string
	}{
		{"resourceType", got.ResourceType, "Task"},
		{"id", got.ID, "sr1"},
		{"meta.versionId", got.Meta.VersionID, "3"},
		{"meta.lastUpdated", got.Meta.LastUpdated, "2026-11-20T11:15:00.000Z"},
		{"status", got.Status, "accepted"},
		{"intent", got.Intent, "order"},
		{"priority", got.Priority, "urgent"},
		{"code", got.Code.Coding[0].System + "|" + got.Code.Coding[0].Code, "http://hl7.org/fhir/CodeSystem/task-code|fulfill"},
		{"businessStatus", got.BusinessStatus.Coding[0].System + "|" + got.BusinessStatus.Coding[0].Code, adapter.SystemBusinessStatus + "|routed"},
		{"statusReason", got.StatusReason.Text, "Routed to Money Advice"},
		{"focus", got.Focus.Reference, "ServiceRequest/sr1"},
		{"basedOn", got.BasedOn[0].Reference, "ServiceRequest/sr1"},
		{"partOf", got.PartOf[0].Reference, "Task/parent1"},
		{"for", got.For.Reference, "Patient/p1"},
		{"owner", got.Owner.Reference, "HealthcareService/money-advice"},
		{"owner.display", got.Owner.Display, "Money Advice"},
		{"requester.type", got.Requester.Type, "Organization"},
		{"requester.identifier", got.Requester.Identifier.String(), adapter.SystemODS + "|A81001"},
		{"authoredOn", got.AuthoredOn, "2026-11-20T10:15:00Z"},
		{"lastModified", got.LastModified, "2026-11-20T11:15:00Z"},
		{"restriction.period.end", got.Restriction.Period.End, "2026-11-22T10:15:00Z"},
		{"output", got.Output[0].ValueReference.Reference, "Observation/o1"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if len(got.Meta.Security) != 0 {
		t.Errorf("security labels on an unredacted Task: %v", got.Meta.Security)
	}
}

// Every Gravity Task status renders as valid FHIR; a Task stopped at intake
// has no owner; a patient and requester known only by identifier render as
// logical references; a redacted view carries the REDACTED label.
func TestRenderTaskVariants(t *testing.T) {
	r, p := newRenderer(t), newParser(t)
	statuses := []adapter.TaskStatus{adapter.TaskRequested, adapter.TaskAccepted, adapter.TaskRejected, adapter.TaskCancelled,
		adapter.TaskOnHold, adapter.TaskInProgress, adapter.TaskCompleted, adapter.TaskFailed, adapter.TaskEnteredInError}
	for _, st := range statuses {
		body, err := r.Task(&adapter.Task{ID: "t", ReferralID: "sr", Practice: "A81001", Owner: "lw", Status: st,
			AuthoredOn: t0, LastModified: t0, Version: 1}, fhir.TaskView{})
		if err != nil {
			t.Fatal(err)
		}
		reparse(t, p, body, "Task")
		var got taskJSON
		_ = json.Unmarshal(body, &got)
		if got.Status != string(st) {
			t.Errorf("status %q rendered as %q", st, got.Status)
		}
	}

	body, err := r.Task(&adapter.Task{ID: "t", ReferralID: "sr", Practice: "A81001", Status: adapter.TaskRejected,
		Patient:      "Patient?identifier=" + adapter.SystemNHSNumber + "|9000000009",
		Requester:    "PractitionerRole?identifier=https://fhir.nhs.uk/Id/sds-role-profile-id|555",
		LastModified: t0, Version: 1}, fhir.TaskView{Redacted: true})
	if err != nil {
		t.Fatal(err)
	}
	reparse(t, p, body, "Task")
	var got taskJSON
	_ = json.Unmarshal(body, &got)
	if got.Owner != nil {
		t.Errorf("owner %+v on a Task never placed", got.Owner)
	}
	if got.For.Type != "Patient" || got.For.Identifier.String() != adapter.SystemNHSNumber+"|9000000009" || got.For.Reference != "" {
		t.Errorf("for %+v", got.For)
	}
	if got.Requester.Type != "PractitionerRole" || got.Requester.Identifier.Value != "555" {
		t.Errorf("requester %+v", got.Requester)
	}
	if len(got.Meta.Security) != 1 || got.Meta.Security[0].Code != fhir.CodeRedacted {
		t.Errorf("security %v, want REDACTED", got.Meta.Security)
	}
}

// Every service of the default directory renders as a valid
// HealthcareService, with and without a capacity status.
func TestRenderHealthcareServices(t *testing.T) {
	r, p := newRenderer(t), newParser(t)
	m, err := routing.Load(mappings.Default, "mappings")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range m.Services() {
		for _, c := range []*fhir.CapacityView{nil, {Code: adapter.GravityNoCapacity, Display: "No Capacity", Note: "closed"}} {
			body, err := r.HealthcareService(s, c)
			if err != nil {
				t.Fatalf("%s: %v", s.ID, err)
			}
			reparse(t, p, body, "HealthcareService")
		}
	}
	s, _ := m.Service("money-advice")
	body, _ := r.HealthcareService(s, nil)
	var hs struct {
		ID         string  `json:"id"`
		Active     bool    `json:"active"`
		Name       string  `json:"name"`
		ProvidedBy refJSON `json:"providedBy"`
		Category   []conceptJSON
		Telecom    []struct{ System, Value, Use string }
		Comm       []conceptJSON `json:"communication"`
		Method     []conceptJSON `json:"referralMethod"`
		Elig       []struct {
			Code conceptJSON `json:"code"`
		} `json:"eligibility"`
		Available []struct {
			DaysOfWeek []string `json:"daysOfWeek"`
			Start      string   `json:"availableStartTime"`
			End        string   `json:"availableEndTime"`
		} `json:"availableTime"`
	}
	if err := json.Unmarshal(body, &hs); err != nil {
		t.Fatal(err)
	}
	if hs.ID != "money-advice" || !hs.Active || hs.Name != "Riverside Citizens Advice - debt and benefits" {
		t.Errorf("id/active/name: %s", body)
	}
	if hs.ProvidedBy.Type != "Organization" || hs.ProvidedBy.Identifier != (adapter.Identifier{System: adapter.SystemODS, Value: "X1V01"}) {
		t.Errorf("providedBy %+v", hs.ProvidedBy)
	}
	if len(hs.Category) != 1 || hs.Category[0].Coding[0].Code != "Z59.6" {
		t.Errorf("category %+v", hs.Category)
	}
	if len(hs.Telecom) != 2 || hs.Telecom[0].System != "phone" || hs.Telecom[1].System != "email" {
		t.Errorf("telecom %+v", hs.Telecom)
	}
	if len(hs.Comm) != 3 || hs.Comm[1].Coding[0].Code != "ur" {
		t.Errorf("communication %+v", hs.Comm)
	}
	if len(hs.Method) != 1 || hs.Method[0].Coding[0].Code != "elec" {
		t.Errorf("referralMethod %+v", hs.Method)
	}
	var elig []string
	for _, e := range hs.Elig {
		elig = append(elig, e.Code.Text)
	}
	if strings.Join(elig, "; ") != "aged 18 or over; lives in LS4, LS5, LS6, LS7, LS8" {
		t.Errorf("eligibility %q", elig)
	}
	if len(hs.Available) != 1 || strings.Join(hs.Available[0].DaysOfWeek, ",") != "mon,tue,wed,thu" ||
		hs.Available[0].Start != "09:30:00" || hs.Available[0].End != "16:00:00" {
		t.Errorf("availableTime %+v", hs.Available)
	}
}

func TestRenderOperationOutcome(t *testing.T) {
	r, p := newRenderer(t), newParser(t)
	body := r.OperationOutcome(
		fhir.Issue{Severity: "error", Code: "required", Diagnostics: "missing required element \"status\"", Expression: []string{"ServiceRequest.status"}},
		fhir.Issue{Severity: "warning", Code: "business-rule"},
	)
	reparse(t, p, body, "OperationOutcome")
	var oo struct {
		Issue []struct {
			Severity, Code, Diagnostics string
			Expression                  []string
		}
	}
	if err := json.Unmarshal(body, &oo); err != nil || len(oo.Issue) != 2 {
		t.Fatalf("%s", body)
	}
	if is := oo.Issue[0]; is.Severity != "error" || is.Code != "required" || is.Expression[0] != "ServiceRequest.status" || is.Diagnostics == "" {
		t.Errorf("issue %+v", is)
	}
	// A severity or code outside the FHIR value sets still renders valid
	// FHIR: error / exception.
	bad := r.OperationOutcome(fhir.Issue{Severity: "dire", Code: "no-such-code", Diagnostics: "x"})
	reparse(t, p, bad, "OperationOutcome")
	if !bytes.Contains(bad, []byte(`"severity":"error"`)) || !bytes.Contains(bad, []byte(`"code":"exception"`)) {
		t.Errorf("fallback outcome %s", bad)
	}
}

// The Bundles the adapter returns are valid FHIR with the resources inside.
func TestRenderBundles(t *testing.T) {
	p := newParser(t)
	sr, err := fhir.Stamp(testfiles.Fixture(t, "servicerequest-debt.json"), "sr1", 1, t0)
	if err != nil {
		t.Fatal(err)
	}
	one := 1
	set, err := fhir.SearchSet("b1", t0, fhir.Page{Self: "https://adapter.example/fhir/ServiceRequest?identifier=x|y", Total: &one},
		[]fhir.BundleEntry{{FullURL: "https://adapter.example/fhir/ServiceRequest/sr1", Resource: sr}})
	if err != nil {
		t.Fatal(err)
	}
	reparse(t, p, set, "Bundle")
	var b struct {
		Type  string
		Total int
		Entry []struct {
			Search struct{ Mode string }
		}
	}
	_ = json.Unmarshal(set, &b)
	if b.Type != "searchset" || b.Total != 1 || b.Entry[0].Search.Mode != "match" {
		t.Errorf("searchset %s", set)
	}
	zero := 0
	empty, _ := fhir.SearchSet("b2", t0, fhir.Page{Self: "https://adapter.example/fhir/Task?focus=ServiceRequest/x", Total: &zero}, nil)
	reparse(t, p, empty, "Bundle")
	if !bytes.Contains(empty, []byte(`"total":0`)) {
		t.Errorf("empty searchset without total 0: %s", empty)
	}

	resp, err := fhir.TransactionResponse("b3", t0, []fhir.BundleEntry{{
		FullURL: "https://adapter.example/fhir/ServiceRequest/sr1", Resource: sr,
		Response: &fhir.EntryResponse{Status: "201 Created", Location: "ServiceRequest/sr1/_history/1", Etag: `W/"1"`, LastModified: fhir.Instant(t0)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	reparse(t, p, resp, "Bundle")
	if !bytes.Contains(resp, []byte(`"type":"transaction-response"`)) {
		t.Errorf("transaction-response %s", resp)
	}
}

// Stamp sets the server's id and meta on the bytes received, keeps what
// else the client sent, and leaves the input untouched.
func TestStamp(t *testing.T) {
	p := newParser(t)
	raw := []byte(`{
  "resourceType": "ServiceRequest",
  "id": "client-chosen",
  "meta": {"versionId": "7", "lastUpdated": "2020-01-01T00:00:00Z", "profile": ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-ServiceRequest"]},
  "status": "active", "intent": "order", "subject": {"reference": "Patient/1"}
}`)
	orig := bytes.Clone(raw)
	out, err := fhir.Stamp(raw, "srv-1", 2, time.Date(2026, 11, 20, 10, 15, 0, 123456789, time.FixedZone("BST", 3600)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, orig) {
		t.Error("Stamp changed its input")
	}
	reparse(t, p, out, "ServiceRequest")
	var got struct {
		ID   string `json:"id"`
		Meta struct {
			VersionID   string   `json:"versionId"`
			LastUpdated string   `json:"lastUpdated"`
			Profile     []string `json:"profile"`
		} `json:"meta"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if got.ID != "srv-1" || got.Meta.VersionID != "2" || got.Meta.LastUpdated != "2026-11-20T09:15:00.123Z" ||
		len(got.Meta.Profile) != 1 || got.Status != "active" {
		t.Errorf("stamped %s", out)
	}
	if bytes.ContainsAny(out, "\n\t") {
		t.Errorf("not compacted: %s", out)
	}
	noMeta, err := fhir.Stamp([]byte(sr("")), "x", 1, t0)
	if err != nil || !bytes.Contains(noMeta, []byte(`"meta":{"versionId":"1","lastUpdated":"2026-11-20T10:15:00.000Z"}`)) {
		t.Errorf("stamp without meta: %s, %v", noMeta, err)
	}
	plain, err := fhir.Stamp([]byte(`{"resourceType": "Consent", "status": "active"}`), "c-1", 3, t0)
	if want := `{"resourceType":"Consent","status":"active","id":"c-1","meta":{"versionId":"3","lastUpdated":"2026-11-20T10:15:00.000Z"}}`; err != nil || string(plain) != want {
		t.Errorf("stamp of a plain create: %s, %v; want %s", plain, err, want)
	}
	odd, err := fhir.Stamp([]byte(sr("")), `not"an id`, 1, t0)
	if err != nil || !json.Valid(odd) || !bytes.Contains(odd, []byte(`"id":"not\"an id"`)) {
		t.Errorf("stamp with an id needing escapes: %s, %v", odd, err)
	}
	if _, err := fhir.Stamp([]byte(`{"resourceType":`), "x", 1, t0); err == nil {
		t.Error("Stamp accepted malformed JSON")
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

const (
	practice      = "A81001"
	otherPractice = "B82002"
	referralSys   = "https://fhir.a81001.example.nhs.uk/Id/social-prescribing-referral"
)

func TestCreateServiceRequestThenReadItsTask(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.token(auth.RolePractice, practice)

	r := h.do("POST", "/fhir/ServiceRequest", tok, fixture(t, "servicerequest-debt.json"))
	if r.status != http.StatusCreated {
		t.Fatalf("POST = %d %s", r.status, r.body)
	}
	sr := r.json(t)
	id, _ := sr["id"].(string)
	if id == "" || !locationIs(r.header.Get("Location"), "ServiceRequest", id) {
		t.Fatalf("Location %q for id %q", r.header.Get("Location"), id)
	}
	meta := sr["meta"].(map[string]any)
	if meta["versionId"] != "1" || meta["lastUpdated"] == nil {
		t.Errorf("meta = %v", meta)
	}

	got := h.do("GET", "/fhir/ServiceRequest/"+id, tok, nil)
	if got.status != 200 || got.json(t)["id"] != id {
		t.Fatalf("read back = %d %s", got.status, got.body)
	}

	task := h.do("GET", "/fhir/Task/"+id, tok, nil).json(t)
	want := map[string]string{"status": "requested", "intent": "order"}
	for k, v := range want {
		if task[k] != v {
			t.Errorf("Task.%s = %v, want %s", k, task[k], v)
		}
	}
	if ref := task["focus"].(map[string]any)["reference"]; ref != "ServiceRequest/"+id {
		t.Errorf("Task.focus = %v", ref)
	}
	if ref := task["owner"].(map[string]any)["reference"]; ref != "HealthcareService/money-advice" {
		t.Errorf("Task.owner = %v, want the debt advice service", ref)
	}
	if code := task["code"].(map[string]any)["coding"].([]any)[0].(map[string]any)["code"]; code != "fulfill" {
		t.Errorf("Task.code = %v", code)
	}
	if task["for"].(map[string]any)["identifier"] == nil {
		t.Errorf("Task.for should carry the patient's NHS number reference: %v", task["for"])
	}
}

func TestSearchByIdentifierAndFocus(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.token(auth.RolePractice, practice)
	id := h.do("POST", "/fhir/ServiceRequest", tok, fixture(t, "servicerequest-loneliness.json")).json(t)["id"].(string)

	q := "/fhir/ServiceRequest?identifier=" + url.QueryEscape(referralSys+"|SP-2026-000103")
	b := h.do("GET", q, tok, nil).json(t)
	if b["type"] != "searchset" || b["total"] != float64(1) {
		t.Fatalf("search = %v", b)
	}
	entry := b["entry"].([]any)[0].(map[string]any)
	if entry["resource"].(map[string]any)["id"] != id {
		t.Errorf("found %v", entry)
	}

	tb := h.do("GET", "/fhir/Task?focus=ServiceRequest/"+id, tok, nil).json(t)
	if tb["total"] != float64(1) {
		t.Fatalf("Task search = %v", tb)
	}

	other := h.token(auth.RolePractice, otherPractice)
	ob := h.do("GET", q, other, nil).json(t)
	if ob["total"] != float64(0) {
		t.Errorf("another practice found the referral: %v", ob)
	}
}

func TestIdempotentCreate(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.token(auth.RolePractice, practice)
	body := fixture(t, "servicerequest-general.json")
	first := h.do("POST", "/fhir/ServiceRequest", tok, body)
	if first.status != 201 {
		t.Fatalf("first = %d %s", first.status, first.body)
	}
	id := first.json(t)["id"]
	// A create answers Last-Modified, as a read does (http.html#create).
	lu, _ := time.Parse(time.RFC3339Nano, first.json(t)["meta"].(map[string]any)["lastUpdated"].(string))
	if lm := first.header.Get("Last-Modified"); lu.IsZero() || lm != lu.UTC().Format(http.TimeFormat) {
		t.Errorf("Last-Modified %q for meta.lastUpdated %v", lm, lu)
	}

	again := h.do("POST", "/fhir/ServiceRequest", tok, body)
	if again.status != 200 || again.json(t)["id"] != id {
		t.Fatalf("plain re-POST = %d %s, want 200 with id %v", again.status, again.body, id)
	}
	cond := h.do("POST", "/fhir/ServiceRequest", tok, body, "If-None-Exist", "identifier="+referralSys+"|SP-2026-000104")
	if cond.status != 200 || cond.json(t)["id"] != id {
		t.Fatalf("conditional create = %d %s", cond.status, cond.body)
	}
	tasks := h.do("GET", "/fhir/Task?focus=ServiceRequest/"+id.(string), tok, nil).json(t)
	if tasks["total"] != float64(1) {
		t.Errorf("duplicate Tasks: %v", tasks["total"])
	}

	// A different practice using the same identifier is a different referral.
	// (Its copy names that practice as requester.)
	other := h.do("POST", "/fhir/ServiceRequest", h.token(auth.RolePractice, otherPractice), asPractice(t, body, otherPractice))
	if other.status != 201 || other.json(t)["id"] == id {
		t.Errorf("other practice = %d", other.status)
	}
}

// Every business identifier names the referral, not only the first: a
// search by the second finds it; a referral sent again under it is the
// same referral (200), by POST or If-None-Exist; identifiers naming two
// different referrals are refused, 412 when an If-None-Exist condition is
// one of them (FHIR http.html#ccreate), 409 otherwise.
func TestEveryIdentifierNamesTheReferral(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.token(auth.RolePractice, practice)
	ids := func(values ...string) map[string]any {
		var out []any
		for _, v := range values {
			out = append(out, map[string]any{"system": referralSys, "value": v})
		}
		return map[string]any{"identifier": out}
	}
	base := fixture(t, "servicerequest-general.json")
	x := h.do("POST", "/fhir/ServiceRequest", tok, withJSON(t, base, ids("MI-1", "MI-2")))
	if x.status != 201 {
		t.Fatalf("X = %d %s", x.status, x.body)
	}
	xid := x.json(t)["id"]
	found := h.do("GET", "/fhir/ServiceRequest?identifier="+url.QueryEscape(referralSys+"|MI-2"), tok, nil).json(t)
	if found["total"] != float64(1) || !strings.Contains(fmtJSON(found), xid.(string)) {
		t.Errorf("search by the second identifier: %s", fmtJSON(found))
	}
	if y := h.do("POST", "/fhir/ServiceRequest", tok, withJSON(t, base, ids("MI-2"))); y.status != 200 || y.json(t)["id"] != xid {
		t.Errorf("sent again under the second identifier = %d %s, want 200 with %v", y.status, y.body, xid)
	}
	cond := h.do("POST", "/fhir/ServiceRequest", tok, withJSON(t, base, ids("MI-3")), "If-None-Exist", "identifier="+referralSys+"|MI-2")
	if cond.status != 200 || cond.json(t)["id"] != xid {
		t.Errorf("If-None-Exist by the second identifier = %d %s", cond.status, cond.body)
	}
	// Another referral (a need of its own), then identifiers naming both.
	other := withJSON(t, fixture(t, "servicerequest-debt.json"), ids("MI-9"))
	if z := h.do("POST", "/fhir/ServiceRequest", tok, other); z.status != 201 {
		t.Fatalf("Z = %d %s", z.status, z.body)
	}
	if both := h.do("POST", "/fhir/ServiceRequest", tok, withJSON(t, base, ids("MI-1", "MI-9"))); both.status != 409 {
		t.Errorf("identifiers of two referrals = %d %s, want 409", both.status, both.body)
	}
	if both := h.do("POST", "/fhir/ServiceRequest", tok, withJSON(t, base, ids("MI-9")), "If-None-Exist", "identifier="+referralSys+"|MI-1"); both.status != 412 {
		t.Errorf("If-None-Exist and identifier naming two referrals = %d %s, want 412", both.status, both.body)
	}
	tasks := h.do("GET", "/fhir/Task?focus=ServiceRequest/"+xid.(string), tok, nil).json(t)
	if tasks["total"] != float64(1) {
		t.Errorf("Tasks for X: %v", tasks["total"])
	}
}

func TestConditionalCreateWithNewIdentifierCreates(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.token(auth.RolePractice, practice)
	r := h.do("POST", "/fhir/ServiceRequest", tok, fixture(t, "servicerequest-debt.json"), "If-None-Exist", "identifier="+referralSys+"|SP-2026-000101")
	if r.status != 201 {
		t.Fatalf("= %d %s", r.status, r.body)
	}
	bad := h.do("POST", "/fhir/ServiceRequest", tok, fixture(t, "servicerequest-debt.json"), "If-None-Exist", "status=active")
	if bad.status != 400 {
		t.Errorf("unsupported If-None-Exist criteria = %d, want 400", bad.status)
	}
}

func TestCreateConsent(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.token(auth.RolePractice, practice)
	r := h.do("POST", "/fhir/Consent", tok, fixture(t, "consent-share-with-link-workers.json"))
	if r.status != 201 {
		t.Fatalf("= %d %s", r.status, r.body)
	}
	id := r.json(t)["id"].(string)
	if !locationIs(r.header.Get("Location"), "Consent", id) {
		t.Errorf("Location = %q", r.header.Get("Location"))
	}
	// Stored compressed (adapter/redis codec.go), read back as created.
	if got := h.do("GET", "/fhir/Consent/"+id, tok, nil); got.status != 200 || !bytes.Equal(got.body, r.body) {
		t.Errorf("read = %d, the created bytes: %v", got.status, bytes.Equal(got.body, r.body))
	}
	key := strings.TrimSuffix(h.app.store.KeyPattern(), "*") + "consent:" + id
	if v, err := h.app.store.Client().HGet(context.Background(), key, "json").Result(); err != nil || v == "" || v[0] == '{' {
		t.Errorf("stored Consent: %v, not compressed", err)
	}
	if got := h.do("GET", "/fhir/Consent/"+id, h.token(auth.RolePractice, otherPractice), nil); got.status != 404 {
		t.Errorf("other practice read = %d, want 404", got.status)
	}
}

func TestPreferReturn(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.token(auth.RolePractice, practice)
	r := h.do("POST", "/fhir/ServiceRequest", tok, fixture(t, "servicerequest-debt.json"), "Prefer", "return=minimal")
	if r.status != 201 || len(strings.TrimSpace(string(r.body))) != 0 || r.header.Get("Location") == "" {
		t.Errorf("return=minimal = %d %q", r.status, r.body)
	}
	r = h.do("POST", "/fhir/ServiceRequest", tok, fixture(t, "servicerequest-housing-urgent.json"), "Prefer", "return=OperationOutcome")
	if r.status != 201 || r.json(t)["resourceType"] != "OperationOutcome" {
		t.Errorf("return=OperationOutcome = %d %s", r.status, r.body)
	}
}

func TestTransactionBundle(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.token(auth.RolePractice, practice)
	r := h.do("POST", "/fhir", tok, fixture(t, "bundle-referral-transaction.json"))
	if r.status != 200 {
		t.Fatalf("= %d %s", r.status, r.body)
	}
	var b struct {
		Type  string
		Entry []struct {
			Resource json.RawMessage
			Response struct{ Status, Location, Etag, LastModified string }
		}
	}
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatal(err)
	}
	if b.Type != "transaction-response" || len(b.Entry) != 3 {
		t.Fatalf("bundle = %s", r.body)
	}
	var ids []string
	for _, e := range b.Entry {
		if e.Response.Status != "201 Created" {
			t.Errorf("entry status %q", e.Response.Status)
		}
		var res map[string]any
		_ = json.Unmarshal(e.Resource, &res)
		ids = append(ids, res["id"].(string))
		// entry.response as FHIR's transaction-response has it (bundle.html).
		if lu := res["meta"].(map[string]any)["lastUpdated"]; e.Response.LastModified == "" || e.Response.LastModified != lu || e.Response.Etag != `W/"1"` {
			t.Errorf("entry.response lastModified %q (meta.lastUpdated %v), etag %q", e.Response.LastModified, lu, e.Response.Etag)
		}
	}
	var sr map[string]any
	_ = json.Unmarshal(b.Entry[1].Resource, &sr)
	if ref := sr["subject"].(map[string]any)["reference"]; ref != "Patient/"+ids[0] {
		t.Errorf("urn:uuid reference not resolved: subject = %v", ref)
	}
	// The bundle's patient (born 1958) is past work-and-skills' upper age
	// limit (66), so the employment referral goes to the link workers.
	task := h.do("GET", "/fhir/Task/"+ids[1], tok, nil).json(t)
	if task["owner"].(map[string]any)["reference"] != "HealthcareService/riverside-link-workers" {
		t.Errorf("owner = %v", task["owner"])
	}
	// Eligibility is not a capacity problem: routed, not redirected.
	if r := task["statusReason"].(map[string]any)["text"]; r != "Routed to Riverside Social Prescribing Link Workers because Riverside Work and Skills Coaching does not take people of the patient's age" {
		t.Errorf("statusReason = %v", r)
	}
	if bs := fmtJSON(task["businessStatus"]); !strings.Contains(bs, `"code":"routed"`) {
		t.Errorf("businessStatus = %s, want routed", bs)
	}

	again := h.do("POST", "/fhir", tok, fixture(t, "bundle-referral-transaction.json"))
	if again.status != 200 || !strings.Contains(string(again.body), ids[1]) {
		t.Errorf("replayed transaction = %d, should return the same ServiceRequest", again.status)
	}
}

// A transaction's entries may be named by urn:oid: as by urn:uuid:
// (FHIR bundle.html#references): the referral and Consent naming the
// Patient entry by its urn:oid fullUrl name the stored Patient.
func TestTransactionResolvesURNOIDs(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.token(auth.RolePractice, practice)
	body := bytes.ReplaceAll(fixture(t, "bundle-referral-transaction.json"),
		[]byte("urn:uuid:2f1c6b2e-4a59-4c1e-9a51-1f0d7c3b5e01"), []byte("urn:oid:2.16.840.1.113883.2.1.4.1.9000000009"))
	r := h.do("POST", "/fhir", tok, body)
	if r.status != 200 {
		t.Fatalf("= %d %s", r.status, r.body)
	}
	var b struct {
		Entry []struct{ Resource map[string]any }
	}
	if err := json.Unmarshal(r.body, &b); err != nil || len(b.Entry) != 3 {
		t.Fatalf("bundle = %s", r.body)
	}
	pid := b.Entry[0].Resource["id"]
	if ref := b.Entry[1].Resource["subject"].(map[string]any)["reference"]; ref != "Patient/"+pid.(string) {
		t.Errorf("the referral's subject = %v, want Patient/%v", ref, pid)
	}
	if ref := b.Entry[2].Resource["patient"].(map[string]any)["reference"]; ref != "Patient/"+pid.(string) {
		t.Errorf("the Consent's patient = %v, want Patient/%v", ref, pid)
	}
}

func TestTransactionIsAllOrNothing(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.token(auth.RolePractice, practice)
	var b map[string]any
	_ = json.Unmarshal(fixture(t, "bundle-referral-transaction.json"), &b)
	entries := b["entry"].([]any)
	entries[2].(map[string]any)["resource"].(map[string]any)["status"] = "bogus"
	body, _ := json.Marshal(b)
	before := h.dataKeys()

	r := h.do("POST", "/fhir", tok, body)
	if r.status != 400 {
		t.Fatalf("= %d %s", r.status, r.body)
	}
	is := issue(t, r)
	expr := is["expression"].([]any)[0].(string)
	if !strings.HasPrefix(expr, "Bundle.entry[2]") {
		t.Errorf("expression %q does not name the entry", expr)
	}
	q := "/fhir/ServiceRequest?identifier=" + url.QueryEscape(referralSys+"|SP-2026-000106")
	if got := h.do("GET", q, tok, nil).json(t); got["total"] != float64(0) {
		t.Errorf("a failed transaction stored its ServiceRequest: %v", got)
	}
	if keys := h.dataKeys(); !slices.Equal(keys, before) {
		t.Errorf("failed transaction wrote keys: %v, before %v", keys, before)
	}
}

func TestNotASocialPrescribingReferral(t *testing.T) {
	h := newHarness(t, nil)
	r := h.do("POST", "/fhir/ServiceRequest", h.token(auth.RolePractice, practice), fixture(t, "servicerequest-not-social.json"))
	if r.status != 422 {
		t.Fatalf("= %d", r.status)
	}
	is := issue(t, r)
	if is["code"] != "business-rule" || !strings.Contains(is["diagnostics"].(string), "riverside-pcn-default") {
		t.Errorf("issue = %v", is)
	}
}

func TestPerformerRoutesFirst(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.token(auth.RolePractice, practice)
	id := h.do("POST", "/fhir/ServiceRequest", tok, fixture(t, "servicerequest-performer.json")).json(t)["id"].(string)
	task := h.do("GET", "/fhir/Task/"+id, tok, nil).json(t)
	if task["owner"].(map[string]any)["reference"] != "HealthcareService/carers-support" {
		t.Errorf("owner = %v", task["owner"])
	}
}

// A search parameter given twice is refused, naming it, rather than read
// once and the rest dropped: FHIR reads repeats as AND, and an answer to
// the first alone is a search nobody asked for.
func TestRepeatedSearchParameterRefused(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.token(auth.RolePractice, practice)
	h.do("POST", "/fhir/ServiceRequest", tok, fixture(t, "servicerequest-loneliness.json"))
	for _, q := range []string{
		"/fhir/Task?status=requested&status=accepted",
		"/fhir/Task?_lastUpdated=gt2026-01-01T00:00:00Z&_lastUpdated=gt2030-01-01T00:00:00Z",
		"/fhir/ServiceRequest?status=active&status=completed",
		"/fhir/Task?status=requested&_count=5&_count=10",
	} {
		r := h.do("GET", q, tok, nil)
		is := issue(t, r)
		if r.status != http.StatusBadRequest || is["code"] != "not-supported" || !strings.Contains(fmt.Sprint(is["diagnostics"]), "given 2 times") {
			t.Errorf("%s: %d %v", q, r.status, is)
		}
	}
	if r := h.do("GET", "/fhir/Task?status=requested", tok, nil); r.status != http.StatusOK {
		t.Errorf("a single status: %d", r.status)
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

// ehr is a practice EHR's notification endpoint: it records every body it
// receives and answers with status.
type ehr struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies []string
	status int
}

func newEHR(t *testing.T, status int) *ehr {
	e := &ehr{status: status}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.bodies = append(e.bodies, string(b))
		e.mu.Unlock()
		w.WriteHeader(e.status)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *ehr) received() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.bodies...)
}

func subscriptionBody(endpoint string) []byte {
	return []byte(fmt.Sprintf(`{"resourceType":"Subscription","status":"requested","reason":"referral updates",
	  "criteria":"http://hl7.org/fhir/us/sdoh-clinicalcare/SubscriptionTopic/Task",
	  "channel":{"type":"rest-hook","endpoint":%q,"payload":"application/fhir+json",
	    "_payload":{"extension":[{"url":"http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content","valueCode":"id-only"}]},
	    "header":["Authorization: Bearer ehr-secret"]}}`, endpoint))
}

var allowHTTP = map[string]string{"SUBSCRIPTION_ALLOW_HTTP": "true"}

func TestSubscriptionCreateReadDelete(t *testing.T) {
	h := newHarness(t, allowHTTP)
	rc := newEHR(t, 200)
	tok := h.token(auth.RolePractice, practice)

	r := h.do("POST", "/fhir/Subscription", tok, subscriptionBody(rc.srv.URL))
	if r.status != http.StatusCreated {
		t.Fatalf("POST = %d %s", r.status, r.body)
	}
	sub := r.json(t)
	id, _ := sub["id"].(string)
	if id == "" || !locationIs(r.header.Get("Location"), "Subscription", id) {
		t.Fatalf("Location %q for id %q", r.header.Get("Location"), id)
	}
	if sub["status"] != "requested" || strings.Contains(string(r.body), "ehr-secret") {
		t.Errorf("created = %s", r.body)
	}

	if got := h.do("GET", "/fhir/Subscription/"+id, tok, nil); got.status != 200 || got.json(t)["id"] != id {
		t.Errorf("owner read = %d %s", got.status, got.body)
	}
	other := h.do("GET", "/fhir/Subscription/"+id, h.token(auth.RolePractice, otherPractice), nil)
	if other.status != http.StatusNotFound || issue(t, other)["code"] != "not-found" {
		t.Errorf("another practice's read = %d %s", other.status, other.body)
	}
	if lw := h.do("GET", "/fhir/Subscription/"+id, h.token(auth.RoleLinkWorker, "U00001"), nil); lw.status != http.StatusForbidden {
		t.Errorf("link worker read = %d", lw.status)
	}
	if del := h.do("DELETE", "/fhir/Subscription/"+id, h.token(auth.RolePractice, otherPractice), nil); del.status != http.StatusNotFound {
		t.Errorf("another practice's delete = %d", del.status)
	}
	if del := h.do("DELETE", "/fhir/Subscription/"+id, tok, nil); del.status != http.StatusNoContent {
		t.Errorf("delete = %d %s", del.status, del.body)
	}
	if got := h.do("GET", "/fhir/Subscription/"+id, tok, nil); got.status != http.StatusNotFound {
		t.Errorf("read after delete = %d", got.status)
	}
}

func TestSubscriptionBadInput(t *testing.T) {
	h := newHarness(t, nil) // plain http endpoints not allowed
	tok := h.token(auth.RolePractice, practice)
	before := h.dataKeys()
	good := subscriptionBody("https://ehr.example.nhs.uk/notify")
	content := func(code string) map[string]any {
		return map[string]any{"extension": []any{map[string]any{
			"url": "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content", "valueCode": code}}}
	}
	cases := []struct {
		name   string
		body   []byte
		status int
		code   string
		at     string
	}{
		{"websocket", withJSON(t, good, map[string]any{"channel.type": "websocket"}), 422, "business-rule", "Subscription.channel.type"},
		{"not a channel type", withJSON(t, good, map[string]any{"channel.type": "fax"}), 400, "code-invalid", "Subscription.channel.type"},
		{"http endpoint", withJSON(t, good, map[string]any{"channel.endpoint": "http://ehr.example.nhs.uk/notify"}), 422, "business-rule", "Subscription.channel.endpoint"},
		{"no endpoint", withJSON(t, good, map[string]any{"channel.endpoint": nil}), 400, "required", "Subscription.channel.endpoint"},
		{"xml payload", withJSON(t, good, map[string]any{"channel.payload": "application/fhir+xml"}), 422, "business-rule", "Subscription.channel.payload"},
		{"full-resource", withJSON(t, good, map[string]any{"channel._payload": content("full-resource")}), 422, "business-rule", "Subscription.channel.payload.extension"},
		{"other topic", withJSON(t, good, map[string]any{"criteria": "Patient?name=x"}), 422, "business-rule", "Subscription.criteria"},
		{"another practice's Tasks", withJSON(t, good, map[string]any{"criteria": "Task?requester:identifier=https://fhir.nhs.uk/Id/ods-organization-code|" + otherPractice}), 422, "business-rule", "Subscription.criteria"},
		{"no reason", withJSON(t, good, map[string]any{"reason": nil}), 400, "required", "Subscription.reason"},
		{"not a Subscription", fixture(t, "servicerequest-debt.json"), 400, "invalid", "resourceType"},
		{"malformed", []byte(`{"resourceType":"Subscription",`), 400, "structure", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do("POST", "/fhir/Subscription", tok, tc.body)
			if r.status != tc.status {
				t.Fatalf("status = %d, want %d: %s", r.status, tc.status, r.body)
			}
			is := issue(t, r)
			if is["code"] != tc.code {
				t.Errorf("issue code = %v, want %s", is["code"], tc.code)
			}
			if tc.at != "" {
				expr, _ := is["expression"].([]any)
				if len(expr) == 0 || !strings.HasPrefix(fmt.Sprint(expr[0]), tc.at) {
					t.Errorf("expression = %v, want %s", expr, tc.at)
				}
			}
		})
	}
	if keys := h.dataKeys(); !slices.Equal(keys, before) {
		t.Errorf("refused Subscriptions left data behind: %v", keys)
	}
	if r := h.do("POST", "/fhir/Subscription", h.token(auth.RoleProvider, "X1V01"), good); r.status != http.StatusForbidden {
		t.Errorf("provider create = %d", r.status)
	}
}

// A referral's new Task is notified to its practice's EHR, id-only; the
// other practice's EHR hears nothing.
func TestReferralNotifiedToItsPracticeOnly(t *testing.T) {
	h := newHarness(t, allowHTTP)
	mine, theirs := newEHR(t, 200), newEHR(t, 200)
	for org, rc := range map[string]*ehr{practice: mine, otherPractice: theirs} {
		if r := h.do("POST", "/fhir/Subscription", h.token(auth.RolePractice, org), subscriptionBody(rc.srv.URL)); r.status != 201 {
			t.Fatalf("subscribe %s = %d %s", org, r.status, r.body)
		}
	}
	r := h.do("POST", "/fhir/ServiceRequest", h.token(auth.RolePractice, practice), fixture(t, "servicerequest-debt.json"))
	if r.status != http.StatusCreated {
		t.Fatalf("referral = %d %s", r.status, r.body)
	}
	id := r.json(t)["id"].(string)
	for range 3 {
		if _, err := h.app.notifier.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
	}

	var events []string
	for _, b := range mine.received() {
		if strings.Contains(b, `"event-notification"`) {
			events = append(events, b)
		}
	}
	if len(events) != 1 {
		t.Fatalf("practice EHR got %d event notifications: %v", len(events), mine.received())
	}
	var bundle struct {
		Entry []struct {
			Resource map[string]any `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal([]byte(events[0]), &bundle); err != nil || len(bundle.Entry) != 1 || bundle.Entry[0].Resource["resourceType"] != "Parameters" {
		t.Fatalf("notification = %s", events[0])
	}
	if _, err := h.app.parser.Parse([]byte(events[0]), "Bundle"); err != nil {
		t.Errorf("notification is not valid FHIR: %v", err)
	}
	if !strings.Contains(events[0], `"Task/`+id+`"`) {
		t.Errorf("notification does not name Task/%s: %s", id, events[0])
	}
	for _, leak := range []string{"9000000009", "Z59.6", "Low income", "Example Surgery", "SP-2026-000101", "money-advice"} {
		if strings.Contains(events[0], leak) {
			t.Errorf("notification carries %q", leak)
		}
	}
	for _, b := range theirs.received() {
		if !strings.Contains(b, `"handshake"`) {
			t.Errorf("the other practice's EHR was notified: %s", b)
		}
	}
	// Notification logs name no Task or patient.
	if logs := h.logs.String(); strings.Contains(logs, "9000000009") {
		t.Error("logs carry the NHS number")
	}
}

func TestDeadLettersForAdminsOnly(t *testing.T) {
	h := newHarness(t, allowHTTP)
	down := newEHR(t, http.StatusBadGateway)
	if r := h.do("POST", "/fhir/Subscription", h.token(auth.RolePractice, practice), subscriptionBody(down.srv.URL)); r.status != 201 {
		t.Fatalf("subscribe = %d", r.status)
	}
	if _, err := h.app.notifier.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	admin := h.token(auth.RoleAdmin, "U00001")
	r := h.do("GET", "/api/v1/admin/notifications/dead-letter", admin, nil)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("dead letters = %d %s", r.status, r.body)
	}
	var got struct {
		DeadLetters []map[string]any `json:"deadLetters"`
	}
	if err := json.Unmarshal(r.body, &got); err != nil || len(got.DeadLetters) != 1 {
		t.Fatalf("dead letters = %s", r.body)
	}
	allowed := map[string]bool{"delivery": true, "subscription": true, "practice": true, "type": true, "task": true,
		"eventNumber": true, "attempts": true, "lastError": true, "created": true, "deadAt": true}
	for k := range got.DeadLetters[0] {
		if !allowed[k] {
			t.Errorf("dead letter carries %q", k)
		}
	}
	if dl := got.DeadLetters[0]; dl["type"] != "handshake" || dl["lastError"] != "http-502" || dl["practice"] != practice {
		t.Errorf("dead letter = %v", dl)
	}
	if r := h.do("GET", "/api/v1/admin/notifications/dead-letter", h.token(auth.RolePractice, practice), nil); r.status != http.StatusForbidden {
		t.Errorf("practice read dead letters: %d", r.status)
	}
	if r := h.do("GET", "/api/v1/admin/notifications/dead-letter?limit=0", admin, nil); r.status != http.StatusBadRequest {
		t.Errorf("limit=0 = %d", r.status)
	}
}

func TestNotificationRetryJobIsRegistered(t *testing.T) {
	h := newHarness(t, nil)
	for _, j := range h.app.jobList() {
		if j.Name == "notification-retry" && j.Run != nil {
			return
		}
	}
	t.Error("notification-retry is not a scheduled job")
}

// A Task change by a provider (accept) is notified to the referring
// practice too, not only the referral's creation.
func TestTaskChangesAreNotified(t *testing.T) {
	h := newHarness(t, allowHTTP)
	mine := newEHR(t, 200)
	gp := h.token(auth.RolePractice, practice)
	if r := h.do("POST", "/fhir/Subscription", gp, subscriptionBody(mine.srv.URL)); r.status != 201 {
		t.Fatalf("subscribe = %d %s", r.status, r.body)
	}
	id := h.do("POST", "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-debt.json")).json(t)["id"].(string)
	cab := h.token(auth.RoleProvider, "X1V01")
	h.api("POST", "/api/v1/queues/money-advice/claim", cab, "")
	if r := h.api("POST", "/api/v1/referrals/"+id+"/transition", cab, `{"status":"accepted"}`); r.status != 200 {
		t.Fatalf("accept = %d %s", r.status, r.body)
	}
	for range 4 {
		if _, err := h.app.notifier.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for _, b := range mine.received() {
		if strings.Contains(b, `"event-notification"`) && strings.Contains(b, `"Task/`+id+`"`) {
			n++
		}
	}
	if n != 2 {
		t.Errorf("want 2 notifications (created, accepted), got %d", n)
	}
}

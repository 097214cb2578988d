package fhir_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// backportSubscription is the Subscriptions Backport IG's R4 example
// shape, pointed at the Gravity Task topic.
const backportSubscription = `{
  "resourceType": "Subscription",
  "status": "requested",
  "reason": "Tell the EHR when referral Tasks change",
  "criteria": "http://hl7.org/fhir/us/sdoh-clinicalcare/SubscriptionTopic/Task",
  "_criteria": {"extension": [{"url": "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-filter-criteria",
    "valueString": "Task?requester:identifier=https://fhir.nhs.uk/Id/ods-organization-code|A81001&status=completed,rejected"}]},
  "channel": {
    "extension": [{"url": "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-heartbeat-period", "valueUnsignedInt": 86400}],
    "type": "rest-hook",
    "endpoint": "https://ehr.example.nhs.uk/fhir/notify",
    "payload": "application/fhir+json",
    "_payload": {"extension": [{"url": "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content", "valueCode": "id-only"}]},
    "header": ["Authorization: Bearer secret-abc"]
  }
}`

var now = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func parseSub(t *testing.T, body string, rules fhir.SubscriptionRules) (*adapter.Subscription, error) {
	t.Helper()
	p, err := fhir.NewParser()
	if err != nil {
		t.Fatal(err)
	}
	if rules.Practice == "" {
		rules.Practice = "A81001"
	}
	if rules.Now.IsZero() {
		rules.Now = now
	}
	res, err := p.Parse([]byte(body), "Subscription")
	if err != nil {
		return nil, err
	}
	return fhir.SubscriptionFrom(res, rules)
}

// set returns the JSON document with the members at dotted paths replaced
// (nil deletes).
func set(t *testing.T, doc string, kv map[string]any) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatal(err)
	}
	for path, v := range kv {
		cur, parts := m, strings.Split(path, ".")
		for _, p := range parts[:len(parts)-1] {
			cur = cur[p].(map[string]any)
		}
		if v == nil {
			delete(cur, parts[len(parts)-1])
		} else {
			cur[parts[len(parts)-1]] = v
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func TestSubscriptionFromBackportExample(t *testing.T) {
	s, err := parseSub(t, backportSubscription, fhir.SubscriptionRules{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Practice != "A81001" || s.Status != adapter.SubscriptionRequested || s.Topic != fhir.TopicTask ||
		s.Endpoint != "https://ehr.example.nhs.uk/fhir/notify" || len(s.Headers) != 1 || s.Headers[0] != "Authorization: Bearer secret-abc" {
		t.Errorf("got %+v", s)
	}
	if got := s.Filter.Statuses; len(got) != 2 || got[0] != adapter.TaskCompleted || got[1] != adapter.TaskRejected {
		t.Errorf("filter = %v", got)
	}
}

func TestSubscriptionFromPlainR4Criteria(t *testing.T) {
	for crit, statuses := range map[string]int{"Task": 0, "Task?status=accepted": 1} {
		s, err := parseSub(t, set(t, backportSubscription, map[string]any{"criteria": crit, "_criteria": nil}), fhir.SubscriptionRules{})
		if err != nil {
			t.Fatalf("%s: %v", crit, err)
		}
		if len(s.Filter.Statuses) != statuses {
			t.Errorf("%s: filter %v", crit, s.Filter)
		}
	}
}

func TestSubscriptionFromRejects(t *testing.T) {
	payloadExt := func(code string) map[string]any {
		return map[string]any{"extension": []any{map[string]any{"url": fhir.ExtPayloadContent, "valueCode": code}}}
	}
	cases := []struct {
		name string
		set  map[string]any
		code string
		at   string
	}{
		{"websocket channel", map[string]any{"channel.type": "websocket"}, adapter.EBUSINESSRULE, "Subscription.channel.type"},
		{"unknown channel", map[string]any{"channel.type": "pigeon"}, adapter.ECODEINVALID, "channel.type"},
		{"http endpoint", map[string]any{"channel.endpoint": "http://ehr.example/notify"}, adapter.EBUSINESSRULE, "Subscription.channel.endpoint"},
		{"no endpoint", map[string]any{"channel.endpoint": nil}, adapter.EREQUIRED, "Subscription.channel.endpoint"},
		{"relative endpoint", map[string]any{"channel.endpoint": "/notify"}, adapter.EVALUE, "Subscription.channel.endpoint"},
		{"credentials in URL", map[string]any{"channel.endpoint": "https://u:p@ehr.example/n"}, adapter.EBUSINESSRULE, "Subscription.channel.endpoint"},
		{"xml payload", map[string]any{"channel.payload": "application/fhir+xml"}, adapter.EBUSINESSRULE, "Subscription.channel.payload"},
		{"no payload", map[string]any{"channel.payload": nil, "channel._payload": nil}, adapter.EREQUIRED, "Subscription.channel.payload"},
		{"full-resource", map[string]any{"channel._payload": payloadExt("full-resource")}, adapter.EBUSINESSRULE, "Subscription.channel.payload.extension('" + fhir.ExtPayloadContent + "')"},
		{"empty content", map[string]any{"channel._payload": payloadExt("empty")}, adapter.EBUSINESSRULE, "Subscription.channel.payload.extension('" + fhir.ExtPayloadContent + "')"},
		{"other topic", map[string]any{"criteria": "http://hl7.org/SubscriptionTopic/admission"}, adapter.EBUSINESSRULE, "Subscription.criteria"},
		{"other resource", map[string]any{"criteria": "Encounter?patient=Patient/1", "_criteria": nil}, adapter.EBUSINESSRULE, "Subscription.criteria"},
		{"other practice", map[string]any{"criteria": "Task?requester:identifier=https://fhir.nhs.uk/Id/ods-organization-code|B99999", "_criteria": nil}, adapter.EBUSINESSRULE, "Subscription.criteria"},
		{"owner filter", map[string]any{"criteria": "Task?owner=HealthcareService/x", "_criteria": nil}, adapter.ENOTSUPPORTED, "Subscription.criteria"},
		{"bad status filter", map[string]any{"criteria": "Task?status=done", "_criteria": nil}, adapter.ECODEINVALID, "Subscription.criteria"},
		{"status error", map[string]any{"status": "error"}, adapter.EBUSINESSRULE, "Subscription.status"},
		{"ended", map[string]any{"end": "2020-01-01T00:00:00Z"}, adapter.EBUSINESSRULE, "Subscription.end"},
		{"no reason", map[string]any{"reason": nil}, adapter.EREQUIRED, "reason"},
		{"bad header", map[string]any{"channel.header": []any{"no colon"}}, adapter.EVALUE, "Subscription.channel.header[0]"},
		{"host header", map[string]any{"channel.header": []any{"Host: evil.example"}}, adapter.EBUSINESSRULE, "Subscription.channel.header[0]"},
		{"modifier extension", map[string]any{"modifierExtension": []any{map[string]any{"url": "http://x.example/m", "valueBoolean": true}}}, adapter.EBUSINESSRULE, "Subscription.modifierExtension"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseSub(t, set(t, backportSubscription, tc.set), fhir.SubscriptionRules{})
			var e *adapter.Error
			if !asError(err, &e) {
				t.Fatalf("err = %v, want a domain error", err)
			}
			found := false
			for _, is := range append([]*adapter.Error{e}, e.Issues...) {
				if is.Code == tc.code && len(is.Expression) > 0 && strings.HasSuffix(is.Expression[0], tc.at) {
					found = true
				}
			}
			if !found {
				t.Errorf("want %s at %s, got %v (+%d more)", tc.code, tc.at, e, len(e.Issues))
			}
		})
	}
}

func TestSubscriptionAllowHTTP(t *testing.T) {
	body := set(t, backportSubscription, map[string]any{"channel.endpoint": "http://127.0.0.1:9/notify"})
	if _, err := parseSub(t, body, fhir.SubscriptionRules{AllowHTTP: true}); err != nil {
		t.Errorf("http with AllowHTTP: %v", err)
	}
}

func TestSubscriptionRenderRoundTrips(t *testing.T) {
	s, err := parseSub(t, backportSubscription, fhir.SubscriptionRules{})
	if err != nil {
		t.Fatal(err)
	}
	s.ID, s.Version, s.Updated = "sub-1", 2, now
	r, _ := fhir.NewRenderer()
	body, err := r.Subscription(s)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(body), "secret-abc") || !strings.Contains(string(body), "Authorization: [redacted]") {
		t.Errorf("header value not redacted: %s", body)
	}
	again, err := parseSub(t, string(body), fhir.SubscriptionRules{})
	if err != nil {
		t.Fatalf("rendered Subscription does not parse back: %v\n%s", err, body)
	}
	if again.Endpoint != s.Endpoint || len(again.Filter.Statuses) != 2 || again.Topic != s.Topic {
		t.Errorf("round trip lost data: %+v", again)
	}
}

func TestNotificationBundle(t *testing.T) {
	r, _ := fhir.NewRenderer()
	p, _ := fhir.NewParser()
	sub := &adapter.Subscription{ID: "sub-1", Status: adapter.SubscriptionActive, Topic: fhir.TopicTask, Events: 7}
	ev := &adapter.TaskEvent{TaskID: "task-9", ReferralID: "task-9", Practice: "A81001", Status: adapter.TaskAccepted, Time: now, Number: 7}
	body, err := r.Notification(fhir.Notification{Subscription: sub, Type: adapter.NotifyEvent, Event: ev, BaseURL: "https://sp.example/fhir/", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Parse(body, "Bundle")
	if err != nil {
		t.Fatalf("notification is not a valid Bundle: %v\n%s", err, body)
	}
	var b struct {
		Type  string `json:"type"`
		Entry []struct {
			FullURL  string          `json:"fullUrl"`
			Resource json.RawMessage `json:"resource"`
			Request  struct{ Method, URL string }
			Response struct{ Status string }
		} `json:"entry"`
	}
	_ = json.Unmarshal(res.Raw, &b)
	if b.Type != "history" || len(b.Entry) != 1 {
		t.Fatalf("want a history Bundle with one entry: %s", body)
	}
	e := b.Entry[0]
	if !strings.HasPrefix(e.FullURL, "urn:uuid:") || e.Request.Method != "GET" ||
		e.Request.URL != "https://sp.example/fhir/Subscription/sub-1/$status" || e.Response.Status != "200" {
		t.Errorf("entry = %+v", e)
	}
	params := parameters(t, e.Resource)
	want := map[string]string{
		"subscription": "https://sp.example/fhir/Subscription/sub-1", "topic": fhir.TopicTask, "status": "active",
		"type": "event-notification", "events-since-subscription-start": "7",
		"notification-event.event-number": "7", "notification-event.timestamp": "2026-11-23T10:00:00.000Z",
		"notification-event.focus": "https://sp.example/fhir/Task/task-9",
	}
	for k, v := range want {
		if params[k] != v {
			t.Errorf("%s = %q, want %q", k, params[k], v)
		}
	}
	for _, banned := range []string{"A81001", "accepted", `"Task"`} {
		if strings.Contains(string(body), banned) {
			t.Errorf("notification carries %s: %s", banned, body)
		}
	}
}

func TestHandshakeBundle(t *testing.T) {
	r, _ := fhir.NewRenderer()
	p, _ := fhir.NewParser()
	sub := &adapter.Subscription{ID: "sub-1", Status: adapter.SubscriptionRequested, Topic: fhir.TopicTask}
	body, err := r.Notification(fhir.Notification{Subscription: sub, Type: adapter.NotifyHandshake, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Parse(body, "Bundle")
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		Entry []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	_ = json.Unmarshal(res.Raw, &b)
	params := parameters(t, b.Entry[0].Resource)
	if params["type"] != "handshake" || params["status"] != "requested" || params["events-since-subscription-start"] != "0" ||
		params["subscription"] != "Subscription/sub-1" {
		t.Errorf("handshake = %v", params)
	}
	if _, ok := params["notification-event.focus"]; ok {
		t.Error("handshake names a focus")
	}
}

// parameters flattens a Parameters resource into name (or name.part) →
// value, failing on any resource that is not Parameters.
func parameters(t *testing.T, raw json.RawMessage) map[string]string {
	t.Helper()
	type param struct {
		Name           string `json:"name"`
		ValueString    string `json:"valueString"`
		ValueCode      string `json:"valueCode"`
		ValueCanonical string `json:"valueCanonical"`
		ValueInstant   string `json:"valueInstant"`
		ValueReference struct{ Reference string }
		Part           []param `json:"part"`
	}
	var res struct {
		ResourceType string  `json:"resourceType"`
		Parameter    []param `json:"parameter"`
	}
	if err := json.Unmarshal(raw, &res); err != nil || res.ResourceType != "Parameters" {
		t.Fatalf("entry is not Parameters: %s", raw)
	}
	out := map[string]string{}
	var walk func(prefix string, ps []param)
	walk = func(prefix string, ps []param) {
		for _, p := range ps {
			v := p.ValueString + p.ValueCode + p.ValueCanonical + p.ValueInstant + p.ValueReference.Reference
			out[prefix+p.Name] = v
			walk(prefix+p.Name+".", p.Part)
		}
	}
	walk("", res.Parameter)
	return out
}

func asError(err error, e **adapter.Error) bool {
	if err == nil {
		return false
	}
	return errors.As(err, e)
}

// FuzzSubscription feeds arbitrary bytes to the Subscription edge: it never
// panics, every refusal is a client error, and whatever is accepted is
// confined to the caller's practice, id-only and https.
func FuzzSubscription(f *testing.F) {
	f.Add([]byte(backportSubscription))
	f.Add([]byte(`{"resourceType":"Subscription","status":"requested","reason":"r","criteria":"Task?status=accepted,x&status=","channel":{"type":"rest-hook"}}`))
	f.Add([]byte(`{"resourceType":"Subscription","status":"off","reason":"r","criteria":"Task","channel":{"type":"rest-hook","endpoint":"https://a/b","payload":"application/fhir+json","header":[":","a: b\r\nc: d"]}}`))
	p, err := fhir.NewParser()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := p.Parse(body, "Subscription")
		if err != nil {
			mustBeClientError(t, err)
			return
		}
		s, err := fhir.SubscriptionFrom(res, fhir.SubscriptionRules{Practice: "A81001", Now: now})
		if err != nil {
			mustBeClientError(t, err)
			return
		}
		if s.Practice != "A81001" || !strings.HasPrefix(s.Endpoint, "https://") || s.Topic != fhir.TopicTask {
			t.Fatalf("accepted %+v", s)
		}
		for _, h := range s.Headers {
			if strings.ContainsAny(h, "\r\n") {
				t.Fatalf("header with a line break: %q", h)
			}
		}
	})
}

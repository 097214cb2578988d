package fhir_test

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/internal/testfiles"
)

// txVariant is the fixture transaction (Patient, ServiceRequest, Consent)
// changed by edit.
func txVariant(t *testing.T, edit func(b map[string]any, entries []map[string]any)) []byte {
	t.Helper()
	var b map[string]any
	if err := json.Unmarshal(testfiles.Fixture(t, "bundle-referral-transaction.json"), &b); err != nil {
		t.Fatal(err)
	}
	var entries []map[string]any
	for _, e := range b["entry"].([]any) {
		entries = append(entries, e.(map[string]any))
	}
	edit(b, entries)
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func resourceOf(e map[string]any) map[string]any { return e["resource"].(map[string]any) }
func requestOf(e map[string]any) map[string]any  { return e["request"].(map[string]any) }

func TestTransactionFixture(t *testing.T) {
	p := newParser(t)
	entries, err := p.Transaction(testfiles.Fixture(t, "bundle-referral-transaction.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ typ, fullURL, ifNoneExist string }{
		{"Patient", "urn:uuid:2f1c6b2e-4a59-4c1e-9a51-1f0d7c3b5e01", "identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009"},
		{"ServiceRequest", "urn:uuid:7a3d2c10-9d4b-4f3b-8f2e-6c9a1b0e4d02", "identifier=https://fhir.a81001.example.nhs.uk/Id/social-prescribing-referral|SP-2026-000106"},
		{"Consent", "urn:uuid:c4e5f6a7-1b2c-4d3e-8f90-a1b2c3d4e503", ""},
	}
	if len(entries) != len(want) {
		t.Fatalf("%d entries, want %d", len(entries), len(want))
	}
	for i, w := range want {
		e := entries[i]
		if e.Index != i || e.Resource.Type != w.typ || e.FullURL != w.fullURL || e.IfNoneExist != w.ifNoneExist {
			t.Errorf("entry %d: %d %s %s %q", i, e.Index, e.Resource.Type, e.FullURL, e.IfNoneExist)
		}
		if got := e.Path(); got != "Bundle.entry["+string(rune('0'+i))+"].resource" {
			t.Errorf("entry %d path %q", i, got)
		}
		// The raw bytes are the entry's resource as sent, and parse on their own.
		res, err := p.Parse(e.Resource.Raw, w.typ)
		if err != nil {
			t.Errorf("entry %d raw resource does not parse: %v", i, err)
		} else if res.Type != w.typ {
			t.Errorf("entry %d raw resource is a %s", i, res.Type)
		}
	}
}

// Only POSTs of ServiceRequest, Consent and Patient are supported; every
// error names the entry and, inside it, the element.
func TestTransactionErrors(t *testing.T) {
	p := newParser(t)
	cases := []struct {
		name       string
		edit       func(b map[string]any, es []map[string]any)
		code, expr string
	}{
		{"batch", func(b map[string]any, _ []map[string]any) { b["type"] = "batch" }, adapter.ENOTSUPPORTED, "Bundle.type"},
		{"collection", func(b map[string]any, es []map[string]any) {
			b["type"] = "collection"
			for _, e := range es {
				delete(e, "request")
			}
		}, adapter.ENOTSUPPORTED, "Bundle.type"},
		{"collection with requests (bdl-3)", func(b map[string]any, _ []map[string]any) { b["type"] = "collection" }, adapter.EINVARIANT, "Bundle.entry[0].request"},
		{"message without a MessageHeader first (bdl-12)", func(b map[string]any, es []map[string]any) {
			b["type"] = "message"
			for _, e := range es {
				delete(e, "request")
			}
		}, adapter.EINVARIANT, "Bundle.entry[0].resource"},
		{"total outside a search (bdl-1)", func(b map[string]any, _ []map[string]any) { b["total"] = 3 }, adapter.EINVARIANT, "Bundle.total"},
		{"no entries", func(b map[string]any, _ []map[string]any) { delete(b, "entry") }, adapter.EREQUIRED, "Bundle.entry"},
		{"empty entries", func(b map[string]any, _ []map[string]any) { b["entry"] = []any{} }, adapter.EINVARIANT, "Bundle.entry"},
		{"no entries", func(b map[string]any, _ []map[string]any) { delete(b, "entry") }, adapter.EREQUIRED, "Bundle.entry"},
		{"entry without request (bdl-3)", func(_ map[string]any, es []map[string]any) { delete(es[1], "request") }, adapter.EINVARIANT, "Bundle.entry[1].request"},
		{"PUT", func(_ map[string]any, es []map[string]any) { requestOf(es[1])["method"] = "PUT" }, adapter.ENOTSUPPORTED, "Bundle.entry[1].request.method"},
		{"GET", func(_ map[string]any, es []map[string]any) {
			delete(es[2], "resource")
			es[2]["request"] = map[string]any{"method": "GET", "url": "Patient?name=x"}
		}, adapter.ENOTSUPPORTED, "Bundle.entry[2].request.method"},
		{"DELETE", func(b map[string]any, es []map[string]any) {
			b["entry"] = append(b["entry"].([]any), map[string]any{"request": map[string]any{"method": "DELETE", "url": "Patient/1"}})
		}, adapter.ENOTSUPPORTED, "Bundle.entry[3].request.method"},
		{"POST without a resource", func(_ map[string]any, es []map[string]any) { delete(es[2], "resource") }, adapter.EREQUIRED, "Bundle.entry[2].resource"},
		{"POST of a Task", func(_ map[string]any, es []map[string]any) {
			es[1]["resource"] = map[string]any{"resourceType": "Task", "status": "requested", "intent": "order"}
			requestOf(es[1])["url"] = "Task"
		}, adapter.ENOTSUPPORTED, "Bundle.entry[1].resource"},
		{"url does not match the resource", func(_ map[string]any, es []map[string]any) { requestOf(es[1])["url"] = "Consent" }, adapter.EINVALID, "Bundle.entry[1].request.url"},
		{"duplicate fullUrl", func(_ map[string]any, es []map[string]any) { es[2]["fullUrl"] = es[0]["fullUrl"] }, adapter.EINVALID, "Bundle.entry[2].fullUrl"},
		{"unknown code in an entry", func(_ map[string]any, es []map[string]any) {
			resourceOf(es[2])["provision"].(map[string]any)["type"] = "bogus"
		}, adapter.ECODEINVALID, "Bundle.entry[2].resource.provision.type"},
		{"bad date in an entry", func(_ map[string]any, es []map[string]any) {
			resourceOf(es[2])["provision"].(map[string]any)["period"].(map[string]any)["start"] = "2026-13-01"
		}, adapter.EVALUE, "Bundle.entry[2].resource.provision.period.start"},
		{"missing element in an entry", func(_ map[string]any, es []map[string]any) { delete(resourceOf(es[1]), "status") }, adapter.EREQUIRED, "Bundle.entry[1].resource.status"},
		{"unknown element in an entry", func(_ map[string]any, es []map[string]any) { resourceOf(es[1])["colour"] = "red" }, adapter.ESTRUCTURE, "Bundle.entry[1].resource.colour"},
		{"wrong reference type in an entry", func(_ map[string]any, es []map[string]any) {
			resourceOf(es[1])["subject"] = map[string]any{"reference": "Practitioner/1"}
		}, adapter.EVALUE, "Bundle.entry[1].resource.subject"},
		{"bad contained resource in an entry", func(_ map[string]any, es []map[string]any) {
			resourceOf(es[1])["contained"] = []any{map[string]any{"resourceType": "Patient", "id": "p", "gender": "x"}}
		}, adapter.ECODEINVALID, "Bundle.entry[1].resource.contained[0].gender"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			entries, err := p.Transaction(txVariant(t, c.edit))
			if err == nil {
				t.Fatalf("accepted %d entries", len(entries))
			}
			wantError(t, err, c.code, c.expr)
		})
	}
}

// A transaction that creates a Task for its referral, as a Gravity referral
// source would, is told that the adapter creates it and where to read it.
func TestTransactionTaskPointsToTheTask(t *testing.T) {
	_, err := newParser(t).Transaction(txVariant(t, func(_ map[string]any, es []map[string]any) {
		es[1]["resource"] = map[string]any{"resourceType": "Task", "status": "requested", "intent": "order"}
		requestOf(es[1])["url"] = "Task"
	}))
	e := wantError(t, err, adapter.ENOTSUPPORTED, "Bundle.entry[1].resource")
	if e != nil && !strings.Contains(e.Message, "GET /fhir/Task?focus=ServiceRequest/{id}") {
		t.Errorf("message %q", e.Message)
	}
}

func TestTransactionStrictJSON(t *testing.T) {
	p := newParser(t)
	body := string(txVariant(t, func(map[string]any, []map[string]any) {}))
	dup := strings.Replace(body, `"intent":"order"`, `"intent":"order","intent":"plan"`, 1)
	if dup == body {
		t.Fatal("fixture changed: no intent to duplicate")
	}
	_, err := p.Transaction([]byte(dup))
	wantError(t, err, adapter.ESTRUCTURE, "Bundle.entry[1].resource.intent")

	_, err = p.Transaction(testfiles.Fixture(t, "servicerequest-debt.json"))
	wantError(t, err, adapter.EINVALID, "resourceType")
}

// References to an entry's fullUrl are rewritten to the id it was given;
// only Reference.reference values match, never other strings: text that
// merely contains one, a list of strings, or an identifier whose value is
// the same urn:uuid (the urn:ietf:rfc:3986 idiom).
func TestRewriteReferences(t *testing.T) {
	raw := []byte(`{"subject": {"reference": "urn:uuid:a"},
		"note": [{"text": "see urn:uuid:a"}], "other": {"reference": "urn:uuid:ab"}, "list": ["urn:uuid:a"],
		"identifier": [{"system": "urn:ietf:rfc:3986", "value": "urn:uuid:a"}], "reference": {"value": "urn:uuid:a"}}`)
	got := fhir.RewriteReferences(raw, map[string]string{"urn:uuid:a": "Patient/123", "urn:uuid:zzz": "Consent/9"})
	var v struct {
		Subject    struct{ Reference string } `json:"subject"`
		Note       []struct{ Text string }    `json:"note"`
		Other      struct{ Reference string } `json:"other"`
		List       []string                   `json:"list"`
		Identifier []struct{ Value string }   `json:"identifier"`
	}
	if err := json.Unmarshal(got, &v); err != nil {
		t.Fatalf("rewritten JSON does not parse: %v\n%s", err, got)
	}
	if v.Subject.Reference != "Patient/123" {
		t.Errorf("reference not rewritten: %s", got)
	}
	if v.Note[0].Text != "see urn:uuid:a" || v.Other.Reference != "urn:uuid:ab" || v.List[0] != "urn:uuid:a" ||
		v.Identifier[0].Value != "urn:uuid:a" || !strings.Contains(string(got), `"reference":{"value":"urn:uuid:a"}`) {
		t.Errorf("rewrote more than Reference.reference: %s", got)
	}
	if same := fhir.RewriteReferences(raw, nil); string(same) != string(raw) {
		t.Errorf("no references changed the bytes")
	}
}

// A message Bundle (FHIR messaging, as NHS BaRS sends referrals) is checked
// as a Bundle first, then answered as not processed here, naming the type.
func TestMessageBundleRefusedByType(t *testing.T) {
	p := newParser(t)
	sr, err := os.ReadFile("../../fixtures/servicerequest-debt.json")
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte(`{"resourceType":"Bundle","type":"message","timestamp":"2026-11-20T10:15:00Z",
		"identifier":{"system":"https://tools.ietf.org/html/rfc4122","value":"7b3f3b1e-6f1f-4b1a-9c55-3d2b1a0f9e10"},
		"entry":[{"fullUrl":"urn:uuid:0c1a1d3e-1f2a-4a7b-9a3c-2d1e0f9a8b7c","resource":{"resourceType":"MessageHeader",
		"eventCoding":{"system":"https://fhir.nhs.uk/CodeSystem/message-events-bars","code":"servicerequest-request"},
		"source":{"endpoint":"https://ehr.example.nhs.uk/fhir"},"focus":[{"reference":"urn:uuid:9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"}]}},
		{"fullUrl":"urn:uuid:9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a","resource":` + string(sr) + `}]}`)
	_, err = p.Transaction(msg)
	e, ok := err.(*adapter.Error)
	if !ok || e.Code != adapter.ENOTSUPPORTED || e.Expression[0] != "Bundle.type" || !strings.Contains(e.Message, "message Bundle") {
		t.Fatalf("a message Bundle: %v", err)
	}
}

// A message Bundle with a problem in it (NHS BaRS's published validation
// example carries an NHS number that fails its check digit) is told both:
// the problem, and that a message Bundle is not processed here even when
// valid. A transaction with a problem is told only the problem.
func TestBrokenMessageBundleAlsoToldItsType(t *testing.T) {
	p := newParser(t)
	msg := []byte(`{"resourceType":"Bundle","type":"message","timestamp":"2026-11-20T10:15:00Z",
		"entry":[{"fullUrl":"urn:uuid:0c1a1d3e-1f2a-4a7b-9a3c-2d1e0f9a8b7c","resource":{"resourceType":"MessageHeader",
		"eventCoding":{"system":"https://fhir.nhs.uk/CodeSystem/message-events-bars","code":"servicerequest-request"},
		"source":{"endpoint":"https://ehr.example.nhs.uk/fhir"}}},
		{"fullUrl":"urn:uuid:9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a","resource":{"resourceType":"Patient",
		"identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"3478526985"}]}}]}`)
	_, err := p.Transaction(msg)
	e, ok := err.(*adapter.Error)
	if !ok || e.Code != adapter.EINVARIANT {
		t.Fatalf("error %v, want the NHS number's invariant first", err)
	}
	if n := len(e.Issues); n == 0 || e.Issues[n-1].Code != adapter.ENOTSUPPORTED || !slices.Equal(e.Issues[n-1].Expression, []string{"Bundle.type"}) {
		t.Errorf("issues %v: the message type is not among them", e.Issues)
	}
	tx := bytes.Replace(msg, []byte(`"type":"message"`), []byte(`"type":"transaction"`), 1)
	_, err = p.Transaction(tx)
	if e, ok := err.(*adapter.Error); !ok || slices.ContainsFunc(e.Issues, func(i *adapter.Error) bool { return i.Code == adapter.ENOTSUPPORTED }) {
		t.Errorf("a transaction was told its type is not processed: %v", err)
	}
}

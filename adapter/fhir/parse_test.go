package fhir_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

func newParser(t testing.TB) *fhir.Parser {
	t.Helper()
	p, err := fhir.NewParser()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// wantError checks err is an *adapter.Error with the code and, when expr is
// not empty, pointing first at expr. It returns the error for more checks.
func wantError(t *testing.T, err error, code, expr string) *adapter.Error {
	t.Helper()
	var e *adapter.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want an *adapter.Error %s", err, err, code)
	}
	if e.Code != code {
		t.Errorf("code %q, want %q (%v)", e.Code, code, e)
	}
	switch {
	case expr == "" && len(e.Expression) > 0:
		t.Errorf("expression %v, want none", e.Expression)
	case expr != "" && (len(e.Expression) == 0 || e.Expression[0] != expr):
		t.Errorf("expression %v, want %q", e.Expression, expr)
	}
	return e
}

// sr is a minimal valid ServiceRequest with extra members appended.
func sr(extra string) string {
	return `{"resourceType":"ServiceRequest","status":"active","intent":"order","subject":{"reference":"Patient/1"}` + extra + `}`
}

// nested wraps a value in n levels of extension.
func nested(n int) string {
	return `,"extension":[` + strings.Repeat(`{"url":"http://x.example/e","extension":[`, n) + strings.Repeat(`]}`, n) + `]`
}

// Every class of bad input gets its own code and, where there is one, the
// FHIRPath of the offending element; nothing is a panic or an internal
// error.
func TestParseBadInput(t *testing.T) {
	p := newParser(t)
	cases := []struct {
		name, body string
		code, expr string
		msg        string // a substring of the message
	}{
		{"malformed JSON", `{"resourceType":"ServiceRequest","status":active}`, adapter.ESTRUCTURE, "", "malformed JSON at byte offset"},
		{"truncated JSON", strings.TrimSuffix(sr(""), "}"), adapter.ESTRUCTURE, "", "unexpected end of input"},
		{"truncated in a string", `{"resourceType":"Servi`, adapter.ESTRUCTURE, "", "unexpected end of input"},
		{"empty body", ``, adapter.ESTRUCTURE, "", "unexpected end of input"},
		{"whitespace body", " \n\t", adapter.ESTRUCTURE, "", "unexpected end of input"},
		{"trailing garbage", sr("") + ` {}`, adapter.ESTRUCTURE, "", "malformed JSON"},
		{"array body", `[` + sr("") + `]`, adapter.ESTRUCTURE, "", "must be a JSON object"},
		{"string body", `"ServiceRequest"`, adapter.ESTRUCTURE, "", "must be a JSON object"},
		{"null body", `null`, adapter.ESTRUCTURE, "", "must be a JSON object"},
		{"number body", `42`, adapter.ESTRUCTURE, "", "must be a JSON object"},
		{"duplicate member", sr(`,"status":"draft"`), adapter.ESTRUCTURE, "ServiceRequest.status", "duplicate JSON member name"},
		{"duplicate nested member", sr(`,"code":{"text":"a","text":"b"}`), adapter.ESTRUCTURE, "ServiceRequest.code.text", "duplicate JSON member name"},
		{"duplicate member before resourceType", `{"status":"active","status":"draft","resourceType":"ServiceRequest"}`, adapter.ESTRUCTURE, "ServiceRequest.status", "duplicate JSON member name"},
		{"duplicate resourceType", `{"resourceType":"ServiceRequest","resourceType":"Consent"}`, adapter.ESTRUCTURE, "resourceType", "duplicate"},
		{"too deep", sr(nested(20)), adapter.ESTRUCTURE, "ServiceRequest" + strings.Repeat(".extension[0]", 16), "nested deeper than 32 levels"},
		{"overlong number", sr(`,"quantityQuantity":{"value":` + strings.Repeat("9", fhir.MaxNumberLen+1) + `}`), adapter.EVALUE, "ServiceRequest.quantityQuantity.value", "longer than 40 digits"},
		{"number out of range", sr(`,"quantityQuantity":{"value":1e309}`), adapter.EVALUE, "ServiceRequest.quantityQuantity.value", "out of range"},
		{"invalid UTF-8", sr(`,"note":[{"text":"caf` + "\xe9" + `"}]`), adapter.ESTRUCTURE, "", "invalid UTF-8"},
		{"missing resourceType", `{"status":"active","intent":"order"}`, adapter.EREQUIRED, "resourceType", "no resourceType"},
		{"resourceType only nested", `{"contained":[{"resourceType":"ServiceRequest"}]}`, adapter.EREQUIRED, "resourceType", "no resourceType"},
		{"resourceType not a string", `{"resourceType":5}`, adapter.ESTRUCTURE, "resourceType", "must be a string"},
		{"wrong resourceType", `{"resourceType":"Observation","status":"final"}`, adapter.EINVALID, "resourceType", "expected a ServiceRequest resource, got Observation"},
		{"unknown resourceType", `{"resourceType":"Referral"}`, adapter.EINVALID, "resourceType", "got Referral"},
		{"malformed resourceType", `{"resourceType":"service request"}`, adapter.EINVALID, "resourceType", "got an unknown type"},
		{"unknown element", sr(`,"colour":"red"`), adapter.ESTRUCTURE, "ServiceRequest.colour", `unknown element "colour"`},
		{"unknown nested element", sr(`,"code":{"txt":"x"}`), adapter.ESTRUCTURE, "ServiceRequest.code.txt", `unknown element "txt"`},
		{"unknown element not named", sr(`,"x y":1`), adapter.ESTRUCTURE, "ServiceRequest", "unknown element"},
		{"missing status", `{"resourceType":"ServiceRequest","intent":"order","subject":{"reference":"Patient/1"}}`, adapter.EREQUIRED, "ServiceRequest.status", `missing required element "status"`},
		{"missing intent", `{"resourceType":"ServiceRequest","status":"active","subject":{"reference":"Patient/1"}}`, adapter.EREQUIRED, "ServiceRequest.intent", `missing required element "intent"`},
		{"missing subject", `{"resourceType":"ServiceRequest","status":"active","intent":"order"}`, adapter.EREQUIRED, "ServiceRequest.subject", `missing required element "subject"`},
		{"unknown status code", `{"resourceType":"ServiceRequest","status":"bogus","intent":"order","subject":{"reference":"Patient/1"}}`, adapter.ECODEINVALID, "ServiceRequest.status", "not in the required value set"},
		{"unknown intent code", `{"resourceType":"ServiceRequest","status":"active","intent":"wish","subject":{"reference":"Patient/1"}}`, adapter.ECODEINVALID, "ServiceRequest.intent", "not in the required value set"},
		{"unknown priority code", sr(`,"priority":"whenever"`), adapter.ECODEINVALID, "ServiceRequest.priority", "not in the required value set"},
		{"status not a string", `{"resourceType":"ServiceRequest","status":5,"intent":"order","subject":{"reference":"Patient/1"}}`, adapter.ECODEINVALID, "ServiceRequest.status", ""},
		{"wrong subject reference type", `{"resourceType":"ServiceRequest","status":"active","intent":"order","subject":{"reference":"Observation/1"}}`, adapter.EVALUE, "ServiceRequest.subject", "invalid reference to a Observation resource"},
		{"wrong performer reference type", sr(`,"performer":[{"reference":"Observation/1"}]`), adapter.EVALUE, "ServiceRequest.performer[0]", "invalid reference"},
		{"bad dateTime", sr(`,"authoredOn":"2026-13-45"`), adapter.EVALUE, "ServiceRequest.authoredOn", "expected datetime"},
		{"dateTime in words", sr(`,"authoredOn":"yesterday"`), adapter.EVALUE, "ServiceRequest.authoredOn", "expected datetime"},
		{"impossible date", sr(`,"occurrenceDateTime":"2026-02-30"`), adapter.EVALUE, "ServiceRequest.occurrenceDateTime", "expected datetime"},
		{"boolean as a string", sr(`,"doNotPerform":"yes"`), adapter.EVALUE, "ServiceRequest.doNotPerform", "expected boolean"},
		{"string as a number", sr(`,"note":[{"text":"x","authorString":5}]`), adapter.EVALUE, "ServiceRequest.note[0].authorString", "expected string"},
		// Well-formed JSON whose shape is wrong: a structure error naming
		// the element, never "malformed JSON" (NHS BaRS's published PUT
		// example has basedOn as an object).
		{"object where an array belongs", sr(`,"basedOn":{"reference":"ServiceRequest/2"}`), adapter.ESTRUCTURE, "ServiceRequest.basedOn", "expected an array"},
		{"string where an array belongs", sr(`,"note":"hello"`), adapter.ESTRUCTURE, "ServiceRequest.note", "expected an array"},
		{"string where an object belongs", `{"resourceType":"ServiceRequest","status":"active","intent":"order","subject":"Patient/1"}`, adapter.ESTRUCTURE, "ServiceRequest.subject", "not the JSON FHIR gives"},
		{"array where a string belongs", `{"resourceType":"ServiceRequest","status":"active","intent":"order","subject":{"reference":["Patient/1"]}}`, adapter.ESTRUCTURE, "ServiceRequest.subject.reference", "not the JSON FHIR gives"},
		{"array where an object belongs", sr(`,"code":[{"text":"x"}]`), adapter.ESTRUCTURE, "ServiceRequest.code", "not the JSON FHIR gives"},
		{"contained resource element", sr(`,"contained":[{"resourceType":"Patient","id":"p","gender":"x"}]`), adapter.ECODEINVALID, "ServiceRequest.contained[0].gender", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := p.Parse([]byte(c.body), "ServiceRequest")
			if err == nil {
				t.Fatalf("accepted as %s", res.Type)
			}
			e := wantError(t, err, c.code, c.expr)
			if !strings.Contains(e.Message, c.msg) {
				t.Errorf("message %q, want it to contain %q", e.Message, c.msg)
			}
		})
	}
}

// A resource with several problems reports every one, in a stable order,
// so the sender can fix them all at once. (Values that cannot be read at
// all are reported first; required elements and reference types are
// checked once everything reads.)
func TestParseReportsEveryProblem(t *testing.T) {
	p := newParser(t)
	cases := []struct {
		body string
		want []string
	}{
		{`{"resourceType":"ServiceRequest","status":"bogus","intent":"wish","priority":"whenever","authoredOn":"x"}`, []string{
			"value ServiceRequest.authoredOn",
			"code-invalid ServiceRequest.intent",
			"code-invalid ServiceRequest.priority",
			"code-invalid ServiceRequest.status",
		}},
		{`{"resourceType":"ServiceRequest","subject":{"reference":"Observation/1"},"requester":{"reference":"Observation/2"}}`, []string{
			"required ServiceRequest.intent",
			"value ServiceRequest.requester",
			"required ServiceRequest.status",
			"value ServiceRequest.subject",
		}},
		{sr(`,"colour":1,"size":2`), []string{
			"structure ServiceRequest.colour",
			"structure ServiceRequest.size",
		}},
	}
	for _, c := range cases {
		_, err := p.Parse([]byte(c.body), "ServiceRequest")
		var e *adapter.Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: %v", c.body, err)
		}
		var got []string
		for _, is := range append([]*adapter.Error{e}, e.Issues...) {
			got = append(got, is.Code+" "+strings.Join(is.Expression, ","))
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: issues\n%q\nwant\n%q", c.body, got, c.want)
		}
	}
}

// Error messages name elements and expectations, never the values sent:
// they end up in logs and responses.
func TestParseErrorsNeverQuoteValues(t *testing.T) {
	p := newParser(t)
	const secret = "9434765919" // an NHS-number-shaped value
	bodies := []string{
		`{"resourceType":"ServiceRequest","status":"` + secret + `","intent":"order","subject":{"reference":"Patient/1"}}`,
		sr(`,"authoredOn":"` + secret + `"`),
		`{"resourceType":"ServiceRequest","status":"active","intent":"order","subject":{"reference":"Observation/` + secret + `"}}`,
		sr(`,"` + secret + `":1`),
		sr(`,"quantityQuantity":{"value":` + strings.Repeat(secret, 5) + `}`),
		`{"resourceType":"` + secret + `"}`,
		sr(`,"note":[{"text":"` + secret + `"}],"note":[]`),
	}
	for _, b := range bodies {
		_, err := p.Parse([]byte(b), "ServiceRequest")
		if err == nil {
			t.Errorf("accepted %s", b)
			continue
		}
		var e *adapter.Error
		if !errors.As(err, &e) {
			t.Fatalf("%T %v", err, err)
		}
		for _, is := range append([]*adapter.Error{e}, e.Issues...) {
			if strings.Contains(is.Message, secret) || strings.Contains(strings.Join(is.Expression, " "), secret) {
				t.Errorf("error quotes the value: %q %v", is.Message, is.Expression)
			}
		}
	}
}

// Parse accepts any of the wanted types, and any resource type when none is
// named; a Consent has its own required elements and bindings.
func TestParseTypes(t *testing.T) {
	p := newParser(t)
	res, err := p.Parse([]byte(sr("")), "Consent", "ServiceRequest")
	if err != nil || res.Type != "ServiceRequest" || res.Msg.GetServiceRequest() == nil {
		t.Fatalf("Parse = %+v, %v", res, err)
	}
	if res, err = p.Parse([]byte(`{"resourceType":"Organization","name":"A"}`)); err != nil || res.Type != "Organization" {
		t.Errorf("Parse with no wanted type = %+v, %v", res, err)
	}
	_, err = p.Parse([]byte(`{"resourceType":"Consent","scope":{"text":"x"},"category":[{"text":"y"}]}`), "Consent")
	wantError(t, err, adapter.EREQUIRED, "Consent.status")
	_, err = p.Parse([]byte(`{"resourceType":"Consent","status":"active","scope":{"text":"x"},"category":[{"text":"y"}],"provision":{"type":"maybe"}}`), "Consent")
	wantError(t, err, adapter.ECODEINVALID, "Consent.provision.type")
	_, err = p.Parse([]byte(`{"resourceType":"Consent","status":"active","scope":{"text":"x"},"category":[{"text":"y"}],"patient":{"reference":"Practitioner/1"}}`), "Consent")
	wantError(t, err, adapter.EVALUE, "Consent.patient")
}

package fhir_test

import (
	"os"
	"strings"
	"testing"

	"github.com/tidwall/sjson"

	"github.com/social-prescribing/referral-adapter/adapter"
)

func goldenReferral(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../fixtures/servicerequest-debt.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sset(t *testing.T, body []byte, path string, v any) []byte {
	t.Helper()
	out, err := sjson.SetBytes(body, path, v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// What the FHIR library accepts but FHIR R4 does not: each is refused,
// naming the element and the rule (issue 18).
func TestInvariantsRefused(t *testing.T) {
	p := newParser(t)
	sr := goldenReferral(t)
	const narrative = `<div xmlns="http://www.w3.org/1999/xhtml">Referral for money worries</div>`
	cases := []struct {
		name, path string
		value      any
		code, at   string
		rule       string
	}{
		{"empty array", "note", []any{}, adapter.EINVARIANT, "ServiceRequest.note", "must not be empty"},
		{"empty string", "priority", "", adapter.EINVARIANT, "ServiceRequest.priority", "ele-1"},
		{"empty reasons", "reasonCode", []any{}, adapter.EINVARIANT, "ServiceRequest.reasonCode", "must not be empty"},
		{"empty object", "reasonCode.0", map[string]any{}, adapter.EINVARIANT, "ServiceRequest.reasonCode[0]", "ele-1"},
		{"whitespace identifier", "identifier.0.value", "   ", adapter.EINVARIANT, "ServiceRequest.identifier[0].value", "whitespace"},
		{"whitespace NHS number", "subject.identifier.value", " \t ", adapter.EINVARIANT, "ServiceRequest.subject.identifier.value", "whitespace"},
		{"NHS number failing its check digit", "subject.identifier.value", "9000000008", adapter.EINVARIANT, "ServiceRequest.subject.identifier.value", "modulus 11"},
		{"NHS number of nine digits", "subject.identifier.value", "900000000", adapter.EINVARIANT, "ServiceRequest.subject.identifier.value", "ten digits"},
		{"status in capitals", "status", "ACTIVE", adapter.ECODEINVALID, "ServiceRequest.status", `write "active"`},
		{"intent capitalised", "intent", "Order", adapter.ECODEINVALID, "ServiceRequest.intent", `write "order"`},
		{"priority capitalised", "priority", "Urgent", adapter.ECODEINVALID, "ServiceRequest.priority", `write "urgent"`},
		{"extension without a value", "extension", []any{map[string]any{"url": "https://example.org/x"}}, adapter.EINVARIANT, "ServiceRequest.extension[0]", "ext-1"},
		{"extension with both", "extension", []any{map[string]any{"url": "https://example.org/x", "valueString": "a",
			"extension": []any{map[string]any{"url": "b", "valueString": "c"}}}}, adapter.EINVARIANT, "ServiceRequest.extension[0]", "ext-1"},
		{"contained resource nobody references", "contained", []any{map[string]any{"resourceType": "Patient", "id": "p1"}}, adapter.EINVARIANT, "ServiceRequest.contained[0]", "dom-3"},
		{"narrative with a script", "text", map[string]any{"status": "generated", "div": strings.Replace(narrative, "Referral", "<script>alert(1)</script>Referral", 1)},
			adapter.EINVARIANT, "ServiceRequest.text.div", "txt-1"},
		{"narrative with an event handler", "text", map[string]any{"status": "generated", "div": strings.Replace(narrative, "Referral", `<p onclick="steal()">Referral</p>`, 1)},
			adapter.EINVARIANT, "ServiceRequest.text.div", "txt-1"},
		{"narrative with a script link", "text", map[string]any{"status": "generated", "div": strings.Replace(narrative, "Referral", `<a href=" JavaScript:steal()">Referral</a>`, 1)},
			adapter.EINVARIANT, "ServiceRequest.text.div", "txt-1"},
		{"narrative with an iframe", "text", map[string]any{"status": "generated", "div": strings.Replace(narrative, "Referral", `<iframe src="https://evil.example"></iframe>Referral`, 1)},
			adapter.EINVARIANT, "ServiceRequest.text.div", "txt-1"},
		{"narrative without content", "text", map[string]any{"status": "generated", "div": `<div xmlns="http://www.w3.org/1999/xhtml">  <p> </p></div>`},
			adapter.EINVARIANT, "ServiceRequest.text.div", "txt-2"},
		{"reference climbing out", "subject", map[string]any{"reference": "Patient/../../x"}, adapter.EINVARIANT, "ServiceRequest.subject.reference", "Type/id"},
		{"performer climbing out", "performer", []any{map[string]any{"reference": "HealthcareService/../money-advice"}}, adapter.EINVARIANT, "ServiceRequest.performer[0].reference", "Type/id"},
		{"a 100k-character id", "subject", map[string]any{"reference": "Patient/" + strings.Repeat("a", 100_000)}, adapter.EINVARIANT, "ServiceRequest.subject.reference", "too long"},
		{"an id of 65 characters", "subject", map[string]any{"reference": "Patient/" + strings.Repeat("a", 65)}, adapter.EINVARIANT, "ServiceRequest.subject.reference", "FHIR ids"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.Parse(sset(t, sr, tc.path, tc.value), "ServiceRequest")
			e, ok := err.(*adapter.Error)
			if !ok {
				t.Fatalf("accepted, or not a domain error: %v", err)
			}
			found := false
			for _, is := range append([]*adapter.Error{e}, e.Issues...) {
				if is.Code == tc.code && len(is.Expression) == 1 && is.Expression[0] == tc.at && strings.Contains(is.Message, tc.rule) {
					found = true
				}
			}
			if !found {
				t.Errorf("want %s at %s naming %q; got %v (+%v)", tc.code, tc.at, tc.rule, e, e.Issues)
			}
		})
	}
}

// Well-formed references, narrative and identifiers pass.
func TestInvariantsAccepted(t *testing.T) {
	p := newParser(t)
	sr := goldenReferral(t)
	for name, body := range map[string][]byte{
		"absolute reference":    sset(t, sr, "subject", map[string]any{"reference": "https://pds.example.nhs.uk/fhir/Patient/9000000009"}),
		"versioned reference":   sset(t, sr, "subject", map[string]any{"reference": "Patient/p1/_history/2"}),
		"urn:uuid reference":    sset(t, sr, "subject", map[string]any{"reference": "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"}),
		"contained, referenced": sset(t, sset(t, sr, "contained", []any{map[string]any{"resourceType": "Patient", "id": "p1", "active": true}}), "subject", map[string]any{"reference": "#p1"}),
		"basic narrative": sset(t, sr, "text", map[string]any{"status": "generated",
			"div": `<div xmlns="http://www.w3.org/1999/xhtml"><p>Money worries: <b>debt</b>, see <a href="https://www.citizensadvice.org.uk">advice</a></p><table><tr><td>1</td></tr></table></div>`}),
	} {
		if _, err := p.Parse(body, "ServiceRequest"); err != nil {
			t.Errorf("%s refused: %v", name, err)
		}
	}
}

// Codes are case-sensitive in every resource the adapter takes in.
func TestCodesAreCaseSensitive(t *testing.T) {
	p := newParser(t)
	bundle, err := os.ReadFile("../../fixtures/bundle-referral-transaction.json")
	if err != nil {
		t.Fatal(err)
	}
	flag, err := os.ReadFile("../../fixtures/flag-safeguarding.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		body      []byte
		typ, want string
	}{
		{sset(t, bundle, "type", "Transaction"), "Bundle", "Bundle.type"},
		{sset(t, bundle, "entry.0.request.method", "post"), "Bundle", "Bundle.entry[0].request.method"},
		{sset(t, bundle, "entry.1.resource.status", "Active"), "Bundle", "Bundle.entry[1].resource.status"},
		{sset(t, flag, "status", "Active"), "Flag", "Flag.status"},
	} {
		_, err := p.Parse(tc.body, tc.typ)
		e, ok := err.(*adapter.Error)
		if !ok || e.Code != adapter.ECODEINVALID || len(e.Expression) != 1 || e.Expression[0] != tc.want {
			t.Errorf("%s: %v", tc.want, err)
		}
	}
}

// Every place a bound code can be is checked, and the issue names the code
// as the value set writes it: a list of codes, a code in a contained
// resource, in an extension's value[x] (under an element, a
// CodeableConcept, that holds no bound code of its own), a code the library reads by its enum name ('_' for
// '-') or whose value set writes it as a symbol. Codes written as the value
// set writes them pass.
func TestCodeCaseEverywhere(t *testing.T) {
	p := newParser(t)
	sr, err := os.ReadFile("../../fixtures/servicerequest-debt.json")
	if err != nil {
		t.Fatal(err)
	}
	allergy := []byte(`{"resourceType":"AllergyIntolerance","patient":{"reference":"Patient/p1"},"category":["food","medication"]}`)
	quantity := func(comparator string) map[string]any {
		return map[string]any{"url": "https://example.org/fhir/StructureDefinition/wait",
			"valueQuantity": map[string]any{"value": 2, "comparator": comparator, "unit": "wk"}}
	}
	for _, tc := range []struct {
		name, want, expr, code string
		body                   []byte
	}{
		{"list of codes", "medication", "AllergyIntolerance.category[1]", "", sset(t, allergy, "category.1", "MEDICATION")},
		{"contained resource", "female", "ServiceRequest.contained[0].gender", "",
			sset(t, sset(t, sr, "contained", []any{map[string]any{"resourceType": "Patient", "id": "p1", "gender": "Female"}}),
				"subject", map[string]any{"reference": "#p1"})},
		{"extension value[x] under a concept", "<", "ServiceRequest.code.extension[0].valueQuantity.comparator", "",
			sset(t, sr, "code.extension", []any{quantity("less_than")})},
		{"enum name for the code", "entered-in-error", "ServiceRequest.status", "", sset(t, sr, "status", "entered_in_error")},
		{"hyphenated code in capitals", "entered-in-error", "ServiceRequest.status", "", sset(t, sr, "status", "Entered-In-Error")},
		{"as written: symbol", "", "", "", sset(t, sr, "subject.extension", []any{quantity("<")})},
		{"as written: list", "", "", "", allergy},
		{"as written: hyphen", "", "", "", sset(t, sr, "status", "entered-in-error")},
	} {
		_, err := p.Parse(tc.body)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		e, ok := err.(*adapter.Error)
		if !ok || e.Code != adapter.ECODEINVALID || len(e.Expression) != 1 || e.Expression[0] != tc.expr ||
			!strings.Contains(e.Message, `"`+tc.want+`"`) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

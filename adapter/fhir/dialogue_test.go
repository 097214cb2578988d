package fhir_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/internal/jsonedit"
	"github.com/social-prescribing/referral-adapter/internal/testfiles"
)

func communication(t *testing.T, p *fhir.Parser, body []byte) (fhir.CommunicationFacts, error) {
	t.Helper()
	res, err := p.Parse(body, adapter.KindCommunication)
	if err != nil {
		return fhir.CommunicationFacts{}, err
	}
	return fhir.CommunicationFrom(res)
}

func jset(t *testing.T, body []byte, path string, v any) []byte {
	return jsonedit.Set(t, body, path, v)
}

// A Communication's facts are read as they stand; what the dialogue
// accepts of them is the dialogue package's to decide.
func TestCommunicationFacts(t *testing.T) {
	p := newParser(t)
	q, err := communication(t, p, testfiles.Fixture(t, "communication-gp-question.json"))
	if err != nil {
		t.Fatal(err)
	}
	if q.Status != "completed" || !slices.Equal(q.BasedOn, []string{"ServiceRequest/00000000-0000-4000-8000-000000000101"}) ||
		len(q.PartOf) != 0 || len(q.About) != 0 || len(q.InResponseTo) != 0 || len(q.Approvals) != 0 ||
		len(q.Payloads) != 1 || q.Payloads[0] == nil || !strings.Contains(*q.Payloads[0], "bailiff") ||
		q.Sender != "Organization?identifier="+adapter.SystemODS+"|A81001" ||
		q.Subject != "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009" {
		t.Errorf("GP question facts = %+v", q)
	}
	r, err := communication(t, p, testfiles.Fixture(t, "communication-link-worker-reply.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Approvals) != 1 || r.Approvals[0].Index != 0 || r.Approvals[0].Value == nil || !*r.Approvals[0].Value ||
		!slices.Equal(r.InResponseTo, []string{"Communication/00000000-0000-4000-8000-000000000201"}) || r.Sender != "" {
		t.Errorf("reply facts = %+v", r)
	}
	// What the dialogue refuses is still read: an attachment is a payload
	// without text, an approval without a boolean has no value, and
	// contained resources and modifier extensions are counted.
	body := jset(t, testfiles.Fixture(t, "communication-gp-question.json"), "payload.-1",
		map[string]any{"contentAttachment": map[string]any{"contentType": "text/plain", "data": "aGk="}})
	body = jset(t, body, "extension", []any{map[string]any{"url": "http://example.org/other", "valueString": "x"},
		map[string]any{"url": fhir.ExtPatientApprovedSharing, "valueString": "yes"}})
	body = jset(t, jset(t, body, "status", "in-progress"), "partOf", []any{map[string]any{"reference": "Task/a"}})
	f, err := communication(t, p, body)
	if err != nil {
		t.Fatal(err)
	}
	if f.Status != "in-progress" || len(f.Payloads) != 2 || f.Payloads[1] != nil ||
		len(f.Approvals) != 1 || f.Approvals[0].Index != 1 || f.Approvals[0].Value != nil ||
		!slices.Equal(f.PartOf, []string{"Task/a"}) {
		t.Errorf("facts = %+v", f)
	}
}

func TestIDOf(t *testing.T) {
	for ref, want := range map[string]string{
		"Task/t-1.a":          "t-1.a",
		"ServiceRequest/t1":   "",
		"Task/":               "",
		"Task/a/_history/2":   "",
		"Task?identifier=x|1": "",
		"#t1":                 "",
	} {
		if got := fhir.IDOf("Task", ref); got != want {
			t.Errorf("IDOf(Task, %q) = %q, want %q", ref, got, want)
		}
	}
}

func TestFlagFacts(t *testing.T) {
	p := newParser(t)
	body := jset(t, testfiles.Fixture(t, "flag-safeguarding.json"), "extension.-1", map[string]any{"url": fhir.ExtFlagDetail, "valueReference": map[string]any{"reference": "Task/child-1"}})
	res, err := p.Parse(body, adapter.KindFlag)
	if err != nil {
		t.Fatal(err)
	}
	f, err := fhir.FlagFrom(res)
	if err != nil || f.Status != "active" || len(f.Details) != 2 ||
		f.Details[0] != (fhir.RefExtension{Index: 0, Ref: "ServiceRequest/00000000-0000-4000-8000-000000000101"}) ||
		f.Details[1] != (fhir.RefExtension{Index: 1, Ref: "Task/child-1"}) ||
		!slices.ContainsFunc(f.Categories, fhir.CodingSafeguarding.Same) ||
		f.Subject != "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009" {
		t.Errorf("flag facts = %+v, %v", f, err)
	}
}

// The stored resource is the client's, with the server's id and meta and
// the filled elements where the client left them out; it stays valid FHIR.
func TestStampDialogue(t *testing.T) {
	p := newParser(t)
	now := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	body := testfiles.Fixture(t, "communication-gp-question.json")
	out, err := fhir.StampDialogue(body, "m1", now, fhir.Fill{Set: map[string]any{
		"sender":    fhir.OrgRef("ZZZ", ""), // already present: kept as sent
		"recipient": []any{fhir.LiteralRef("HealthcareService/money-advice", "Riverside Citizens Advice")},
		"partOf":    []any{fhir.LiteralRef("Task/t1", "")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Parse(out, adapter.KindCommunication); err != nil {
		t.Fatalf("stamped Communication is not valid: %v\n%s", err, out)
	}
	var m struct {
		ID        string
		Meta      struct{ VersionID, LastUpdated string }
		Sender    struct{ Identifier struct{ Value string } }
		Recipient []struct{ Reference string }
		PartOf    []struct{ Reference string }
		Payload   []struct{ ContentString string }
	}
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	if m.ID != "m1" || m.Meta.LastUpdated != "2026-11-24T09:30:00.000Z" || m.Sender.Identifier.Value != "A81001" ||
		len(m.Recipient) != 1 || m.Recipient[0].Reference != "HealthcareService/money-advice" ||
		len(m.PartOf) != 1 || m.PartOf[0].Reference != "Task/t1" || !strings.Contains(m.Payload[0].ContentString, "bailiff") {
		t.Errorf("stamped = %s", out)
	}
}

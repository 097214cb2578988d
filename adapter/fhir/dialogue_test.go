package fhir_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/sjson"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
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
	t.Helper()
	out, err := sjson.SetBytes(body, path, v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func jdel(t *testing.T, body []byte, path string) []byte {
	t.Helper()
	out, err := sjson.DeleteBytes(body, path)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCommunicationFixtures(t *testing.T) {
	p := newParser(t)
	q, err := communication(t, p, testfiles.Fixture(t, "communication-gp-question.json"))
	if err != nil {
		t.Fatal(err)
	}
	if q.Referral != "00000000-0000-4000-8000-000000000101" || q.Task != "" || q.InResponseTo != "" || q.Approved != nil ||
		q.Sender != "Organization?identifier="+adapter.SystemODS+"|A81001" ||
		q.Subject != "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009" {
		t.Errorf("GP question facts = %+v", q)
	}
	r, err := communication(t, p, testfiles.Fixture(t, "communication-link-worker-reply.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Approved == nil || !*r.Approved || r.InResponseTo != "00000000-0000-4000-8000-000000000201" || r.Sender != "" {
		t.Errorf("reply facts = %+v", r)
	}
}

func TestCommunicationTaskFromPartOfOrAbout(t *testing.T) {
	p := newParser(t)
	base := testfiles.Fixture(t, "communication-gp-question.json")
	for _, path := range []string{"partOf", "about"} {
		f, err := communication(t, p, jset(t, base, path, []any{map[string]any{"reference": "Task/child-1"}}))
		if err != nil || f.Task != "child-1" {
			t.Errorf("%s Task: %+v, %v", path, f, err)
		}
	}
	// The referral itself may be what the message is about.
	if f, err := communication(t, p, jset(t, base, "about", []any{map[string]any{"reference": "ServiceRequest/00000000-0000-4000-8000-000000000101"}})); err != nil || f.Task != "" {
		t.Errorf("about the referral: %+v, %v", f, err)
	}
}

// Each rule of the dialogue fails on its own element, with a 4xx code and
// never the message text.
func TestCommunicationRejected(t *testing.T) {
	p := newParser(t)
	base := testfiles.Fixture(t, "communication-gp-question.json")
	long := strings.Repeat("a", fhir.MaxMessageChars+1)
	cases := []struct {
		name       string
		body       []byte
		code, expr string
	}{
		{"not completed", jset(t, base, "status", "in-progress"), adapter.EBUSINESSRULE, "Communication.status"},
		{"no basedOn", jdel(t, base, "basedOn"), adapter.EREQUIRED, "Communication.basedOn"},
		{"basedOn not a ServiceRequest", jset(t, base, "basedOn.0.reference", "CarePlan/1"), adapter.EVALUE, "Communication.basedOn[0]"},
		{"two referrals", jset(t, base, "basedOn.-1", map[string]any{"reference": "ServiceRequest/2"}), adapter.EVALUE, "Communication.basedOn"},
		{"partOf another resource", jset(t, base, "partOf", []any{map[string]any{"reference": "Encounter/1"}}), adapter.EVALUE, "Communication.partOf[0]"},
		{"two Tasks", jset(t, jset(t, base, "partOf", []any{map[string]any{"reference": "Task/a"}}), "about", []any{map[string]any{"reference": "Task/b"}}), adapter.EVALUE, "Communication.about[0]"},
		{"reply to a non-message", jset(t, base, "inResponseTo", []any{map[string]any{"reference": "Task/a"}}), adapter.EVALUE, "Communication.inResponseTo[0]"},
		{"no payload", jdel(t, base, "payload"), adapter.EREQUIRED, "Communication.payload"},
		{"attachment payload", jset(t, base, "payload", []any{map[string]any{"contentAttachment": map[string]any{"contentType": "text/plain", "data": "aGk="}}}), adapter.ENOTSUPPORTED, "Communication.payload[0].content[x]"},
		{"blank text", jset(t, base, "payload.0.contentString", "   "), adapter.EREQUIRED, "Communication.payload[0].contentString"},
		{"too long", jset(t, base, "payload.0.contentString", long), adapter.EVALUE, "Communication.payload[0].contentString"},
		{"contained", jset(t, jset(t, base, "contained", []any{map[string]any{"resourceType": "Patient", "id": "p"}}), "subject", map[string]any{"reference": "#p"}),
			adapter.ENOTSUPPORTED, "Communication.contained"},
		{"contained, not referenced (dom-3)", jset(t, base, "contained", []any{map[string]any{"resourceType": "Patient", "id": "p"}}), adapter.EINVARIANT, "Communication.contained[0]"},
		{"approval not boolean", jset(t, base, "extension", []any{map[string]any{"url": fhir.ExtPatientApprovedSharing, "valueString": "yes"}}), adapter.EVALUE, "Communication.extension[0]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := communication(t, p, c.body)
			e := wantError(t, err, c.code, c.expr)
			if e != nil && strings.Contains(e.Error(), "bailiff") {
				t.Errorf("the error echoes the message text: %v", e)
			}
		})
	}
	// Several problems are reported at once.
	_, err := communication(t, p, jdel(t, jset(t, base, "status", "preparation"), "payload"))
	if e, ok := err.(*adapter.Error); !ok || len(e.Issues) != 1 {
		t.Errorf("two problems: %v", err)
	}
	// Invalid FHIR is refused by the parser before the dialogue rules.
	wantError(t, func() error { _, err := communication(t, p, jset(t, base, "sent", "yesterday")); return err }(), adapter.EVALUE, "Communication.sent")
}

func TestFlagFixture(t *testing.T) {
	p := newParser(t)
	res, err := p.Parse(testfiles.Fixture(t, "flag-safeguarding.json"), adapter.KindFlag)
	if err != nil {
		t.Fatal(err)
	}
	f, err := fhir.FlagFrom(res)
	if err != nil || f.Referral != "00000000-0000-4000-8000-000000000101" || f.Task != "" ||
		f.Subject != "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009" {
		t.Errorf("flag facts = %+v, %v", f, err)
	}
	body := jset(t, testfiles.Fixture(t, "flag-safeguarding.json"), "extension.-1", map[string]any{"url": fhir.ExtFlagDetail, "valueReference": map[string]any{"reference": "Task/child-1"}})
	res, err = p.Parse(body, adapter.KindFlag)
	if err != nil {
		t.Fatal(err)
	}
	if f, err := fhir.FlagFrom(res); err != nil || f.Task != "child-1" {
		t.Errorf("flag on a Task: %+v, %v", f, err)
	}
}

func TestFlagRejected(t *testing.T) {
	p := newParser(t)
	base := testfiles.Fixture(t, "flag-safeguarding.json")
	cases := []struct {
		name       string
		body       []byte
		code, expr string
	}{
		{"inactive", jset(t, base, "status", "inactive"), adapter.EBUSINESSRULE, "Flag.status"},
		{"not safeguarding", jdel(t, base, "category.0"), adapter.EBUSINESSRULE, "Flag.category"},
		{"no referral", jdel(t, base, "extension"), adapter.EREQUIRED, "Flag.extension"},
		{"detail elsewhere", jset(t, base, "extension.0.valueReference.reference", "Observation/1"), adapter.EVALUE, "Flag.extension[0]"},
		{"empty code", jset(t, base, "code", map[string]any{"text": " "}), adapter.EREQUIRED, "Flag.code"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := p.Parse(c.body, adapter.KindFlag)
			if err == nil {
				_, err = fhir.FlagFrom(res)
			}
			wantError(t, err, c.code, c.expr)
		})
	}
	// subject is required by FHIR itself.
	_, err := p.Parse(jdel(t, base, "subject"), adapter.KindFlag)
	wantError(t, err, adapter.EREQUIRED, "Flag.subject")
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

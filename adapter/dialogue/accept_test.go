package dialogue

import (
	"errors"
	"strings"
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/internal/jsonedit"
	"github.com/social-prescribing/referral-adapter/internal/testfiles"
)

func newParser(t *testing.T) *fhir.Parser {
	t.Helper()
	p, err := fhir.NewParser()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func jset(t *testing.T, body []byte, path string, v any) []byte {
	return jsonedit.Set(t, body, path, v)
}

func jdel(t *testing.T, body []byte, path string) []byte { return jsonedit.Delete(t, body, path) }

// readMessage parses a Communication and applies the dialogue's rules, as
// Post does before it looks at the referral.
func readMessage(t *testing.T, p *fhir.Parser, body []byte) (message, error) {
	t.Helper()
	res, err := p.Parse(body, adapter.KindCommunication)
	if err != nil {
		return message{}, err
	}
	f, err := fhir.CommunicationFrom(res)
	if err != nil {
		return message{}, err
	}
	return acceptMessage(f)
}

// readFlag is readMessage for a Flag, as RaiseFlag does.
func readFlag(t *testing.T, p *fhir.Parser, body []byte) (flag, error) {
	t.Helper()
	res, err := p.Parse(body, adapter.KindFlag)
	if err != nil {
		return flag{}, err
	}
	f, err := fhir.FlagFrom(res)
	if err != nil {
		return flag{}, err
	}
	return acceptFlag(f)
}

// wantError checks err is an *adapter.Error with the code, pointing first
// at expr. It returns the error for more checks.
func wantError(t *testing.T, err error, code, expr string) *adapter.Error {
	t.Helper()
	var e *adapter.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want an *adapter.Error %s", err, err, code)
	}
	if e.Code != code || len(e.Expression) == 0 || e.Expression[0] != expr {
		t.Errorf("%s at %v, want %s at %s (%v)", e.Code, e.Expression, code, expr, e)
	}
	return e
}

func TestMessageFixtures(t *testing.T) {
	p := newParser(t)
	q, err := readMessage(t, p, testfiles.Fixture(t, "communication-gp-question.json"))
	if err != nil {
		t.Fatal(err)
	}
	if q.Referral != "00000000-0000-4000-8000-000000000101" || q.Task != "" || q.InResponseTo != "" || q.Approved != nil ||
		q.Sender != "Organization?identifier="+adapter.SystemODS+"|A81001" ||
		q.Subject != "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009" {
		t.Errorf("GP question = %+v", q)
	}
	r, err := readMessage(t, p, testfiles.Fixture(t, "communication-link-worker-reply.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Approved == nil || !*r.Approved || r.InResponseTo != "00000000-0000-4000-8000-000000000201" || r.Sender != "" {
		t.Errorf("reply = %+v", r)
	}
}

func TestMessageTaskFromPartOfOrAbout(t *testing.T) {
	p := newParser(t)
	base := testfiles.Fixture(t, "communication-gp-question.json")
	for _, path := range []string{"partOf", "about"} {
		m, err := readMessage(t, p, jset(t, base, path, []any{map[string]any{"reference": "Task/child-1"}}))
		if err != nil || m.Task != "child-1" {
			t.Errorf("%s Task: %+v, %v", path, m, err)
		}
	}
	// The referral itself may be what the message is about.
	if m, err := readMessage(t, p, jset(t, base, "about", []any{map[string]any{"reference": "ServiceRequest/00000000-0000-4000-8000-000000000101"}})); err != nil || m.Task != "" {
		t.Errorf("about the referral: %+v, %v", m, err)
	}
}

// Each rule of the dialogue fails on its own element, with a 4xx code and
// never the message text.
func TestMessageRejected(t *testing.T) {
	p := newParser(t)
	base := testfiles.Fixture(t, "communication-gp-question.json")
	long := strings.Repeat("a", MaxMessageChars+1)
	approval := func(v map[string]any) map[string]any { v["url"] = fhir.ExtPatientApprovedSharing; return v }
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
		{"reply to two messages", jset(t, base, "inResponseTo", []any{map[string]any{"reference": "Communication/a"}, map[string]any{"reference": "Communication/b"}}), adapter.EVALUE, "Communication.inResponseTo"},
		{"no payload", jdel(t, base, "payload"), adapter.EREQUIRED, "Communication.payload"},
		{"attachment payload", jset(t, base, "payload", []any{map[string]any{"contentAttachment": map[string]any{"contentType": "text/plain", "data": "aGk="}}}), adapter.ENOTSUPPORTED, "Communication.payload[0].content[x]"},
		{"blank text", jset(t, base, "payload.0.contentString", "   "), adapter.EREQUIRED, "Communication.payload[0].contentString"},
		{"too long", jset(t, base, "payload.0.contentString", long), adapter.EVALUE, "Communication.payload[0].contentString"},
		{"contained", jset(t, jset(t, base, "contained", []any{map[string]any{"resourceType": "Patient", "id": "p"}}), "subject", map[string]any{"reference": "#p"}),
			adapter.ENOTSUPPORTED, "Communication.contained"},
		{"contained, not referenced (dom-3)", jset(t, base, "contained", []any{map[string]any{"resourceType": "Patient", "id": "p"}}), adapter.EINVARIANT, "Communication.contained[0]"},
		{"approval not boolean", jset(t, base, "extension", []any{approval(map[string]any{"valueString": "yes"})}), adapter.EVALUE, "Communication.extension[0]"},
		{"approval twice", jset(t, base, "extension", []any{approval(map[string]any{"valueBoolean": true}), approval(map[string]any{"valueBoolean": false})}), adapter.EVALUE, "Communication.extension[1]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := readMessage(t, p, c.body)
			e := wantError(t, err, c.code, c.expr)
			if e != nil && strings.Contains(e.Error(), "bailiff") {
				t.Errorf("the error echoes the message text: %v", e)
			}
		})
	}
	// A message of exactly the limit is taken.
	if _, err := readMessage(t, p, jset(t, base, "payload.0.contentString", long[1:])); err != nil {
		t.Errorf("%d characters: %v", MaxMessageChars, err)
	}
	// Several problems are reported at once, the first by element.
	_, err := readMessage(t, p, jdel(t, jset(t, base, "status", "preparation"), "payload"))
	if e := wantError(t, err, adapter.EREQUIRED, "Communication.payload"); len(e.Issues) != 1 || e.Issues[0].Expression[0] != "Communication.status" {
		t.Errorf("two problems: %v", err)
	}
	// Invalid FHIR is refused by the parser before the dialogue rules.
	_, err = readMessage(t, p, jset(t, base, "sent", "yesterday"))
	wantError(t, err, adapter.EVALUE, "Communication.sent")
}

func TestFlagFixture(t *testing.T) {
	p := newParser(t)
	f, err := readFlag(t, p, testfiles.Fixture(t, "flag-safeguarding.json"))
	if err != nil || f.Referral != "00000000-0000-4000-8000-000000000101" || f.Task != "" ||
		f.Subject != "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009" {
		t.Errorf("flag = %+v, %v", f, err)
	}
	body := jset(t, testfiles.Fixture(t, "flag-safeguarding.json"), "extension.-1", map[string]any{"url": fhir.ExtFlagDetail, "valueReference": map[string]any{"reference": "Task/child-1"}})
	if f, err := readFlag(t, p, body); err != nil || f.Task != "child-1" {
		t.Errorf("flag on a Task: %+v, %v", f, err)
	}
}

func TestFlagRejected(t *testing.T) {
	p := newParser(t)
	base := testfiles.Fixture(t, "flag-safeguarding.json")
	detail := func(ref string) map[string]any {
		return map[string]any{"url": fhir.ExtFlagDetail, "valueReference": map[string]any{"reference": ref}}
	}
	cases := []struct {
		name       string
		body       []byte
		code, expr string
	}{
		{"inactive", jset(t, base, "status", "inactive"), adapter.EBUSINESSRULE, "Flag.status"},
		{"not safeguarding", jdel(t, base, "category.0"), adapter.EBUSINESSRULE, "Flag.category"},
		{"no referral", jdel(t, base, "extension"), adapter.EREQUIRED, "Flag.extension"},
		{"only a Task", jset(t, base, "extension", []any{detail("Task/t1")}), adapter.EREQUIRED, "Flag.extension"},
		{"detail elsewhere", jset(t, base, "extension.0.valueReference.reference", "Observation/1"), adapter.EVALUE, "Flag.extension[0]"},
		{"two referrals", jset(t, base, "extension.-1", detail("ServiceRequest/other")), adapter.EVALUE, "Flag.extension[1]"},
		{"two Tasks", jset(t, base, "extension", []any{detail("Task/a"), detail("ServiceRequest/r"), detail("Task/b")}), adapter.EVALUE, "Flag.extension[2]"},
		{"empty code", jset(t, base, "code", map[string]any{"text": " "}), adapter.EREQUIRED, "Flag.code"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := readFlag(t, p, c.body)
			wantError(t, err, c.code, c.expr)
		})
	}
	// subject is required by FHIR itself.
	_, err := readFlag(t, p, jdel(t, base, "subject"))
	wantError(t, err, adapter.EREQUIRED, "Flag.subject")
}

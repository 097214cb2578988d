package disclosure

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/access"
	"github.com/social-prescribing/referral-adapter/adapter/consent"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

type consents struct {
	bodies [][]byte
	err    error
}

func (c consents) PatientConsents(context.Context, string, string) ([][]byte, error) {
	return c.bodies, c.err
}

// directory is an empty service directory: the practice's reads need none.
type directory struct{}

func (directory) Service(string) (*adapter.Service, bool)    { return nil, false }
func (directory) Recipient(string) (consent.Recipient, bool) { return consent.Recipient{}, false }

type auditLog []adapter.AuditRecord

func (a *auditLog) Audit(_ context.Context, recs ...adapter.AuditRecord) error {
	*a = append(*a, recs...)
	return nil
}

// goldenConsents are a parser, the golden Consent (to the network) and the
// same Consent naming the practice as a recipient too.
func goldenConsents(t *testing.T) (p *fhir.Parser, golden, toPractice []byte) {
	t.Helper()
	p, err := fhir.NewParser()
	if err != nil {
		t.Fatal(err)
	}
	if golden, err = os.ReadFile("../../fixtures/consent-share-with-link-workers.json"); err != nil {
		t.Fatal(err)
	}
	return p, golden, []byte(strings.Replace(string(golden), `"value": "U00001"`, `"value": "A81001"`, 1))
}

const patient = "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009"

// The golden consent permits disclosure to the network, not to the
// practice: nothing goes back to the GP under it. With the practice named,
// approved outcomes go back, and each decision is audited without patient
// data. Unreadable consents withhold everything.
func TestPermits(t *testing.T) {
	p, golden, toPractice := goldenConsents(t)
	task := &adapter.Task{ID: "t1", ReferralID: "t1", Practice: "A81001", Patient: patient}
	out := &adapter.OutcomeRecord{ID: "o1", TaskID: "t1", Type: "Goal", Practice: "A81001", Approved: true, Org: "U00001",
		Recorded: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	now := func() time.Time { return time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC) }
	cases := []struct {
		name   string
		store  consents
		permit bool
		detail string
	}{
		{"consent to the network only", consents{bodies: [][]byte{golden}}, false, "deny: no active consent of the patient applies"},
		{"consent to the practice", consents{bodies: [][]byte{golden, toPractice}}, true, "permit: permitted by provision of Consent/"},
		{"consents unreadable", consents{err: errors.New("down")}, false, "deny: the patient's consents could not be read"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var log auditLog
			policy := access.New(directory{}, p.ConsentReader(c.store), nil, "riverside-link-workers", true)
			policy.SetClock(now)
			s := New(policy, &log, nil)
			s.now = now
			result := map[bool]string{true: "disclosed", false: "redacted"}[c.permit]
			before := testutil.ToFloat64(decisions.WithLabelValues(result))
			gp := adapter.Caller{Actor: adapter.Actor{Subject: "gp", Role: adapter.RolePractice, Org: "A81001"}}
			if got := s.Sees(context.Background(), gp, task, out); got != c.permit {
				t.Fatalf("Sees = %v", got)
			}
			if d := testutil.ToFloat64(decisions.WithLabelValues(result)) - before; d != 1 {
				t.Errorf("%s decisions counted %v, want 1", result, d)
			}
			if len(log) != 1 || log[0].Kind != AuditKind || log[0].Entity != "Goal/o1" || log[0].Org != "A81001" ||
				!strings.HasPrefix(log[0].Detail, c.detail) || strings.Contains(log[0].Detail, "9000000009") {
				t.Fatalf("audit %+v", log)
			}
		})
	}
}

type failingAudit struct{}

func (failingAudit) Audit(context.Context, ...adapter.AuditRecord) error {
	return errors.New("audit stream down")
}

// A disclosure the consent permits is withheld when its decision cannot
// be recorded: nothing leaves unrecorded.
func TestUnrecordedDisclosureIsWithheld(t *testing.T) {
	p, _, toPractice := goldenConsents(t)
	now := func() time.Time { return time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC) }
	policy := access.New(directory{}, p.ConsentReader(consents{bodies: [][]byte{toPractice}}), nil, "riverside-link-workers", true)
	policy.SetClock(now)
	task := &adapter.Task{ID: "t1", ReferralID: "t1", Practice: "A81001", Patient: patient}
	out := &adapter.OutcomeRecord{ID: "o1", TaskID: "t1", Type: "Goal", Practice: "A81001", Approved: true, Org: "U00001",
		Recorded: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	gp := adapter.Caller{Actor: adapter.Actor{Subject: "gp", Role: adapter.RolePractice, Org: "A81001"}}
	var log auditLog
	if s := New(policy, &log, nil); !s.Sees(context.Background(), gp, task, out) {
		t.Fatal("the permitted disclosure was withheld with the audit trail up")
	}
	if New(policy, failingAudit{}, nil).Sees(context.Background(), gp, task, out) {
		t.Error("disclosed although the decision could not be recorded")
	}
}

package disclosure

import (
	"context"
	"log/slog"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/access"
	"github.com/social-prescribing/referral-adapter/adapter/consent"
)

// Policy is the access policy's door for records made on a referral.
type Policy interface {
	SeeRecord(ctx context.Context, c adapter.Caller, t *adapter.Task, r access.Record) (consent.Decision, error)
	Release(ctx context.Context, t *adapter.Task, to consent.Recipient, info consent.Information) (consent.Decision, error)
}

// Auditor records disclosure decisions.
type Auditor interface {
	Audit(ctx context.Context, recs ...adapter.AuditRecord) error
}

// Service decides disclosures of outcomes and messages and audits them.
type Service struct {
	policy Policy
	audit  Auditor // nil: decisions are not recorded (tests of other things)
	log    *slog.Logger
	now    func() time.Time
}

// New returns a Service.
func New(p Policy, a Auditor, log *slog.Logger) *Service {
	return &Service{policy: p, audit: a, log: log, now: time.Now}
}

// AuditKind is the kind of the audit records of disclosure decisions.
const AuditKind = "disclosure"

// Record describes an outcome (or a holder's message, as
// adapter.Message.Disclosure describes it) of the referral Task t for the
// access policy: its own date, codes, labels and the referral it belongs
// to, and the patient's approval for the GP.
func Record(t *adapter.Task, o *adapter.OutcomeRecord) access.Record {
	meta := consent.OutcomeMeta{
		Approved: o.Approved, Patient: t.Patient, ResourceType: o.Type, Reference: o.Type + "/" + o.ID,
		Related:  []string{"Task/" + t.ID, adapter.KindServiceRequest + "/" + t.ReferralID},
		Recorded: o.Effective, Categories: o.Categories, Codes: o.Codes, SecurityLabels: o.SecurityLabels,
	}
	return access.Record{Info: meta.Information(), Approved: o.Approved, Org: o.Org}
}

// Sees reports whether the caller may see the outcome o of the referral
// Task t, which it may see. A decision about a record of another
// organisation (an outcome going back to the practice, a provider's outcome
// read by the link workers) is recorded in the audit trail, and one that
// cannot be recorded is a no: nothing is disclosed unrecorded. Anything
// that cannot be established (the consents cannot be read) is a no.
func (s *Service) Sees(ctx context.Context, c adapter.Caller, t *adapter.Task, o *adapter.OutcomeRecord) bool {
	r := Record(t, o)
	d, err := s.policy.SeeRecord(ctx, c, t, r)
	if err != nil {
		d = consent.Decision{Reason: "the patient's consents could not be read"}
	}
	recorded := true
	if r.Org != c.Org {
		recorded = s.record(ctx, t, o, c.Org, d)
		countDecision(d.Permit && recorded)
	}
	return d.Permit && err == nil && recorded
}

// ToPractice reports whether the outcome (or message) o will reach the
// referring practice: approved by the patient and permitted by their
// consent for the practice as a whole. It decides whether the practice is
// told (a Task event); each reader is decided again by Sees.
func (s *Service) ToPractice(ctx context.Context, t *adapter.Task, o *adapter.OutcomeRecord) bool {
	if !o.Approved {
		return false
	}
	d, err := s.policy.Release(ctx, t, access.Practice(t.Practice, nil), Record(t, o).Info)
	return err == nil && d.Permit
}

// record writes the decision to the audit trail: the outcome, the
// organisation it would go to, permit or deny and what decided. It names
// no patient data. It reports whether the decision was recorded; a
// failure is logged.
func (s *Service) record(ctx context.Context, t *adapter.Task, o *adapter.OutcomeRecord, to string, d consent.Decision) bool {
	if s.audit == nil {
		return true // not audited (tests of other things)
	}
	detail := "deny: " + d.Reason
	if d.Permit {
		detail = "permit: " + d.Reason
	}
	rec := adapter.AuditRecord{Time: s.now().UTC(), Subject: "referral-adapter", Role: "system", Org: to,
		Action: adapter.AuditExecute, Kind: AuditKind, Entity: o.Type + "/" + o.ID, Detail: detail}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := s.audit.Audit(actx, rec); err != nil {
		if s.log != nil {
			s.log.ErrorContext(ctx, "disclosure decision not audited; withheld", "entity", rec.Entity, "error", err.Error())
		}
		return false
	}
	return true
}

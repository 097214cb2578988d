package disclosure

import (
	"context"
	"log/slog"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/consent"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// ConsentStore gives the Consents a practice sent for a patient.
type ConsentStore interface {
	PatientConsents(ctx context.Context, practice, patient string) ([][]byte, error)
}

// Auditor records disclosure decisions.
type Auditor interface {
	Audit(ctx context.Context, recs ...adapter.AuditRecord) error
}

// Service decides disclosures.
type Service struct {
	store  ConsentStore
	parser *fhir.Parser
	audit  Auditor // nil: decisions are not recorded (tests of other things)
	log    *slog.Logger
	now    func() time.Time
}

// New returns a Service.
func New(s ConsentStore, p *fhir.Parser, a Auditor, log *slog.Logger) *Service {
	return &Service{store: s, parser: p, audit: a, log: log, now: time.Now}
}

// AuditKind is the kind of the audit records of disclosure decisions.
const AuditKind = "disclosure"

// Permits reports whether the outcome o of the referral Task t may be
// shown to the practice that referred it. Anything that cannot be
// established (the consents cannot be read) is a no.
func (s *Service) Permits(ctx context.Context, t *adapter.Task, o *adapter.OutcomeRecord) bool {
	now := s.now().UTC()
	var ok bool
	var d consent.Decision
	bodies, err := s.store.PatientConsents(ctx, t.Practice, t.Patient)
	if err != nil {
		d = consent.Decision{Reason: "the patient's consents could not be read"}
	} else {
		ok, d = consent.Disclose(Meta(t, o), s.parser.Consents(bodies), Practice(t.Practice), now)
	}
	s.record(ctx, t, o, ok, d, now)
	countDecision(ok)
	return ok
}

// Meta describes an outcome for the consent engine.
func Meta(t *adapter.Task, o *adapter.OutcomeRecord) consent.OutcomeMeta {
	return consent.OutcomeMeta{
		Approved: o.Approved, Patient: t.Patient, ResourceType: o.Type, Reference: o.Type + "/" + o.ID,
		Related:  []string{"Task/" + t.ID, adapter.KindServiceRequest + "/" + t.ReferralID},
		Recorded: o.Recorded, Categories: o.Categories, Codes: o.Codes, SecurityLabels: o.SecurityLabels,
	}
}

// Practice is the referring practice as the recipient of a disclosure:
// the primary information recipient, by ODS code.
func Practice(ods string) consent.RequestActor {
	return consent.RequestActor{Role: consent.RoleRecipient,
		Reference: "Organization?identifier=" + adapter.SystemODS + "|" + ods}
}

// record writes the decision to the audit trail: the outcome, the practice
// it would go to, permit or deny and what decided. It names no patient
// data. A failure to record is logged; the decision stands.
func (s *Service) record(ctx context.Context, t *adapter.Task, o *adapter.OutcomeRecord, ok bool, d consent.Decision, now time.Time) {
	if s.audit == nil {
		return
	}
	detail := "deny: " + d.Reason
	if ok {
		detail = "permit: " + d.Reason
	}
	rec := adapter.AuditRecord{Time: now, Subject: "referral-adapter", Role: "system", Org: t.Practice,
		Action: adapter.AuditExecute, Kind: AuditKind, Entity: o.Type + "/" + o.ID, Detail: detail}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := s.audit.Audit(actx, rec); err != nil && s.log != nil {
		s.log.ErrorContext(ctx, "disclosure decision not audited", "entity", rec.Entity, "error", err.Error())
	}
}

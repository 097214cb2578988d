package dialogue

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/auth"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/adapter/mapping"
)

// Store keeps the Tasks, messages and Flags.
type Store interface {
	Task(ctx context.Context, id string) (*adapter.Task, error)
	TasksForReferral(ctx context.Context, srID string) ([]*adapter.Task, error)
	SaveMessage(ctx context.Context, m adapter.Message, body []byte, ev *adapter.TaskEvent) error
	Message(ctx context.Context, id string) (*adapter.Message, []byte, error)
	Thread(ctx context.Context, referral string, withBody bool) ([]*adapter.Message, [][]byte, error)
	SaveFlag(ctx context.Context, f adapter.SafeguardingFlag, body []byte, ev *adapter.TaskEvent) error
	Flag(ctx context.Context, id string) (*adapter.SafeguardingFlag, []byte, error)
	Flags(ctx context.Context, referral string, withBody bool) ([]*adapter.SafeguardingFlag, [][]byte, error)
}

// Disclosure decides, from the patient's approval and consents, whether
// something a holder recorded may go to the referring practice, and
// audits the decision (adapter/disclosure). The same check outcomes get.
type Disclosure interface {
	Permits(ctx context.Context, t *adapter.Task, o *adapter.OutcomeRecord) bool
}

// Counter keeps the report counters (adapter/report): a safeguarding
// concern is counted, anonymously, and that is all reports ever see of it.
type Counter interface {
	Count(ctx context.Context, incs []adapter.StatInc) error
}

// Auditor records safeguarding disclosures.
type Auditor interface {
	Audit(ctx context.Context, recs ...adapter.AuditRecord) error
}

// Service runs the dialogue.
type Service struct {
	store  Store
	m      *mapping.Mappings
	parser *fhir.Parser
	disc   Disclosure // nil: the patient's approval alone decides (CONSENT_REQUIRED=false)
	audit  Auditor    // nil: safeguarding disclosures are not recorded (tests of other things)
	stats  Counter    // nil: not counted
	loc    *time.Location
	log    *slog.Logger
	now    func() time.Time
	newID  func() string
}

// New returns a Service. disc and audit may be nil.
func New(s Store, m *mapping.Mappings, p *fhir.Parser, disc Disclosure, audit Auditor, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		loc = time.UTC
	}
	return &Service{store: s, m: m, parser: p, disc: disc, audit: audit, log: log, now: time.Now, newID: uuid.NewString, loc: loc}
}

// WithStats counts safeguarding concerns for the reports.
func (s *Service) WithStats(c Counter) *Service { s.stats = c; return s }

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Entry is one resource of a search result.
type Entry struct {
	ID   string
	Body []byte
}

func notFound(kind string) error { return adapter.Errorf(adapter.ENOTFOUND, "%s not found", kind) }

func (s *Service) ownerOrg(t *adapter.Task) string {
	if svc, ok := s.m.Service(t.Owner); ok {
		return svc.ProvidedBy.ODS
	}
	return ""
}

// canSee reports whether p is a party to the dialogue on Task t: the
// referring practice, or whoever holds the Task (its service's
// organisation, not while it waits for consent); a link worker also
// follows the onward referrals made from its own Task. Admins and
// commissioners are never parties: they see the audit trail, not content.
func (s *Service) canSee(ctx context.Context, p *auth.Principal, t *adapter.Task) bool {
	switch p.Role {
	case auth.RolePractice:
		return t.Practice == p.Org
	case auth.RoleLinkWorker, auth.RoleProvider:
		if auth.CanSeeTask(p, t, s.ownerOrg(t)) {
			return true
		}
		if t.PartOf != "" && p.Role == auth.RoleLinkWorker {
			parent, err := s.store.Task(ctx, t.PartOf)
			return err == nil && auth.CanSeeTask(p, parent, s.ownerOrg(parent))
		}
	}
	return false
}

// visibleTask loads a Task p is a party to; anything else is not found.
func (s *Service) visibleTask(ctx context.Context, p *auth.Principal, id, kind string) (*adapter.Task, error) {
	t, err := s.store.Task(ctx, id)
	if adapter.ErrorCode(err) == adapter.ENOTFOUND || err == nil && !s.canSee(ctx, p, t) {
		return nil, notFound(kind)
	}
	return t, err
}

// taskFor resolves the Task a new message or Flag belongs to: the one it
// names, which must track the referral it names; else, for the practice,
// the referral's own Task, and for a holder the first of the referral's
// Tasks it holds. Not a party: not found (whether or not it exists).
func (s *Service) taskFor(ctx context.Context, p *auth.Principal, referral, task, kind string) (*adapter.Task, error) {
	if task != "" {
		t, err := s.visibleTask(ctx, p, task, "referral")
		if err != nil {
			return nil, err
		}
		if t.ReferralID != referral {
			return nil, adapter.Errorf(adapter.EBUSINESSRULE, "Task/%s does not track ServiceRequest/%s", clip(task), clip(referral))
		}
		return t, nil
	}
	tasks, err := s.store.TasksForReferral(ctx, referral)
	if err != nil && adapter.ErrorCode(err) != adapter.ENOTFOUND {
		return nil, err
	}
	for _, t := range tasks {
		if p.Role == auth.RolePractice && t.ID != t.ReferralID {
			continue
		}
		if p.Role != auth.RolePractice && !auth.CanSeeTask(p, t, s.ownerOrg(t)) {
			continue // a holder writes on a Task it holds, not one it follows
		}
		if s.canSee(ctx, p, t) {
			return t, nil
		}
	}
	return nil, notFound("referral")
}

// root is the referral's own Task, which the practice follows and is told
// about.
func (s *Service) root(ctx context.Context, t *adapter.Task) *adapter.Task {
	if t.ID == t.ReferralID {
		return t
	}
	if r, err := s.store.Task(ctx, t.ReferralID); err == nil {
		return r
	}
	return t
}

func event(t *adapter.Task, at time.Time) *adapter.TaskEvent {
	return &adapter.TaskEvent{TaskID: t.ID, ReferralID: t.ReferralID, Practice: t.Practice, Status: t.Status, Time: at}
}

// orgRef is the string form (fhir refString) of an organisation by ODS code.
func orgRef(ods string) string { return "Organization?identifier=" + adapter.SystemODS + "|" + ods }

func clip(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}

// auditSafe writes records, logging (never failing on) a failure.
func (s *Service) auditSafe(ctx context.Context, recs ...adapter.AuditRecord) {
	if s.audit == nil {
		return
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := s.audit.Audit(actx, recs...); err != nil {
		s.log.ErrorContext(ctx, "dialogue audit record not written", "entity", recs[0].Entity, "error", err.Error())
	}
}

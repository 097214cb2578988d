package dialogue

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/adapter/routing"
)

// Store keeps the Tasks, messages and Flags.
type Store interface {
	Task(ctx context.Context, id string) (*adapter.Task, error)
	TasksForReferral(ctx context.Context, srID string) ([]*adapter.Task, error)
	SaveMessage(ctx context.Context, m adapter.Message, body []byte, ev *adapter.TaskEvent) error
	Message(ctx context.Context, id string) (*adapter.Message, []byte, error)
	Thread(ctx context.Context, referral string, withBody bool) ([]*adapter.Message, [][]byte, error)
	// SaveFlag stores the Flag with its records (disclosure audit, report
	// counters) and event in one step.
	SaveFlag(ctx context.Context, f adapter.SafeguardingFlag, body []byte, ev *adapter.TaskEvent, with adapter.FlagRecords) error
	Flag(ctx context.Context, id string) (*adapter.SafeguardingFlag, []byte, error)
	Flags(ctx context.Context, referral string, withBody bool) ([]*adapter.SafeguardingFlag, [][]byte, error)
	// The outcomes a closure summary names (issue 19).
	Outcome(ctx context.Context, id string) (*adapter.OutcomeRecord, []byte, error)
	Outcomes(ctx context.Context, taskID string) ([]*adapter.OutcomeRecord, error)
}

// Disclosure decides, from the patient's approval and consents, whether
// something a holder recorded may reach a reader of another organisation
// (the referring practice, or the link workers following a provider's
// onward referral), and audits the decision (adapter/disclosure). The same
// check outcomes get.
type Disclosure interface {
	Sees(ctx context.Context, c adapter.Caller, t *adapter.Task, o *adapter.OutcomeRecord) bool
	ToPractice(ctx context.Context, t *adapter.Task, o *adapter.OutcomeRecord) bool
}

// Access is the access policy (adapter/access) as the dialogue asks it.
type Access interface {
	SeeTask(ctx context.Context, c adapter.Caller, t *adapter.Task) (bool, error)
	Holds(c adapter.Caller, t *adapter.Task) bool
}

// Service runs the dialogue.
type Service struct {
	store  Store
	m      *routing.Mappings
	parser *fhir.Parser
	access Access
	disc   Disclosure // nil: the patient's approval alone decides (tests of other things)
	loc    *time.Location
	log    *slog.Logger
	now    func() time.Time
	newID  func() string
}

// New returns a Service. disc may be nil.
func New(s Store, m *routing.Mappings, p *fhir.Parser, acc Access, disc Disclosure, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: s, m: m, parser: p, access: acc, disc: disc, log: log, now: time.Now, newID: uuid.NewString, loc: adapter.London()}
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Entry is one resource of a search result.
type Entry struct {
	ID   string
	Body []byte
}

func (s *Service) ownerOrg(t *adapter.Task) string {
	if svc, ok := s.m.Service(t.Owner); ok {
		return svc.ProvidedBy.ODS
	}
	return ""
}

// canSee reports whether c is a party to the dialogue on Task t: the
// referring practice, or whoever holds (or, a link worker, follows) the
// Task and whom the patient's consent lets see the referral (the access
// policy). Admins and commissioners are never parties: they see the audit
// trail, not content.
func (s *Service) canSee(ctx context.Context, c adapter.Caller, t *adapter.Task) (bool, error) {
	return s.access.SeeTask(ctx, c, t)
}

// visibleTask loads a Task c is a party to; anything else is not found.
func (s *Service) visibleTask(ctx context.Context, c adapter.Caller, id, kind string) (*adapter.Task, error) {
	t, err := s.store.Task(ctx, id)
	if adapter.ErrorCode(err) == adapter.ENOTFOUND {
		return nil, adapter.NotFound(kind)
	}
	if err != nil {
		return nil, err
	}
	ok, err := s.canSee(ctx, c, t)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, adapter.NotFound(kind)
	}
	return t, nil
}

// taskFor resolves the Task a new message or Flag belongs to: the one it
// names, which must track the referral it names; else, for the practice,
// the referral's own Task, and for a holder the first of the referral's
// Tasks it holds. Not a party: not found (whether or not it exists).
func (s *Service) taskFor(ctx context.Context, c adapter.Caller, referral, task string) (*adapter.Task, error) {
	if task != "" {
		t, err := s.visibleTask(ctx, c, task, "Task")
		if err != nil {
			return nil, err
		}
		if t.ReferralID != referral {
			return nil, adapter.Errorf(adapter.EBUSINESSRULE, "Task/%s does not track ServiceRequest/%s", adapter.Clip(task, adapter.EchoMax), adapter.Clip(referral, adapter.EchoMax))
		}
		return t, nil
	}
	tasks, err := s.store.TasksForReferral(ctx, referral)
	if err != nil && adapter.ErrorCode(err) != adapter.ENOTFOUND {
		return nil, err
	}
	for _, t := range tasks {
		if c.Role == adapter.RolePractice && t.ID != t.ReferralID {
			continue
		}
		if c.Role != adapter.RolePractice && !s.access.Holds(c, t) {
			continue // a holder writes on a Task it holds, not one it follows
		}
		ok, err := s.canSee(ctx, c, t)
		if err != nil {
			return nil, err
		}
		if ok {
			return t, nil
		}
	}
	// What is not found is the referral the new message or Flag names.
	return nil, adapter.NotFound(adapter.KindServiceRequest)
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

package intake

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/access"
	"github.com/social-prescribing/referral-adapter/adapter/consent"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/adapter/routing"
)

// Store is what intake needs from the store.
type Store interface {
	// IntakeLookups reads, at once, what an intake checks before writing.
	IntakeLookups(ctx context.Context, q adapter.IntakeLookup) (*adapter.IntakeFound, error)
	Intake(ctx context.Context, b *adapter.IntakeBatch) error
	ServiceRequest(ctx context.Context, id string) ([]byte, error)
	Consent(ctx context.Context, id string) ([]byte, string, error)
	Patient(ctx context.Context, id string) ([]byte, string, error)
	// PatientOf is the Patient the practice sent that a patient reference
	// names, by id or by identifier; ENOTFOUND when none.
	PatientOf(ctx context.Context, practice, ref string) (string, []byte, error)
	Task(ctx context.Context, id string) (*adapter.Task, error)
	// Consent holds (issue 4).
	PatientConsents(ctx context.Context, practice, patient string) ([][]byte, error)
	UpdatePatientHolds(ctx context.Context, practice, patient string, r *adapter.Routing,
		decide func([]*adapter.Task) []adapter.ConsentMove) ([]adapter.ConsentMove, error)
	ConsentHolds(ctx context.Context, cutoff time.Time, limit int64) ([]*adapter.Task, error)
	ApplyConsentMoves(ctx context.Context, r *adapter.Routing, moves []adapter.ConsentMove) error
	// Sign-off holds (issue 11).
	SignOffHolds(ctx context.Context, cutoff time.Time, limit int64) ([]*adapter.Task, error)
	ActiveReferrals(ctx context.Context, keys []string) ([]string, error)
	// A Patient's contact details arriving after its referrals (issue 19).
	PatientReferrals(ctx context.Context, practice, patient string) ([]*adapter.Task, error)
	UpdateTask(ctx context.Context, id string, fn func(*adapter.Task) (adapter.TaskChange, error)) (*adapter.Task, error)
}

// Service is the intake application service.
type Service struct {
	parser   *fhir.Parser
	store    Store
	mappings *routing.Mappings
	now      func() time.Time
	newID    func() string
	loc      *time.Location // working days for deadlines are counted here
	stats    Counter        // nil: no report counters
	// staleAfter: a service whose capacity was not verified within it is
	// passed by when routing (<= 0: never).
	staleAfter time.Duration
	cfg        Config
	access     Access
}

// Access is the access policy (adapter/access) as intake asks it: where
// the patient's consents let a referral go.
type Access interface {
	Mark(cs []consent.Consent, t *adapter.Task, steps []adapter.RouteStep, now time.Time) ([]adapter.RouteStep, bool)
	Permits(cs []consent.Consent, t *adapter.Task, service string, now time.Time) bool
}

// WithAccess sets the access policy (default: the directory's, with
// CONSENT_REQUIRED from the configuration).
func WithAccess(a Access) Option { return func(s *Service) { s.access = a } }

// Option configures a Service.
type Option func(*Service)

// WithConfig sets the consent configuration (default DefaultConfig:
// consent required).
func WithConfig(c Config) Option { return func(s *Service) { s.cfg = c } }

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithStaleAfter sets how long a service's capacity counts as current
// (default adapter.DefaultStaleAfter; <= 0 disables staleness).
func WithStaleAfter(d time.Duration) Option { return func(s *Service) { s.staleAfter = d } }

// Counter keeps the report counters (issue 8).
type Counter interface {
	Count(ctx context.Context, incs []adapter.StatInc) error
}

// WithStats counts each accepted referral for the reports. A new
// referral's counters go to the store with it, in the intake script
// (Submission.Stats); c counts where referrals held for consent are placed
// when it comes.
func WithStats(c Counter) Option { return func(s *Service) { s.stats = c } }

// New returns an intake Service.
func New(p *fhir.Parser, s Store, m *routing.Mappings, opts ...Option) *Service {
	svc := &Service{parser: p, store: s, mappings: m, now: time.Now, newID: uuid.NewString, loc: adapter.London(),
		staleAfter: adapter.DefaultStaleAfter, cfg: DefaultConfig()}
	for _, o := range opts {
		o(svc)
	}
	if svc.access == nil {
		svc.access = access.New(m, p.ConsentReader(s), s, m.Network.LinkWorker, svc.cfg.ConsentRequired)
	}
	return svc
}

// Caller is who is submitting, from the token: the one actor type of the
// application services. Org is the practice (the tenant); Title the
// referrer's job title (the referral's source); Subject who signs off.
type Caller = adapter.Caller

// Result is the outcome of creating one resource.
type Result struct {
	Kind     string
	ID       string
	JSON     []byte        // the stored resource
	Existing bool          // true when an earlier identical submission was found
	Task     *adapter.Task // for ServiceRequests
	// Placement says where capacity-aware routing put a new referral: owner,
	// outcome, services passed by and why, waitlist position.
	Placement *adapter.Placement
	// Version is the stored resource's version: above 1 when a Consent
	// replaced an earlier one with the same identifier (a withdrawal).
	Version int
}

// maxAttempts bounds retries when a concurrent request creates the same
// identifier between lookup and write.
const maxAttempts = 4

// CreateServiceRequest accepts one ServiceRequest. cond is the identifier of
// an If-None-Exist header (zero when absent).
func (s *Service) CreateServiceRequest(ctx context.Context, c Caller, body []byte, cond adapter.Identifier) (*Result, error) {
	rs, err := s.Transact(ctx, c, []Entry{{Body: body, Kind: adapter.KindServiceRequest, IfNoneExist: cond}})
	if err != nil {
		return nil, err
	}
	return rs[0], nil
}

// CreateConsent accepts one Consent.
func (s *Service) CreateConsent(ctx context.Context, c Caller, body []byte, cond adapter.Identifier) (*Result, error) {
	rs, err := s.Transact(ctx, c, []Entry{{Body: body, Kind: adapter.KindConsent, IfNoneExist: cond}})
	if err != nil {
		return nil, err
	}
	return rs[0], nil
}

// CreatePatient accepts one Patient (issue 19), created under its NHS number
// (conditional create): a Patient the practice already sent with that
// identifier is answered as it was stored.
func (s *Service) CreatePatient(ctx context.Context, c Caller, body []byte, cond adapter.Identifier) (*Result, error) {
	rs, err := s.Transact(ctx, c, []Entry{{Body: body, Kind: adapter.KindPatient, IfNoneExist: cond}})
	if err != nil {
		return nil, err
	}
	return rs[0], nil
}

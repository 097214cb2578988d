package lifecycle

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/capacity"
	"github.com/social-prescribing/referral-adapter/adapter/consent"
	"github.com/social-prescribing/referral-adapter/adapter/routing"
)

// Config is the queue's environment configuration.
type Config struct {
	Lease            time.Duration `env:"LEASE_DURATION, default=15m"`
	ProviderDeadline time.Duration `env:"PROVIDER_RESPONSE_DEADLINE, default=336h"` // 14 days
	// A referral is closed because the patient could not be reached only
	// after ContactAttemptsMin unsuccessful contact attempts, the first
	// and the last at least ContactAttemptsSpan apart (issue 19). 0 turns
	// the rule off (the zero Config: tests of other things).
	ContactAttemptsMin  int             `env:"CONTACT_ATTEMPTS_MIN, default=3"`
	ContactAttemptsSpan capacity.Period `env:"CONTACT_ATTEMPTS_SPAN, default=7d"`
}

// Validate reports configuration problems.
func (c *Config) Validate() []error {
	var errs []error
	if c.Lease < time.Second || c.Lease > 24*time.Hour {
		errs = append(errs, fmt.Errorf("queue: LEASE_DURATION must be between 1s and 24h"))
	}
	if c.ProviderDeadline < time.Minute {
		errs = append(errs, fmt.Errorf("queue: PROVIDER_RESPONSE_DEADLINE must be at least 1m"))
	}
	if c.ContactAttemptsMin < 0 || c.ContactAttemptsMin > 20 {
		errs = append(errs, fmt.Errorf("queue: CONTACT_ATTEMPTS_MIN must be between 0 (no rule) and 20"))
	}
	if span := c.ContactAttemptsSpan.Duration(); span < 0 || span > 90*24*time.Hour {
		errs = append(errs, fmt.Errorf("queue: CONTACT_ATTEMPTS_SPAN must be between 0 and 90d"))
	}
	return errs
}

// contactRule is the configured rule for closing a referral because the
// patient could not be reached.
func (c Config) contactRule() adapter.ContactRule {
	return adapter.ContactRule{Min: c.ContactAttemptsMin, Span: c.ContactAttemptsSpan.Duration()}
}

// Store is what the queue needs from the store.
type Store interface {
	Task(ctx context.Context, id string) (*adapter.Task, error)
	Claim(ctx context.Context, service, claimant, name, title string, now, until time.Time, exclude ...string) (*adapter.Task, error)
	Unclaim(ctx context.Context, t *adapter.Task, claimant string, now time.Time) (bool, error)
	Renew(ctx context.Context, t *adapter.Task, claimant string, now, until time.Time) (bool, error)
	SweepLeases(ctx context.Context, services []string, now time.Time) (int, error)
	UpdateTask(ctx context.Context, id string, fn func(*adapter.Task) (adapter.TaskChange, error)) (*adapter.Task, error)
	Waiting(ctx context.Context, service string, limit int64) (waiting, claimed []*adapter.Task, err error)
	// The closure summaries owed to practices (issue 19; adapter.ClosureDue).
	ClosuresDue(ctx context.Context, cutoff time.Time, limit int64) ([]adapter.DueClosure, error)
	ClosureSent(ctx context.Context, taskID string) error
	DeferClosure(ctx context.Context, taskID string, at time.Time) error
	RerouteTasks(ctx context.Context, service string, r *adapter.Routing, ids []string) ([]adapter.Rerouted, error)
	// History is a Task's changes, oldest first (did-not-attend steps
	// count as contact attempts).
	History(ctx context.Context, id string) ([]adapter.HistoryEntry, error)
	// Contact attempts (issue 19).
	// AddContactAttempt counts the attempt's report counters with it.
	AddContactAttempt(ctx context.Context, a adapter.ContactAttempt, stats adapter.AttemptStats) (n int, firstReached bool, err error)
	ContactAttempts(ctx context.Context, taskID string) ([]adapter.ContactAttempt, error)
}

// Access is the access policy (adapter/access) as the queue asks it: which
// queues a caller works, which referrals it may see, and whether the
// patient's consent lets a referral go to a service.
type Access interface {
	Works(c adapter.Caller, service string) bool
	SeeTask(ctx context.Context, c adapter.Caller, t *adapter.Task) (bool, error)
	ServiceRelease(ctx context.Context, t *adapter.Task, service string) (consent.Decision, error)
	Gate(ctx context.Context, t *adapter.Task, steps []adapter.RouteStep) ([]adapter.RouteStep, bool, error)
}

// Service runs the queue.
type Service struct {
	store  Store
	access Access
	m      *routing.Mappings
	cfg    Config
	now    func() time.Time
	newID  func() string
	stale  time.Duration
	stats  Counter
	loc    *time.Location
	closer Closer // nil: no closure summaries (tests of other things)
}

// Counter keeps the report counters (issue 8).
type Counter interface {
	Count(ctx context.Context, incs []adapter.StatInc) error
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithStats keeps the report counters: those of a transition are counted
// by the store with the change (TaskChange.Stats), a contact attempt's
// through c.
func WithStats(c Counter) Option { return func(s *Service) { s.stats = c } }

// New returns a queue Service. staleAfter is the capacity staleness used
// when a referral is re-routed.
func New(s Store, acc Access, m *routing.Mappings, cfg Config, staleAfter time.Duration, opts ...Option) *Service {
	svc := &Service{store: s, access: acc, m: m, cfg: cfg, now: time.Now, newID: uuid.NewString, stale: staleAfter, loc: adapter.London()}
	for _, o := range opts {
		o(svc)
	}
	return svc
}

// Caller is who is acting, from the token.
type Caller = adapter.Caller

// Claimed is a claim's result.
type Claimed struct {
	Task         *adapter.Task
	LeaseExpires time.Time
}

// Claim gives the caller the next referral of the service's queue; nil
// when the queue is empty.
//
// A claim is a door patient data leaves by: the claimant gets the
// referral only when the patient's consent lets it go to them (their
// organisation and, for a person, themselves). A referral it may not have
// is given back at once, untouched, and passed by for the next.
func (s *Service) Claim(ctx context.Context, c Caller, service string) (*Claimed, error) {
	if !s.access.Works(c, service) {
		return nil, adapter.NotFound("queue")
	}
	var passed []string
	for range maxPassed {
		now := s.now()
		until := now.Add(s.cfg.Lease)
		t, err := s.store.Claim(ctx, service, c.Subject, c.Name, c.Title, now, until, passed...)
		if err != nil || t == nil {
			return nil, err
		}
		ok, err := s.access.SeeTask(ctx, c, t)
		if err == nil && ok {
			claimsTotal.WithLabelValues(service).Inc()
			return &Claimed{Task: t, LeaseExpires: until}, nil
		}
		if _, uerr := s.store.Unclaim(ctx, t, c.Subject, s.now()); uerr != nil {
			return nil, uerr
		}
		if err != nil {
			return nil, err
		}
		claimsRefused.WithLabelValues(service).Inc()
		passed = append(passed, t.ID)
	}
	return nil, nil
}

// maxPassed bounds how many referrals one claim passes by because the
// claimant may not have them; after that it answers as an empty queue.
const maxPassed = 20

// Renew extends the caller's lease on a referral.
func (s *Service) Renew(ctx context.Context, c Caller, id string) (*Claimed, error) {
	t, err := s.visible(ctx, c, id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	until := now.Add(s.cfg.Lease)
	ok, err := s.store.Renew(ctx, t, c.Subject, now, until)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, adapter.Errorf(adapter.ECONFLICT, "you hold no live lease on this referral: claim it again")
	}
	t.LeaseUntil = until
	return &Claimed{Task: t, LeaseExpires: until}, nil
}

// visible loads a Task the caller may act on: the referring practice its
// own; a link worker or provider one its organisation holds (not while it
// waits for consent or sign-off) and the patient's consent lets it see.
// Anything else answers exactly as a referral that does not exist.
func (s *Service) visible(ctx context.Context, c Caller, id string) (*adapter.Task, error) {
	t, err := s.store.Task(ctx, id)
	if adapter.ErrorCode(err) == adapter.ENOTFOUND {
		return nil, adapter.NotFound("referral")
	}
	if err != nil {
		return nil, err
	}
	if c.Role != adapter.RolePractice && !s.access.Works(c, t.Owner) {
		return nil, adapter.NotFound("referral") // followers read; only holders act
	}
	ok, err := s.access.SeeTask(ctx, c, t)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, adapter.NotFound("referral")
	}
	return t, nil
}

// leasedByOther reports whether someone else holds a live lease.
func leasedByOther(t *adapter.Task, c Caller, now time.Time) bool {
	return t.Claimant != "" && t.Claimant != c.Subject && t.LeaseUntil.After(now)
}

// Transition moves a referral through its lifecycle. Closing it because
// the patient could not be reached needs the configured contact attempts
// first (issue 19); when it ends the referral, the practice receives the
// closure summary.
func (s *Service) Transition(ctx context.Context, c Caller, id string, tr adapter.Transition) (*adapter.Task, error) {
	seen, err := s.visible(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if err := checkSummary(c, seen, tr); err != nil {
		return nil, err
	}
	if again, err := s.retriedCancel(ctx, c, seen, tr); err != nil || again {
		// The practice's cancel sent again (its first answer lost): the
		// referral is cancelled, as asked; nothing changes.
		return seen, err
	}
	if s.retriedClose(c, seen, tr) {
		// The referral ended as asked, but the closure summary may not have
		// been written (the close answered an error, or no answer came):
		// sending the close again sends the summary if it is missing.
		return seen, s.close(ctx, seen, dueFrom(c, tr))
	}
	if c.Role != adapter.RolePractice && adapter.ClosesForNonContact(tr) {
		attempts, err := s.attempts(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := s.cfg.contactRule().Check(attempts); err != nil {
			return nil, err
		}
	}
	var h adapter.HistoryEntry
	var due *adapter.ClosureDue
	var firstContact, firstSupport bool
	t, err := s.store.UpdateTask(ctx, id, func(t *adapter.Task) (adapter.TaskChange, error) {
		now, wasHeld := s.now(), t.Held()
		due = nil // from an earlier run of fn that lost a race
		if c.Role == adapter.RolePractice && tr.To != adapter.TaskCancelled {
			return adapter.TaskChange{}, adapter.Errorf(adapter.EFORBIDDEN, "a referring practice can only cancel its referral")
		}
		if tr.IfVersion != 0 && tr.IfVersion != t.Version {
			return adapter.TaskChange{}, adapter.Errorf(adapter.EVERSION,
				"the Task is at version %d, not %d: read it again and make the change on the current version", t.Version, tr.IfVersion)
		}
		if leasedByOther(t, c, now) {
			return adapter.TaskChange{}, adapter.Errorf(adapter.ECONFLICT, "another worker holds this referral until %s", t.LeaseUntil.Format(time.RFC3339))
		}
		tr.By, tr.At = c.Actor, now
		var err error
		if h, err = t.Apply(tr); err != nil {
			return adapter.TaskChange{}, err
		}
		firstContact, firstSupport = milestones(t, tr, now)
		if t.Status != adapter.TaskRequested {
			t.LeaseUntil = time.Time{}
			if t.Claimant == "" && c.Role != adapter.RolePractice {
				t.TakeOver(c.Subject, c.Name, c.Title, now)
			}
		}
		if s.owesClosure(t, wasHeld) {
			due = dueFrom(c, tr)
		}
		ch := adapter.TaskChange{History: h, Closure: due, Stats: s.transitionStats(t, h, firstContact, firstSupport)}
		if t.PartOf != "" && h.BusinessStatus == adapter.BSProviderDecline {
			ch.Parent, err = s.tellParent(ctx, t.PartOf, s.serviceName(t.Owner)+" declined the onward referral ("+h.Reason+
				"): please refer on to another service", h.Reason, h.At)
		}
		return ch, err
	})
	if err != nil {
		return nil, err
	}
	if due != nil {
		if err := s.close(ctx, t, due); err != nil {
			return t, err
		}
	}
	return t, nil
}

// serviceName is the directory name of a service, or its id.
func (s *Service) serviceName(id string) string {
	if svc, ok := s.m.Service(id); ok {
		return svc.Name
	}
	return id
}

// retriedClose reports whether tr asks again for the ending the referral's
// own Task already has, from its service, which held it (a named contact
// took it): a retry of a close, answered with the Task as it is (and its
// closure summary, if missing).
// retriedCancel reports whether a practice's cancel is one it sent
// before: the referral is cancelled, and by this practice (the last entry
// of its history). A referral that ended otherwise still answers 409.
func (s *Service) retriedCancel(ctx context.Context, c Caller, t *adapter.Task, tr adapter.Transition) (bool, error) {
	if c.Role != adapter.RolePractice || t.Status != adapter.TaskCancelled || tr.To != adapter.TaskCancelled || tr.IfVersion != 0 {
		return false, nil
	}
	hist, err := s.store.History(ctx, t.ID)
	if err != nil || len(hist) == 0 {
		return false, err
	}
	last := hist[len(hist)-1]
	return last.To == string(adapter.TaskCancelled) && last.By.Role == adapter.RolePractice && last.By.Org == c.Org, nil
}

func (s *Service) retriedClose(c Caller, t *adapter.Task, tr adapter.Transition) bool {
	return s.closer != nil && t.Status.Terminal() && tr.To == t.Status && t.ID == t.ReferralID && tr.IfVersion == 0 &&
		(tr.BusinessStatus == "" || tr.BusinessStatus == t.BusinessStatus.Code) &&
		c.Role != adapter.RolePractice && s.access.Works(c, t.Owner) && t.Claimant != ""
}

// milestones records the first contact and the start of support on the
// Task, and says whether this transition reached them. Moving to
// in-progress counts as both when not recorded before.
func milestones(t *adapter.Task, tr adapter.Transition, now time.Time) (contact, support bool) {
	bs := tr.BusinessStatus
	if t.Contacted.IsZero() && (bs == adapter.BSContacted || bs == adapter.BSFirstAppt || bs == adapter.BSSupportStarted || tr.To == adapter.TaskInProgress) {
		t.Contacted, contact = now, true
	}
	if t.Supported.IsZero() && (bs == adapter.BSSupportStarted || bs == adapter.BSFirstAppt || tr.To == adapter.TaskInProgress && bs != adapter.BSOnwardReferred) {
		t.Supported, support = now, true
	}
	return contact, support
}

// transitionStats are the report counters a transition that left t as it
// is adds to (none when the Service keeps no reports); the store counts
// them with the change, so a change stored is a change counted.
func (s *Service) transitionStats(t *adapter.Task, h adapter.HistoryEntry, contact, support bool) []adapter.StatInc {
	if s.stats == nil {
		return nil
	}
	day := adapter.StatsDay(h.At, s.loc)
	var incs []adapter.StatInc
	for _, k := range adapter.TransitionStats(t, h, contact, support) {
		incs = append(incs, adapter.StatInc{Day: day, Key: k, Practice: t.Practice, N: 1})
	}
	return incs
}

// ReferOn refers the patient on from a link-worker referral to a VCSE
// service: a child Task (partOf the link-worker Task) in the provider's
// queue, holding a capacity slot there.
func (s *Service) ReferOn(ctx context.Context, c Caller, id, service, reason string) (*adapter.Task, *adapter.Task, error) {
	target, ok := s.m.Service(service)
	if !ok || target.Kind != adapter.KindVCSE {
		return nil, nil, adapter.Errorf(adapter.EVALUE, "service %q is not a VCSE service in the directory", adapter.Clip(service, adapter.EchoMax)).At("service")
	}
	if c.Role != adapter.RoleLinkWorker {
		return nil, nil, adapter.Errorf(adapter.EFORBIDDEN, "only link workers refer on")
	}
	t, err := s.visible(ctx, c, id)
	if err != nil {
		return nil, nil, err
	}
	// Refer-on is a door: the referral goes to the target's organisation
	// only when the patient's consent lets it.
	d, err := s.access.ServiceRelease(ctx, t, target.ID)
	if err != nil {
		return nil, nil, err
	}
	if !d.Permit {
		return nil, nil, adapter.Errorf(adapter.EBUSINESSRULE,
			"the patient's consent does not let the referral be shared with %s: choose another service, or ask the patient", target.Name).At("service")
	}
	var child *adapter.Task
	parent, err := s.store.UpdateTask(ctx, id, func(t *adapter.Task) (adapter.TaskChange, error) {
		now := s.now()
		to := adapter.TaskInProgress
		h, err := t.Apply(adapter.Transition{To: to, BusinessStatus: adapter.BSOnwardReferred, Reason: reason, By: c.Actor, At: now})
		if err != nil {
			return adapter.TaskChange{}, err
		}
		t.StatusReason = "Referred on to " + target.Name
		child = s.childTask(t, target, now)
		return adapter.TaskChange{History: h, Child: child}, nil
	})
	if err == adapter.ErrNoCapacity {
		return nil, nil, adapter.Errorf(adapter.ECONFLICT, "%s cannot take a referral now (paused, closed, waitlisting or full): choose another service", target.Name).At("service")
	}
	if err != nil {
		return nil, nil, err
	}
	return parent, child, nil
}

func (s *Service) childTask(parent *adapter.Task, target *adapter.Service, now time.Time) *adapter.Task {
	bs, _ := adapter.BusinessStatus(adapter.BSRouted)
	return &adapter.Task{
		ID: s.newID(), ReferralID: parent.ReferralID, PartOf: parent.ID, Practice: parent.Practice, Patient: parent.Patient,
		Requester: parent.Requester, Owner: target.ID, Status: adapter.TaskRequested, BusinessStatus: bs,
		StatusReason: "Referred on by the link worker to " + target.Name, Priority: parent.Priority, Rule: parent.Rule,
		AuthoredOn: now, LastModified: now, Version: 1, FirstContactDue: now.Add(s.cfg.ProviderDeadline),
		Reserved: target.ID, Source: parent.Source,
		// The same referral: the same labels and date for consent decisions,
		// the same area, need and reach for commissioners' reports.
		Labels: parent.Labels, Written: parent.Written, Area: parent.Area, Need: parent.Need,
		AgeBand: parent.AgeBand, Sex: parent.Sex,
	}
}

// Waiting lists a service's queue for a caller who works it: the
// referrals it may see (the patient's consent lets them go to the caller).
func (s *Service) Waiting(ctx context.Context, c Caller, service string, limit int64) (waiting, claimed []*adapter.Task, err error) {
	if !s.access.Works(c, service) {
		return nil, nil, adapter.NotFound("queue")
	}
	waiting, claimed, err = s.store.Waiting(ctx, service, limit)
	if err != nil {
		return nil, nil, err
	}
	if waiting, err = s.seen(ctx, c, waiting); err != nil {
		return nil, nil, err
	}
	claimed, err = s.seen(ctx, c, claimed)
	return waiting, claimed, err
}

// seen keeps the Tasks the caller may see.
func (s *Service) seen(ctx context.Context, c Caller, ts []*adapter.Task) ([]*adapter.Task, error) {
	out := ts[:0]
	for _, t := range ts {
		ok, err := s.access.SeeTask(ctx, c, t)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, t)
		}
	}
	return out, nil
}

// SetClock replaces the clock (tests, and operators replaying a deadline).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Handover makes the caller the named contact of a referral its
// organisation holds (issue 9): an explicit handover between workers of
// the service, e.g. when a link worker is away or leaves. It is
// timestamped on the Task (the named contact note says so) and recorded in
// the Task history; a live lease passes to the caller.
func (s *Service) Handover(ctx context.Context, c Caller, id string) (*adapter.Task, error) {
	if c.Role != adapter.RoleLinkWorker && c.Role != adapter.RoleProvider {
		return nil, adapter.Errorf(adapter.EFORBIDDEN, "a referral is handed over between link workers or providers")
	}
	if _, err := s.visible(ctx, c, id); err != nil {
		return nil, err
	}
	t, err := s.store.UpdateTask(ctx, id, func(t *adapter.Task) (adapter.TaskChange, error) {
		now := s.now()
		switch {
		case t.Status.Terminal():
			return adapter.TaskChange{}, adapter.Errorf(adapter.ECONFLICT, "this referral has ended (%s): there is nothing to hand over", t.Status)
		case t.ConsentHeld():
			return adapter.TaskChange{}, adapter.Errorf(adapter.ECONFLICT, "this referral waits for the patient's consent")
		case t.Status == adapter.TaskRequested && !t.LeaseUntil.After(now):
			return adapter.TaskChange{}, adapter.Errorf(adapter.ECONFLICT, "nobody holds this referral yet: claim it from the queue")
		}
		if !t.TakeOver(c.Subject, c.Name, c.Title, now) {
			return adapter.TaskChange{}, adapter.Errorf(adapter.ECONFLICT, "you are already the named contact of this referral")
		}
		return adapter.TaskChange{History: t.Note(now, c.Actor, t.BusinessStatus.Code, "handed over to a new named contact")}, nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

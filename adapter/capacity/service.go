package capacity

import (
	"context"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/routing"
)

// Store is what the capacity service needs from the store.
type Store interface {
	Capacities(ctx context.Context, ids []string) (map[string]adapter.Capacity, error)
	SeedCapacity(ctx context.Context, seeds []adapter.Capacity, now time.Time) (int, error)
	UpdateCapacity(ctx context.Context, id string, seed adapter.Capacity, ch adapter.CapacityChange,
		fn func(*adapter.Capacity) error) (adapter.Capacity, error)
	RerouteWaiting(ctx context.Context, service string, r *adapter.Routing) ([]adapter.Rerouted, error)
	PromoteWaitlist(ctx context.Context, service string, r *adapter.Routing, limit int) ([]string, error)
}

// Service manages the directory's live capacity.
type Service struct {
	store      Store
	m          *routing.Mappings
	gate       adapter.ConsentGate
	staleAfter time.Duration
	now        func() time.Time
}

// New returns a capacity Service for the directory in m. gate decides,
// when waiting referrals move (a closure re-routes them, a waitlist
// moves up), where the patient's consent lets each go (access.Policy.Gate).
func New(s Store, m *routing.Mappings, gate adapter.ConsentGate, cfg Config) *Service {
	return &Service{store: s, m: m, gate: gate, staleAfter: cfg.StaleAfter.Duration(), now: time.Now}
}

// StaleAfter is how long a capacity counts as current (<= 0: forever).
func (s *Service) StaleAfter() time.Duration { return s.staleAfter }

// Seed records every directory service's capacity from the mappings
// (open, maxOpen, verified now) where none is recorded yet; live values are
// never overwritten. It returns how many services were seeded.
func (s *Service) Seed(ctx context.Context) (int, error) {
	var seeds []adapter.Capacity
	for _, svc := range s.m.Services() {
		seeds = append(seeds, adapter.Capacity{Service: svc.ID, MaxOpen: svc.InitialMaxOpen})
	}
	return s.store.SeedCapacity(ctx, seeds, s.now())
}

// View is a service's capacity as callers see it.
type View struct {
	adapter.Capacity
	Stale   bool
	Gravity string // Gravity SDOHCC capacity status code
	Notes   string // waitlist length, estimated wait, free places
}

func (s *Service) view(c adapter.Capacity, now time.Time) View {
	return View{Capacity: c, Stale: c.Stale(now, s.staleAfter),
		Gravity: c.GravityStatus(now, s.staleAfter), Notes: c.Notes(now, s.staleAfter)}
}

// Get returns a directory service's capacity; ENOTFOUND for a service not
// in the directory.
func (s *Service) Get(ctx context.Context, id string) (View, error) {
	svc, err := s.service(id)
	if err != nil {
		return View{}, err
	}
	m, err := s.store.Capacities(ctx, []string{svc.ID})
	if err != nil {
		return View{}, err
	}
	return s.view(m[svc.ID], s.now()), nil
}

// Directory returns every directory service's capacity by id.
func (s *Service) Directory(ctx context.Context) (map[string]View, error) {
	var ids []string
	for _, svc := range s.m.Services() {
		ids = append(ids, svc.ID)
	}
	m, err := s.store.Capacities(ctx, ids)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make(map[string]View, len(m))
	for id, c := range m {
		out[id] = s.view(c, now)
	}
	return out, nil
}

func (s *Service) service(id string) (*adapter.Service, error) {
	svc, ok := s.m.Service(id)
	if !ok {
		return nil, adapter.Errorf(adapter.ENOTFOUND, "HealthcareService/%s is not in the directory", adapter.Clip(id, adapter.EchoMax))
	}
	return svc, nil
}

func (s *Service) routing() *adapter.Routing {
	r := s.m.Routing(s.now(), s.staleAfter)
	r.Gate = s.gate
	return r
}

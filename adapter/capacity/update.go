package capacity

import (
	"context"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/jobs"
)

// Update is what a provider says about its service's capacity. It replaces
// the provider's fields whole (PUT semantics) and confirms the capacity as
// current, even when nothing changed.
type Update struct {
	Status       adapter.CapacityStatus
	MaxOpen      int // 0 = unlimited
	WeeklyIntake int // 0 = not stated
}

// maxCount bounds caseload and intake figures: far above any real service,
// low enough that a typo is caught.
const maxCount = 100000

// Validate checks an update, reporting every problem at once.
func (u Update) Validate() error {
	var errs []*adapter.Error
	if !u.Status.Valid() {
		errs = append(errs, adapter.Errorf(adapter.ECODEINVALID, "status must be open, waitlist, paused or closed").At("status"))
	}
	if u.MaxOpen < 0 || u.MaxOpen > maxCount {
		errs = append(errs, adapter.Errorf(adapter.EVALUE, "maxOpen must be between 0 (unlimited) and %d", maxCount).At("maxOpen"))
	}
	if u.WeeklyIntake < 0 || u.WeeklyIntake > maxCount {
		errs = append(errs, adapter.Errorf(adapter.EVALUE, "weeklyIntake must be between 0 (not stated) and %d", maxCount).At("weeklyIntake"))
	}
	if len(errs) == 0 {
		return nil
	}
	first := *errs[0]
	first.Issues = errs[1:]
	return &first
}

// UpdateResult is the capacity after an update and what it set in motion.
type UpdateResult struct {
	View
	Rerouted []adapter.Rerouted // referrals moved on because the service closed
	Promoted []string           // waitlisted referrals moved into the queue
}

// promoteLimit bounds the waitlist entries one call moves.
const promoteLimit = 100

// Update records a provider's capacity update for a directory service,
// timestamped and logged with who made it. When the service is closed, the
// referrals waiting there (queued and not yet claimed, or waitlisted) are
// re-routed by the same rules as at intake. When it can take referrals,
// its waitlist moves into its queue while there is room.
func (s *Service) Update(ctx context.Context, id string, u Update, ch adapter.CapacityChange) (*UpdateResult, error) {
	svc, err := s.service(id)
	if err != nil {
		return nil, err
	}
	if err := u.Validate(); err != nil {
		return nil, err
	}
	if ch.At.IsZero() {
		ch.At = s.now()
	}
	seed := adapter.Capacity{MaxOpen: svc.InitialMaxOpen}
	c, err := s.store.UpdateCapacity(ctx, svc.ID, seed, ch, func(c *adapter.Capacity) error {
		c.Status, c.MaxOpen, c.WeeklyIntake = u.Status, u.MaxOpen, u.WeeklyIntake
		return nil
	})
	if err != nil {
		return nil, err
	}
	res := &UpdateResult{}
	switch {
	case c.Status == adapter.CapacityClosed:
		res.Rerouted, err = s.store.RerouteWaiting(ctx, svc.ID, s.routing())
	case c.Waiting > 0 && c.Skip(s.now(), s.staleAfter) == "":
		res.Promoted, err = s.store.PromoteWaitlist(ctx, svc.ID, s.routing(), promoteLimit)
	}
	if err != nil {
		return nil, err
	}
	v, err := s.Get(ctx, svc.ID)
	if err != nil {
		return nil, err
	}
	res.View = v
	return res, nil
}

// Promote moves referrals from the head of a service's waitlist into its
// queue while it can take them, for the job that runs when slots free up.
// It returns the Task ids moved.
func (s *Service) Promote(ctx context.Context, id string) ([]string, error) {
	svc, err := s.service(id)
	if err != nil {
		return nil, err
	}
	return s.store.PromoteWaitlist(ctx, svc.ID, s.routing(), promoteLimit)
}

// PromoteWaitlists promotes every service's waitlist into its free places
// (job waitlist-promotion).
func (s *Service) PromoteWaitlists(ctx context.Context, _ int64) (jobs.Report, error) {
	n := 0
	for _, svc := range s.m.Services() {
		ids, err := s.Promote(ctx, svc.ID)
		if err != nil {
			return jobs.Report{"promoted": n}, err
		}
		n += len(ids)
	}
	return jobs.Report{"promoted": n}, nil
}

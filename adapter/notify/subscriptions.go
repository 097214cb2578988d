package notify

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// MaxSubscriptionsPerPractice bounds how many Subscriptions one practice
// may hold, so one tenant cannot multiply every event's deliveries.
const MaxSubscriptionsPerPractice = 10

// SubscriptionStore is what the Subscription service needs from the store.
type SubscriptionStore interface {
	CreateSubscription(ctx context.Context, s *adapter.Subscription) error
	Subscription(ctx context.Context, id string) (*adapter.Subscription, error)
	SubscriptionsFor(ctx context.Context, practice string) ([]*adapter.Subscription, error)
	DeleteSubscription(ctx context.Context, practice, id string) error
	DeadLetters(ctx context.Context, limit int) ([]adapter.DeadLetter, error)
}

// Subscriptions is the application service behind the Subscription API.
type Subscriptions struct {
	parser    *fhir.Parser
	store     SubscriptionStore
	allowHTTP bool
	addrs     addressPolicy
	now       func() time.Time
	newID     func() string
}

// NewSubscriptions returns the Subscription service.
func NewSubscriptions(cfg Config, p *fhir.Parser, s SubscriptionStore) *Subscriptions {
	return &Subscriptions{parser: p, store: s, allowHTTP: cfg.AllowHTTP, addrs: newAddressPolicy(cfg), now: time.Now, newID: uuid.NewString}
}

// Create validates a practice's R4 Subscription and stores it, requested
// (its handshake follows) or off. Nothing is stored when it is refused.
func (s *Subscriptions) Create(ctx context.Context, practice string, body []byte) (*adapter.Subscription, error) {
	res, err := s.parser.Parse(body, "Subscription")
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	sub, err := fhir.SubscriptionFrom(res, fhir.SubscriptionRules{Practice: practice, Now: now, AllowHTTP: s.allowHTTP})
	if err != nil {
		return nil, err
	}
	if err := s.addrs.checkEndpoint(sub.Endpoint); err != nil {
		return nil, err
	}
	have, err := s.store.SubscriptionsFor(ctx, practice)
	if err != nil {
		return nil, err
	}
	if len(have) >= MaxSubscriptionsPerPractice {
		return nil, adapter.Errorf(adapter.EBUSINESSRULE, "a practice may hold at most %d Subscriptions; delete one first", MaxSubscriptionsPerPractice)
	}
	sub.ID, sub.Created, sub.Updated, sub.Version = s.newID(), now, now, 1
	if err := s.store.CreateSubscription(ctx, sub); err != nil {
		return nil, err
	}
	return sub, nil
}

// Get returns one of the practice's Subscriptions; another practice's is
// not found.
func (s *Subscriptions) Get(ctx context.Context, practice, id string) (*adapter.Subscription, error) {
	sub, err := s.store.Subscription(ctx, id)
	if err != nil {
		return nil, err
	}
	if sub.Practice != practice {
		return nil, adapter.Errorf(adapter.ENOTFOUND, "Subscription not found")
	}
	return sub, nil
}

// Delete removes one of the practice's Subscriptions.
func (s *Subscriptions) Delete(ctx context.Context, practice, id string) error {
	return s.store.DeleteSubscription(ctx, practice, id)
}

// DeadLetters lists notifications given up on, newest first.
func (s *Subscriptions) DeadLetters(ctx context.Context, limit int) ([]adapter.DeadLetter, error) {
	return s.store.DeadLetters(ctx, limit)
}

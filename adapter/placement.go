package adapter

import (
	"context"
	"fmt"
	"time"
)

// SkipReason says why routing passed a candidate service by.
type SkipReason string

// Skip reasons.
const (
	SkipPaused         SkipReason = "paused"
	SkipClosed         SkipReason = "closed"
	SkipStale          SkipReason = "stale" // capacity not verified within the configured period
	SkipAtCapacity     SkipReason = "at-capacity"
	SkipWaitlistOnly   SkipReason = "waitlist" // status waitlist: takes referrals onto its waitlist only
	SkipIneligibleAge  SkipReason = "ineligible-age"
	SkipIneligibleArea SkipReason = "ineligible-area"
	// SkipNoConsent: the patient's consent does not permit disclosing the
	// referral to the organisation providing the service (issue 17).
	SkipNoConsent SkipReason = "no-consent"
)

// skipPhrases finish the sentence "<service name> ..." for a Task's
// statusReason. They name no patient data.
var skipPhrases = map[SkipReason]string{
	SkipPaused:         "is paused",
	SkipClosed:         "is closed",
	SkipStale:          "has not confirmed its capacity recently",
	SkipAtCapacity:     "is at capacity",
	SkipWaitlistOnly:   "is taking referrals onto its waitlist only",
	SkipIneligibleAge:  "does not take people of the patient's age",
	SkipIneligibleArea: "does not cover the patient's area",
	SkipNoConsent:      "is not one the patient's consent allows the referral to be shared with",
}

// Phrase finishes the sentence "<service name> ..." for the reason.
func (r SkipReason) Phrase() string { return skipPhrases[r] }

// SkipPhrases returns every reason's phrase, for the store's scripts.
func SkipPhrases() map[SkipReason]string {
	out := make(map[SkipReason]string, len(skipPhrases))
	for k, v := range skipPhrases {
		out[k] = v
	}
	return out
}

// RouteStep is one place a referral may go, after eligibility is known: a
// service (Skip set when the patient is not eligible for it, or their
// consent does not cover it), or a waitlist step ("waitlist at the first
// earlier candidate that keeps one"). A LastResort step replaces the
// network's link workers as the last resort when the patient's consent does
// not cover them: the referral then waits on that service's waitlist
// rather than go to anyone the patient did not agree to.
type RouteStep struct {
	Service    string
	Waitlist   bool
	Skip       SkipReason
	LastResort bool
}

// Routing is what the store needs to place referrals by capacity.
type Routing struct {
	Now        time.Time
	StaleAfter time.Duration     // <= 0: capacity never goes stale
	LinkWorker string            // the network's link-worker service: the last resort
	Names      map[string]string // service id → display name, for statusReason text (read only: it may be shared)
	// Gate decides, each time the store moves a waiting referral (waitlist
	// promotion, re-routing), which services the patient's consent lets it
	// go to. The store refuses to move referrals without one.
	Gate ConsentGate
}

// ConsentGate marks, on the steps a Task is about to be placed along, the
// services its patient's consent does not let the referral go to (Skip
// SkipNoConsent), and ends them with a LastResort step when the link
// workers are among those (see access.Policy.Gate). ok is false when no
// service of the steps may receive the referral.
type ConsentGate func(ctx context.Context, t *Task, steps []RouteStep) (marked []RouteStep, ok bool, err error)

// OpenGate lets a referral go to every service: for deployments that do not
// require consent (CONSENT_REQUIRED=false) and for tests of other things.
func OpenGate(_ context.Context, _ *Task, steps []RouteStep) ([]RouteStep, bool, error) {
	return steps, true, nil
}

// Name returns a service's display name, or its id.
func (r *Routing) Name(id string) string {
	if n := r.Names[id]; n != "" {
		return n
	}
	return id
}

// Outcome is where routing left a referral.
type Outcome string

// Outcomes.
const (
	OutcomeRouted     Outcome = "routed"              // a slot was reserved at a candidate
	OutcomeWaitlisted Outcome = "waitlisted"          // on a candidate's waitlist
	OutcomeRedirected Outcome = "redirected-capacity" // to the network's link workers
)

// Skip is one candidate routing passed by, and why.
type Skip struct {
	Service string     `json:"svc"`
	Reason  SkipReason `json:"why"`
}

// Placement is the result of capacity-aware routing for one referral.
type Placement struct {
	Owner    string
	Outcome  Outcome
	Skipped  []Skip
	Reserved bool // a slot is held at Owner
	// OverCapacity marks a referral left with the link workers although they
	// could not take it either: never sent back to the GP.
	OverCapacity bool
	OverReason   SkipReason // why the link workers could not take it, with OverCapacity
	Position     int        // waitlist position (1 = next), when waitlisted
	WaitDays     int        // estimated wait in days; 0 when the service gave no weekly intake
}

// BusinessStatusCode is the Task.businessStatus code for the placement.
func (p *Placement) BusinessStatusCode() string {
	switch {
	case p.OverCapacity:
		return BSOverCapacity
	case p.Outcome == OutcomeWaitlisted:
		return BSWaitlisted
	case p.Outcome == OutcomeRedirected:
		return BSRedirected
	}
	return BSRouted
}

// ReasonFormats are the statusReason sentences, as fmt/Lua format strings.
// The store's scripts fill the same strings, so the words live here only.
var ReasonFormats = struct {
	Routed      string // service
	RoutedAfter string // service, skipped service, phrase
	// RoutedAnyway: the last resort took the referral although routing
	// passed it by too (the patient is outside its area, say): service,
	// phrase.
	RoutedAnyway string
	Waitlisted   string // service, position, days
	WaitlistedNE string // service, position (no estimate)
	Redirected   string // skipped service, phrase
	OverCapacity string // link-worker service, phrase
	Promoted     string // service
	Rerouted     string // closed service, placement sentence
	// HeldNoConsent: re-routed, but no other service the referral could go
	// to is one the patient's consent covers.
	HeldNoConsent string
}{
	Routed:        "Routed to %s",
	RoutedAfter:   "Routed to %s because %s %s",
	RoutedAnyway:  "Routed to %s, the last resort, although it %s",
	Waitlisted:    "Waitlisted at %s, position %d, estimated wait %d days",
	WaitlistedNE:  "Waitlisted at %s, position %d (the service gives no estimated wait)",
	Redirected:    "Redirected to link workers because %s %s",
	OverCapacity:  "Placed with %s, which %s, because no other service could take the referral",
	Promoted:      "Routed to %s from its waitlist",
	Rerouted:      "%s closed. %s",
	HeldNoConsent: "On hold awaiting the patient's consent: no other service the referral could go to is one the patient agreed to share it with",
}

// Reason is the Task.statusReason sentence for the placement.
func (p *Placement) Reason(r *Routing) string {
	f := ReasonFormats
	switch {
	case p.OverCapacity:
		return fmt.Sprintf(f.OverCapacity, r.Name(p.Owner), p.OverReason.Phrase())
	case p.Outcome == OutcomeWaitlisted && p.WaitDays > 0:
		return fmt.Sprintf(f.Waitlisted, r.Name(p.Owner), p.Position, p.WaitDays)
	case p.Outcome == OutcomeWaitlisted:
		return fmt.Sprintf(f.WaitlistedNE, r.Name(p.Owner), p.Position)
	case len(p.Skipped) == 0:
		return fmt.Sprintf(f.Routed, r.Name(p.Owner))
	case p.Outcome == OutcomeRedirected:
		return fmt.Sprintf(f.Redirected, r.Name(p.Skipped[0].Service), p.Skipped[0].Reason.Phrase())
	}
	for _, s := range p.Skipped {
		if s.Service == p.Owner {
			return fmt.Sprintf(f.RoutedAnyway, r.Name(p.Owner), s.Reason.Phrase())
		}
	}
	return fmt.Sprintf(f.RoutedAfter, r.Name(p.Owner), r.Name(p.Skipped[0].Service), p.Skipped[0].Reason.Phrase())
}

// Capacity reports whether the skip was for lack of capacity (paused,
// closed, full, waitlisting or unconfirmed), as opposed to eligibility:
// reports count these as demand the service could not meet. The store's
// cap_for_capacity (capacity.lua) says the same; adapter/redis's
// placement_rule_test.go checks that it does.
func (r SkipReason) Capacity() bool {
	return r != SkipIneligibleAge && r != SkipIneligibleArea && r != SkipNoConsent
}

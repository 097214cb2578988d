package adapter

import (
	"fmt"
	"time"
)

// CapacityStatus is what a service says about taking new referrals.
type CapacityStatus string

// Capacity statuses a provider can set.
const (
	CapacityOpen     CapacityStatus = "open"     // taking referrals up to its caseload limit
	CapacityWaitlist CapacityStatus = "waitlist" // taking referrals onto its waitlist only
	CapacityPaused   CapacityStatus = "paused"   // temporarily taking nothing
	CapacityClosed   CapacityStatus = "closed"   // not running (e.g. lost its funding)
)

// Valid reports whether s is one of the capacity statuses.
func (s CapacityStatus) Valid() bool {
	switch s {
	case CapacityOpen, CapacityWaitlist, CapacityPaused, CapacityClosed:
		return true
	}
	return false
}

// DefaultStaleAfter is how long a service's capacity counts as current
// after it was last verified, unless configured otherwise.
const DefaultStaleAfter = 7 * 24 * time.Hour

// Capacity is a service's live capacity. MaxOpen and WeeklyIntake are set by
// the provider; Reserved is kept by the store (one per referral holding a
// slot); Waiting is the length of the service's waitlist.
type Capacity struct {
	Service      string
	Status       CapacityStatus
	MaxOpen      int // caseload limit; 0 = unlimited
	WeeklyIntake int // new people taken per week; 0 = not stated
	Reserved     int
	Waiting      int
	LastVerified time.Time
}

// Stale reports whether the capacity was last verified more than after ago.
// after <= 0 disables staleness; a capacity never verified is not stale
// (nothing is known to be out of date).
func (c Capacity) Stale(now time.Time, after time.Duration) bool {
	return after > 0 && !c.LastVerified.IsZero() && now.Sub(c.LastVerified) > after
}

// HasRoom reports whether one more referral fits under the caseload limit.
func (c Capacity) HasRoom() bool { return c.MaxOpen == 0 || c.Reserved < c.MaxOpen }

// Available is the number of free slots; -1 means unlimited.
func (c Capacity) Available() int {
	if c.MaxOpen == 0 {
		return -1
	}
	return max(0, c.MaxOpen-c.Reserved)
}

// Skip returns why routing would pass the service by now, or "" when it
// can take one more referral. The store places referrals by the same rule
// in Lua (adapter/redis/lua/capacity.lua cap_skip), atomically with the
// reservation; adapter/redis/placement_rule_test.go holds the two to one
// table of cases.
func (c Capacity) Skip(now time.Time, staleAfter time.Duration) SkipReason {
	switch {
	case c.Status == CapacityPaused:
		return SkipPaused
	case c.Status == CapacityClosed:
		return SkipClosed
	case c.Stale(now, staleAfter):
		return SkipStale
	case c.Status == CapacityWaitlist:
		return SkipWaitlistOnly
	case !c.HasRoom():
		return SkipAtCapacity
	}
	return ""
}

// EstimatedWaitDays estimates the wait of the person at a waitlist
// position from the weekly intake: ceil(position × 7 / weekly). ok is false
// when the service has not stated its weekly intake.
func EstimatedWaitDays(position, weekly int) (days int, ok bool) {
	if weekly <= 0 || position <= 0 {
		return 0, false
	}
	return (position*7 + weekly - 1) / weekly, true
}

// Capacity status codes of the HL7 Gravity SDOH Clinical Care value set
// SDOHCC-ValueSetCapacityStatus (STU 3).
const (
	GravityCapacity   = "capacity"
	GravityNoCapacity = "no-capacity"
	GravityWaitlist   = "waitlist"
	GravityAssessment = "additional-assessment-required"
)

var gravityDisplay = map[string]string{
	GravityCapacity:   "Has Capacity",
	GravityNoCapacity: "No Capacity",
	GravityWaitlist:   "No Capacity - Has Waitlist",
	GravityAssessment: "Additional Assessment Required",
}

// GravityCodes lists the capacity status codes a directory search accepts.
func GravityCodes() []string {
	return []string{GravityCapacity, GravityNoCapacity, GravityWaitlist, GravityAssessment}
}

// GravityDisplay is the display of a Gravity capacity status code.
func GravityDisplay(code string) string { return gravityDisplay[code] }

// GravityStatus maps the capacity onto the Gravity capacity status codes:
// open with room is capacity; full, paused or closed is no-capacity; a
// waitlist is waitlist; capacity not verified recently is
// additional-assessment-required (the referrer must ask the service).
func (c Capacity) GravityStatus(now time.Time, staleAfter time.Duration) string {
	switch c.Skip(now, staleAfter) {
	case "":
		return GravityCapacity
	case SkipStale:
		return GravityAssessment
	case SkipWaitlistOnly:
		return GravityWaitlist
	}
	return GravityNoCapacity
}

// Notes says in plain words what the capacity status means for a referrer:
// free places, waitlist length and estimated wait, or why nothing is taken.
func (c Capacity) Notes(now time.Time, staleAfter time.Duration) string {
	switch c.Skip(now, staleAfter) {
	case SkipPaused:
		return "Paused: not taking referrals for now"
	case SkipClosed:
		return "Closed: not taking referrals"
	case SkipStale:
		return "Capacity not confirmed since " + c.LastVerified.UTC().Format("2 January 2006") + "; contact the service before referring"
	case SkipWaitlistOnly:
		return c.waitNote()
	case SkipAtCapacity:
		return fmt.Sprintf("At capacity (%d of %d places in use)", c.Reserved, c.MaxOpen)
	}
	if c.MaxOpen == 0 {
		return "Taking referrals"
	}
	return fmt.Sprintf("%d of %d places free", c.Available(), c.MaxOpen)
}

func (c Capacity) waitNote() string {
	s := fmt.Sprintf("%d waiting", c.Waiting)
	if d, ok := EstimatedWaitDays(c.Waiting+1, c.WeeklyIntake); ok {
		s += fmt.Sprintf(", estimated wait %d days", d)
	}
	return s
}

// CapacityChange says who changed a capacity, and when, for the log.
type CapacityChange struct {
	By   string // token subject
	Role string
	Org  string
	At   time.Time
}

// Rerouted is a referral moved on because its service closed.
type Rerouted struct {
	TaskID    string
	Placement Placement
	// Held: no other service the referral could go to is one the patient's
	// consent covers: it waits for consent (on-hold, awaiting-consent).
	Held bool
}

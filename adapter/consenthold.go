package adapter

import (
	"fmt"
	"time"
)

// Consent holds (issue 4). A referral needs the patient's consent to
// disclose it to the social prescribing service. Without one it is
// accepted but held (on-hold, awaiting-consent) and not queued; it is
// released when a consent permitting the disclosure arrives, paused the
// same way when that consent is withdrawn, and cancelled when no consent
// arrives within the configured time. These are the adapter's own moves,
// not transitions a caller can ask for.

// Task.statusReason texts of consent holds: plain words for the referrer.
const (
	ReasonAwaitingConsent = "awaiting consent"
	ReasonConsentWithdraw = "paused: the patient's consent no longer lets the referral be shared with the service holding it (withdrawn, or a later consent refuses it)"
)

// adapterActor is the adapter itself, in the history of its own moves.
var adapterActor = Actor{Subject: "referral-adapter", Role: "system"}

// ConsentHeld reports whether the Task is on hold waiting for consent.
func (t *Task) ConsentHeld() bool {
	return t.Status == TaskOnHold && !t.HeldSince.IsZero()
}

// AwaitConsent makes a new Task wait for consent: on-hold, awaiting
// consent, returning to its status (requested) and business status when
// consent arrives. It records no history: the Task is created this way.
func (t *Task) AwaitConsent(now time.Time) {
	t.hold(ReasonAwaitingConsent, now)
}

// PauseForConsent puts a live referral on hold because the consent that
// allowed it was withdrawn. The lease of a claimed referral is dropped;
// its capacity slot is kept. A referral still requested goes back to
// being routed, for whoever claims it when consent returns; one a service
// accepted keeps its named contact and business status, and a new consent
// resumes it where it was.
func (t *Task) PauseForConsent(now time.Time) HistoryEntry {
	h := HistoryEntry{At: now, By: adapterActor, From: string(t.Status), To: string(TaskOnHold),
		BusinessStatus: BSAwaitingConsent, Reason: ReasonConsentWithdraw}
	engaged := t.Status != TaskRequested
	t.hold(ReasonConsentWithdraw, now)
	t.LeaseUntil = time.Time{}
	if !engaged {
		t.Claimant, t.ClaimantName, t.ClaimantTitle = "", "", ""
	}
	t.Version++
	return h
}

func (t *Task) hold(reason string, now time.Time) {
	bs := t.BusinessStatus.Code
	if bs == "" || bs == BSClaimed && t.Status == TaskRequested {
		bs = BSRouted
	}
	t.HeldFrom, t.HeldBS, t.HeldSince = t.Status, bs, now
	t.Status, t.StatusReason, t.LastModified = TaskOnHold, reason, now
	t.BusinessStatus, _ = BusinessStatus(BSAwaitingConsent)
}

// ReleaseConsentHold returns a held referral to where it was: a new one to
// requested (the store queues it), a paused one to its earlier status.
func (t *Task) ReleaseConsentHold(now time.Time) HistoryEntry {
	to := t.HeldFrom
	if !to.Valid() || to.Terminal() || to == TaskOnHold {
		to = TaskRequested
	}
	bs, ok := BusinessStatus(t.HeldBS)
	if !ok || to == TaskRequested {
		bs, _ = BusinessStatus(BSRouted)
	}
	h := HistoryEntry{At: now, By: adapterActor, From: string(t.Status), To: string(to), BusinessStatus: bs.Code,
		Reason: "consent received"}
	t.Status, t.BusinessStatus, t.StatusReason, t.LastModified = to, bs, "", now
	t.clearHold()
	t.Version++
	return h
}

// ExpireConsentHold cancels a referral that waited for consent longer than
// maxAge.
func (t *Task) ExpireConsentHold(maxAge time.Duration, now time.Time) HistoryEntry {
	return t.expireHold(BSConsentExpired, fmt.Sprintf("Cancelled: the patient's consent was not received within %s", days(maxAge)), now)
}

// expireHold cancels a held referral on the adapter's own account, with
// the business status and reason of the hold that ran out.
func (t *Task) expireHold(bs, reason string, now time.Time) HistoryEntry {
	h := HistoryEntry{At: now, By: adapterActor, From: string(t.Status), To: string(TaskCancelled),
		BusinessStatus: bs, Reason: reason}
	t.Status, t.StatusReason, t.LastModified = TaskCancelled, reason, now
	t.BusinessStatus, _ = BusinessStatus(bs)
	t.clearHold()
	t.Version++
	return h
}

func (t *Task) clearHold() {
	t.HeldSince, t.HeldFrom, t.HeldBS = time.Time{}, "", ""
}

// days words a duration for a reason: "30 days", "1 day", or hours when
// shorter.
func days(d time.Duration) string {
	switch n := int(d / (24 * time.Hour)); {
	case d < 24*time.Hour:
		return fmt.Sprintf("%d hours", int(d/time.Hour))
	case n == 1:
		return "1 day"
	default:
		return fmt.Sprintf("%d days", n)
	}
}

// ConsentMoveKind is what a consent move does to a referral.
type ConsentMoveKind string

// Consent moves.
const (
	MovePause   ConsentMoveKind = "pause"   // consent withdrawn: on hold
	MoveRelease ConsentMoveKind = "release" // consent arrived: back to its queue or status
	MoveExpire  ConsentMoveKind = "expire"  // no consent (or sign-off) in time: cancelled
	// MoveAwaitConsent: signed off by a clinician (issue 11) but no consent
	// permits it yet: from the sign-off holds to the consent holds.
	MoveAwaitConsent ConsentMoveKind = "await-consent"
)

// ConsentMove is one such change, decided in Go and written by the store
// atomically with everything it implies (queues, leases, waitlists,
// capacity slots), provided the Task is still at Before's version.
type ConsentMove struct {
	Kind    ConsentMoveKind
	Before  Task
	After   *Task
	History HistoryEntry
	// Place, for a release that places the referral by capacity, is its
	// route as the patient's consent marks it now (see ConsentGate): the
	// services it may go to. Empty: its route as it is.
	Place []RouteStep
	// Placement is set by the store when a released referral was placed by
	// capacity.
	Placement *Placement
	// Stats, for a release of a referral that waited from the start, are
	// its placing counters, which the store counts once it is placed, in
	// the same step (IntakeStat; of one day and practice).
	Stats []IntakeStat
}

// ErrStaleConsentMove is returned by a store when a Task changed between
// reading it and writing a consent move: nothing was written; read again
// and decide again.
var ErrStaleConsentMove = &Error{Code: ECONFLICT, Message: "the referral changed meanwhile; try again"}

// ErrConsentHeld refuses a caller's transition of a referral that waits
// for consent: it can only be cancelled until consent arrives.
var ErrConsentHeld = &Error{Code: ECONFLICT, Message: "the referral is on hold awaiting the patient's consent; until consent arrives it can only be cancelled",
	Expression: []string{"status"}}

package adapter

import (
	"fmt"
	"time"
)

// Clinician sign-off holds (issue 11). A deployment may require a
// clinician's sign-off for referrals started by non-clinical staff (care
// navigators, receptionists, practice managers, other staff, or a token
// that names no job title). Such a referral is accepted but held (on-hold,
// awaiting-sign-off), not queued and holding no capacity place, until a
// clinician of the same practice confirms it. Sign-off comes before
// consent: a referral held for sign-off ignores consents meanwhile; when
// it is signed off, it is released if a consent permits disclosing it, or
// else goes on waiting for consent from then.

// Task.statusReason texts of sign-off holds.
const (
	ReasonAwaitingSignOff = "awaiting clinician sign-off"
)

// SignOffHeld reports whether the Task is on hold waiting for a
// clinician's sign-off.
func (t *Task) SignOffHeld() bool {
	return t.Status == TaskOnHold && !t.SignOffSince.IsZero()
}

// Held reports whether the Task is held by the adapter, for consent or for
// sign-off: invisible to workers and not movable by callers except to
// cancel it.
func (t *Task) Held() bool { return t.ConsentHeld() || t.SignOffHeld() }

// AwaitSignOff makes a new Task wait for a clinician's sign-off. It records
// no history: the Task is created this way.
func (t *Task) AwaitSignOff(now time.Time) {
	t.SignOffSince = now
	t.Status, t.StatusReason, t.LastModified = TaskOnHold, ReasonAwaitingSignOff, now
	t.BusinessStatus, _ = BusinessStatus(BSAwaitingSignOff)
	t.clearHold() // not waiting for consent (yet): sign-off comes first
}

// SignOff records a clinician's sign-off of a held referral: released to
// requested (the store places it by capacity) when consented, or else
// waiting for consent from now. The history entry names the clinician.
func (t *Task) SignOff(by Actor, source ReferralSource, consented bool, now time.Time) HistoryEntry {
	h := HistoryEntry{At: now, By: by, From: string(t.Status), Reason: "signed off by a clinician (" + string(source) + ")"}
	t.SignOffSince, t.LastModified = time.Time{}, now
	if consented {
		t.Status, t.StatusReason = TaskRequested, ""
		t.BusinessStatus, _ = BusinessStatus(BSRouted)
		t.clearHold()
	} else {
		t.Status, t.StatusReason = TaskOnHold, ReasonAwaitingConsent
		t.BusinessStatus, _ = BusinessStatus(BSAwaitingConsent)
		t.HeldFrom, t.HeldBS, t.HeldSince = TaskRequested, BSRouted, now
		h.Reason += "; awaiting consent"
	}
	h.To, h.BusinessStatus = string(t.Status), t.BusinessStatus.Code
	t.Version++
	return h
}

// ExpireSignOffHold cancels a referral that waited for sign-off longer
// than maxAge.
func (t *Task) ExpireSignOffHold(maxAge time.Duration, now time.Time) HistoryEntry {
	t.SignOffSince = time.Time{}
	return t.expireHold(BSSignOffExpired, fmt.Sprintf("Cancelled: no clinician signed the referral off within %s", days(maxAge)), now)
}

// ErrSignOffHeld refuses a caller's transition of a referral that waits
// for sign-off: it can only be cancelled until a clinician signs it off.
var ErrSignOffHeld = &Error{Code: ECONFLICT, Message: "the referral is on hold awaiting a clinician's sign-off; until then it can only be cancelled",
	Expression: []string{"status"}}

// ErrNotAwaitingSignOff answers a sign-off of a referral that is not
// waiting for one (signed off already, never held, or ended).
var ErrNotAwaitingSignOff = &Error{Code: ECONFLICT, Message: "the referral is not awaiting a clinician's sign-off (already signed off, never held, or ended)"}

// ErrNotClinician refuses a sign-off by a caller whose token does not name
// a clinical job title.
var ErrNotClinician = &Error{Code: EFORBIDDEN, Message: "only a clinician (GP, nurse or other clinician by the token's job title) can sign off a referral"}

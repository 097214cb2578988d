package adapter

import (
	"errors"
	"slices"
	"strings"
	"time"
)

// Business statuses a caller may set, and the Task statuses each goes with.
// A business status not listed here is set by the adapter itself (routed,
// waitlisted, claimed...) and cannot be asked for.
var callerBusinessStatus = map[string][]TaskStatus{
	BSContacted:       {TaskAccepted, TaskInProgress},
	BSFirstAppt:       {TaskInProgress},
	BSSupportStarted:  {TaskInProgress},
	BSDidNotAttend:    {TaskAccepted, TaskInProgress, TaskOnHold},
	BSNotContactable:  {TaskFailed, TaskOnHold},
	BSPatientDeclined: {TaskCancelled},
	BSProviderDecline: {TaskRejected},
	BSReturned:        {TaskRejected, TaskCancelled},
	BSOnwardReferred:  {TaskInProgress},
}

// Coded reasons (Task.statusReason coding, SystemStatusReason).
const (
	SystemStatusReason = "https://social-prescribing.github.io/referral-adapter/CodeSystem/task-status-reason"

	// Provider decline reasons.
	ReasonAtCapacity      = "at-capacity"
	ReasonNotEligible     = "not-eligible"
	ReasonCouldNotContact = "could-not-contact"
	ReasonOther           = "other"
	ReasonNoResponse      = "no-response" // set by the adapter at the provider deadline

	// Return-to-clinician reasons (clinical safety, never capacity).
	ReasonNeedsClinical  = "needs-clinical-assessment"
	ReasonRiskIdentified = "risk-identified"
)

// reasonCodes are the coded reasons each business status requires.
var reasonCodes = map[string][]string{
	BSProviderDecline: {ReasonAtCapacity, ReasonNotEligible, ReasonCouldNotContact, ReasonOther, ReasonNoResponse},
	BSReturned:        {ReasonNeedsClinical, ReasonRiskIdentified},
}

// Actor is who makes a change, for the Task history and audit.
type Actor struct {
	Subject string
	Role    string
	Org     string
}

// Transition is a requested change of a Task's status.
type Transition struct {
	To             TaskStatus
	BusinessStatus string // optional code from SystemBusinessStatus
	Reason         string // coded reason where the business status needs one, else plain words (optional)
	By             Actor
	At             time.Time
	// Summary is the holder's short summary for the GP when the transition
	// ends the referral (issue 19), and SummaryApproved the patient's
	// approval of sharing it: it goes into the closure summary the
	// practice receives only when approved and the consent permits.
	Summary         string
	SummaryApproved bool
	// IfVersion, when not 0, is the Task version the change was made
	// against (a FHIR update's If-Match): another version refuses it with
	// EVERSION, so a change made on a stale copy is never applied.
	IfVersion int
}

// HistoryEntry records one change of a Task: when, by whom, from and to.
type HistoryEntry struct {
	At             time.Time `json:"at"`
	By             Actor     `json:"by"`
	From           string    `json:"from"`
	To             string    `json:"to"`
	BusinessStatus string    `json:"businessStatus,omitempty"`
	Reason         string    `json:"reason,omitempty"`
}

// Apply validates tr against the Gravity referral Task state machine and
// the business-status rules and, when legal, applies it to t (status,
// business status, reason, last modified, version). The same status with a
// new business status records a finer step (e.g. contacted). An illegal
// change is an ECONFLICT naming what is allowed; a malformed one EINVALID.
func (t *Task) Apply(tr Transition) (HistoryEntry, error) {
	if !tr.To.Valid() {
		if tr.To.FHIR() { // a Task status, but not one of the referral lifecycle
			return HistoryEntry{}, t.illegal(tr.To)
		}
		return HistoryEntry{}, Errorf(ECODEINVALID, "%q is not a FHIR Task status", Clip(string(tr.To), 32)).At("status")
	}
	if t.SignOffHeld() && tr.To != TaskCancelled {
		return HistoryEntry{}, ErrSignOffHeld
	}
	if t.ConsentHeld() && tr.To != TaskCancelled {
		return HistoryEntry{}, ErrConsentHeld
	}
	step := tr.To == t.Status
	if step && (tr.BusinessStatus == "" || t.Status.Terminal()) || !step && !t.Status.CanTransitionTo(tr.To) {
		return HistoryEntry{}, t.illegal(tr.To)
	}
	bs, err := checkBusinessStatus(tr)
	if err != nil {
		return HistoryEntry{}, err
	}
	if err := checkReason(tr); err != nil {
		return HistoryEntry{}, err
	}
	h := HistoryEntry{At: tr.At, By: tr.By, From: string(t.Status), To: string(tr.To), BusinessStatus: tr.BusinessStatus, Reason: tr.Reason}
	t.Status, t.LastModified = tr.To, tr.At
	if !bs.IsZero() {
		t.BusinessStatus = bs
	}
	t.StatusReason = reasonText(tr)
	t.Version++
	return h, nil
}

// Note records something on the Task without changing its status: a new
// version at at, and the history entry from and to its status, by by,
// naming the business status bs and saying why.
func (t *Task) Note(at time.Time, by Actor, bs, why string) HistoryEntry {
	t.Version++
	t.LastModified = at
	return HistoryEntry{At: at, By: by, From: string(t.Status), To: string(t.Status), BusinessStatus: bs, Reason: why}
}

func (t *Task) illegal(to TaskStatus) error {
	next := t.Status.NextStatuses()
	allowed := "none: the Task has ended"
	if len(next) > 0 {
		names := make([]string, len(next))
		for i, s := range next {
			names[i] = string(s)
		}
		allowed = strings.Join(names, ", ")
	}
	return Errorf(ECONFLICT, "cannot move a %s Task to %s; allowed: %s (or the same status with a new businessStatus)",
		t.Status, to, allowed).At("status")
}

func checkBusinessStatus(tr Transition) (Coding, error) {
	if tr.BusinessStatus == "" {
		return Coding{}, nil
	}
	statuses, ok := callerBusinessStatus[tr.BusinessStatus]
	if !ok {
		return Coding{}, Errorf(ECODEINVALID, "businessStatus %q cannot be set by a caller", tr.BusinessStatus).At("businessStatus.code")
	}
	if !slices.Contains(statuses, tr.To) {
		return Coding{}, Errorf(ECONFLICT, "businessStatus %s goes with status %v, not %s", tr.BusinessStatus, statuses, tr.To).At("businessStatus.code")
	}
	bs, _ := BusinessStatus(tr.BusinessStatus)
	return bs, nil
}

// checkReason: a patient's decline is neutral and needs no reason; a
// provider decline or a return to the clinician needs its coded reason;
// any other ending (rejected, cancelled, failed) needs a reason in words.
func checkReason(tr Transition) error {
	if codes, ok := reasonCodes[tr.BusinessStatus]; ok {
		if !slices.Contains(codes, tr.Reason) {
			return Errorf(EVALUE, "%s needs a reason from: %s", tr.BusinessStatus, strings.Join(codes, ", ")).At("reason")
		}
		return nil
	}
	if tr.BusinessStatus == BSPatientDeclined {
		return nil
	}
	ending := tr.To == TaskRejected || tr.To == TaskCancelled || tr.To == TaskFailed
	if ending && strings.TrimSpace(tr.Reason) == "" {
		return Errorf(EREQUIRED, "a reason is required to move a Task to %s", tr.To).At("reason")
	}
	return nil
}

// reasonText is the Task.statusReason for a transition.
func reasonText(tr Transition) string {
	switch tr.BusinessStatus {
	case BSPatientDeclined:
		return "The patient chose not to go ahead"
	case BSProviderDecline:
		return "Declined by the service: " + strings.ReplaceAll(tr.Reason, "-", " ")
	case BSReturned:
		return "Returned to the referring clinician: " + strings.ReplaceAll(tr.Reason, "-", " ")
	}
	return tr.Reason
}

// Counts reports whether the episode's end counts as a failure in reports:
// a patient's own decline is neutral.
func (h HistoryEntry) Counts() bool {
	return h.BusinessStatus != BSPatientDeclined
}

// TaskChange is what an update of a Task decided beyond the Task itself:
// the history entry to record and, for an onward referral, the child Task
// to create in the same atomic step.
type TaskChange struct {
	History HistoryEntry
	Child   *Task
	// Closure, when the change ends the referral, is the closure summary
	// it owes the practice, stored with the change (see ClosureDue).
	Closure *ClosureDue
	// Stats are the report counters the change adds to, counted in the
	// same step.
	Stats []StatInc
	// Parent, when the change must also be told to the Task the changed
	// one is part of (an onward referral declined: its link worker's Task
	// says so), is that Task as changed, written in the same step if it is
	// still at the version it was read at.
	Parent *TaskWrite
}

// TaskWrite is a change of a Task written with another change (the Task
// a changed one is part of, see TaskChange.Parent; the Task an outcome is
// recorded on): only while the Task is at the version it was read at.
type TaskWrite struct {
	Version int // the version it was read at
	Task    *Task
	History HistoryEntry
}

// ErrTaskMoved is returned by a store when a Task changed between reading
// it and writing a change made with it (a TaskWrite): nothing was written;
// read again and decide again.
var ErrTaskMoved = &Error{Code: ECONFLICT, Message: "the referral changed meanwhile; try again"}

// ErrNoCapacity is returned when an onward referral's service cannot take
// one more referral now.
var ErrNoCapacity = errors.New("the service has no capacity")

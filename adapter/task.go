package adapter

import (
	"slices"
	"time"
)

// TaskStatus is a FHIR Task status, restricted to the codes the HL7 Gravity
// SDOH Clinical Care referral Task allows.
type TaskStatus string

// Task statuses (http://hl7.org/fhir/task-status).
const (
	TaskRequested      TaskStatus = "requested"
	TaskAccepted       TaskStatus = "accepted"
	TaskRejected       TaskStatus = "rejected"
	TaskCancelled      TaskStatus = "cancelled"
	TaskOnHold         TaskStatus = "on-hold"
	TaskInProgress     TaskStatus = "in-progress"
	TaskCompleted      TaskStatus = "completed"
	TaskFailed         TaskStatus = "failed"
	TaskEnteredInError TaskStatus = "entered-in-error"
)

// taskTransitions is the Gravity referral Task state machine as callers may
// drive it. The adapter itself may also create a Task on-hold (awaiting
// consent or sign-off) and release it to requested; those are system moves,
// not transitions a caller can ask for.
var taskTransitions = map[TaskStatus][]TaskStatus{
	TaskRequested:  {TaskAccepted, TaskRejected, TaskCancelled},
	TaskAccepted:   {TaskInProgress, TaskOnHold, TaskCancelled, TaskCompleted, TaskFailed},
	TaskInProgress: {TaskOnHold, TaskCompleted, TaskFailed, TaskCancelled}, // on-hold: started, then paused (FHIR task-status)
	TaskOnHold:     {TaskInProgress, TaskCancelled, TaskCompleted, TaskFailed},
}

// Valid reports whether s is one of the Gravity referral Task statuses.
func (s TaskStatus) Valid() bool {
	switch s {
	case TaskRequested, TaskAccepted, TaskRejected, TaskCancelled, TaskOnHold,
		TaskInProgress, TaskCompleted, TaskFailed, TaskEnteredInError:
		return true
	}
	return false
}

// FHIR reports whether s is any FHIR R4 Task status
// (http://hl7.org/fhir/task-status), including those the Gravity referral
// Task does not use (draft, received, ready).
func (s TaskStatus) FHIR() bool {
	switch s {
	case "draft", "received", "ready":
		return true
	}
	return s.Valid()
}

// Terminal reports whether no further transition can leave s.
func (s TaskStatus) Terminal() bool {
	switch s {
	case TaskRejected, TaskCancelled, TaskCompleted, TaskFailed, TaskEnteredInError:
		return true
	}
	return false
}

// NextStatuses lists the statuses a caller may move s to.
func (s TaskStatus) NextStatuses() []TaskStatus {
	return slices.Clone(taskTransitions[s])
}

// CanTransitionTo reports whether the state machine allows s → t.
func (s TaskStatus) CanTransitionTo(t TaskStatus) bool {
	return slices.Contains(s.NextStatuses(), t)
}

// TakeOver makes the worker (subject, name, title) the referral's named
// contact at now, recording a handover when someone else was the named
// contact before. It changes nothing when they already are.
func (t *Task) TakeOver(subject, name, title string, now time.Time) (changed bool) {
	t.Claimant, t.ClaimantName, t.ClaimantTitle = subject, name, title
	if t.LastClaimant == subject {
		return false
	}
	if t.LastClaimant != "" {
		t.HandedOver = now
	}
	t.ContactSince, t.LastClaimant = now, subject
	return true
}

// Task is the adapter's record of a FHIR Task that tracks one referral at
// one destination service.
type Task struct {
	ID              string
	ReferralID      string // the ServiceRequest this Task fulfils (Task.focus)
	PartOf          string // parent Task id for onward referrals
	Practice        string // ODS code of the referring practice
	Patient         string // Task.for
	Requester       string // Task.requester
	Owner           string // HealthcareService id (Task.owner)
	Status          TaskStatus
	BusinessStatus  Coding
	StatusReason    string // plain words for the referrer; never patient data
	Priority        Priority
	Rule            string // mapping rule that routed it
	AuthoredOn      time.Time
	LastModified    time.Time
	Version         int
	FirstContactDue time.Time
	// Reserved is the service whose capacity slot the Task holds ("" when
	// none): released when the referral ends or moves on.
	Reserved string
	// Route is where the referral may go, in order, without the services the
	// patient is not eligible for: kept so that a closure re-routes it by
	// the same rules.
	Route []RouteStep
	// Claimant holds the referral under a lease until LeaseUntil (issue 10);
	// ClaimantName is shown to the referrer as the named contact.
	Claimant     string
	ClaimantName string
	LeaseUntil   time.Time
	// The named contact (issue 9): ClaimantTitle is the claimant's role
	// (job title); ContactSince when the current named contact took the
	// referral; HandedOver when it was handed over to them from an earlier
	// named contact (zero for the first); LastClaimant the token subject of
	// the latest named contact, kept when a lease lapses so that a
	// different worker's claim is recorded as a handover.
	ClaimantTitle string
	ContactSince  time.Time
	HandedOver    time.Time
	LastClaimant  string
	// Source is who referred (GP, nurse, care navigator...).
	Source ReferralSource
	// Consent hold (issue 4): while the referral waits for the patient's
	// consent (created held, or paused when consent was withdrawn),
	// HeldSince is when the wait began and HeldFrom and HeldBS the status
	// and business status it returns to. Zero when not held for consent.
	HeldSince time.Time
	HeldFrom  TaskStatus
	HeldBS    string
	// SignOffSince is when the referral began waiting for a clinician's
	// sign-off (issue 11); zero when not held for sign-off.
	SignOffSince time.Time
	// Area (the patient's postcode district, when known) and Need (the
	// mapping rule's need category) are what commissioners' reports break
	// figures down by; never more precise than a district.
	Area, Need string
	// AgeBand (e.g. "45-54") and Sex (the Patient's administrative gender)
	// at referral, "" when no Patient told them: reach breakdowns only
	// (issue 20), never more precise than a ten-year band.
	AgeBand, Sex string
	// Contacted and Supported are when the patient was first contacted and
	// when support first started (for waits in reports).
	Contacted, Supported time.Time
	// Labels are the referral's security labels (ServiceRequest
	// meta.security) and Written its own date (authoredOn; zero when it
	// stated none): what consent decisions about disclosing the referral
	// depend on besides its patient (issue 17).
	Labels  []Coding
	Written time.Time
}

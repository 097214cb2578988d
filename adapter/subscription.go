package adapter

import (
	"slices"
	"time"
)

// SubscriptionStatus is a FHIR R4 Subscription status
// (http://hl7.org/fhir/subscription-status).
type SubscriptionStatus string

// Subscription statuses. A rest-hook Subscription starts requested, becomes
// active when its handshake is accepted, and error when the handshake
// fails; off means the practice asked for no notifications.
const (
	SubscriptionRequested SubscriptionStatus = "requested"
	SubscriptionActive    SubscriptionStatus = "active"
	SubscriptionError     SubscriptionStatus = "error"
	SubscriptionOff       SubscriptionStatus = "off"
)

// Valid reports whether s is a FHIR Subscription status.
func (s SubscriptionStatus) Valid() bool {
	switch s {
	case SubscriptionRequested, SubscriptionActive, SubscriptionError, SubscriptionOff:
		return true
	}
	return false
}

// Subscription is a practice's request to be told when the Tasks of the
// referrals it sent change. Its scope is always the practice's own Tasks:
// the filter can only narrow it. Notifications carry ids only, never
// resource content.
type Subscription struct {
	ID       string
	Practice string // ODS code of the subscribing practice (the tenant)
	Status   SubscriptionStatus
	Topic    string     // canonical URL of the subscription topic
	Filter   TaskFilter // narrows the practice's Tasks further
	Endpoint string     // rest-hook URL notifications are POSTed to
	Headers  []string   // "Name: value" headers sent with each notification
	Reason   string
	End      time.Time // zero: no end
	Created  time.Time
	Updated  time.Time
	Events   int64  // events generated since the Subscription started
	Error    string // why the status is error; never patient data
	Version  int
}

// TaskFilter narrows the Tasks a Subscription is told about.
type TaskFilter struct {
	Statuses []TaskStatus // empty: every status
}

// IsZero reports whether the filter lets every Task through.
func (f TaskFilter) IsZero() bool { return len(f.Statuses) == 0 }

// Matches reports whether an event passes the filter.
func (f TaskFilter) Matches(ev TaskEvent) bool {
	return len(f.Statuses) == 0 || slices.Contains(f.Statuses, ev.Status)
}

// Wants reports whether the Subscription should be notified of ev at now:
// the Task belongs to the subscribing practice, passes the filter, and the
// Subscription is live (requested or active, and not past its end).
func (s *Subscription) Wants(ev TaskEvent, now time.Time) bool {
	if ev.Practice == "" || ev.Practice != s.Practice {
		return false
	}
	if s.Status != SubscriptionRequested && s.Status != SubscriptionActive {
		return false
	}
	if !s.End.IsZero() && !now.Before(s.End) {
		return false
	}
	return s.Filter.Matches(ev)
}

// TaskEvent says that a Task changed. It names the Task and its referral
// and carries the new status; it holds no patient data.
type TaskEvent struct {
	TaskID     string
	ReferralID string
	Practice   string // ODS code of the practice that sent the referral
	Status     TaskStatus
	Time       time.Time
	Number     int64 // event number within one Subscription (set on fan-out)
}

// Event is the event that says t changed: its status as it is now.
func (t *Task) Event() TaskEvent {
	return TaskEvent{TaskID: t.ID, ReferralID: t.ReferralID, Practice: t.Practice, Status: t.Status, Time: t.LastModified}
}

// NotificationType is a Subscription notification type
// (http://hl7.org/fhir/ValueSet/subscription-notification-type).
type NotificationType string

// Notification types the adapter sends. Heartbeats are not sent.
const (
	NotifyHandshake NotificationType = "handshake"
	NotifyEvent     NotificationType = "event-notification"
)

// NotifyTrigger is one entry of the notification stream: a Task changed
// (Type NotifyEvent, Event set), or a new Subscription awaits its handshake
// (Type NotifyHandshake, Subscription set).
type NotifyTrigger struct {
	ID           string // assigned by the store
	Type         NotificationType
	Event        TaskEvent
	Subscription string
}

// Delivery is one notification to one Subscription, from its fan-out until
// it is delivered or dead-lettered.
type Delivery struct {
	ID           string // unique per (trigger, Subscription)
	Subscription string
	Practice     string
	Type         NotificationType
	Event        TaskEvent // event notifications only
	Attempts     int       // failed attempts so far
	Created      time.Time
	LastError    string // e.g. "http-503", "timeout"; never a response body
	Claim        string // token of whoever may attempt it now
}

// DeadLetter is a Delivery given up after its last attempt. It carries ids
// and error codes only.
type DeadLetter struct {
	Delivery     string    `json:"delivery"`
	Subscription string    `json:"subscription"`
	Practice     string    `json:"practice"`
	Type         string    `json:"type"`
	Task         string    `json:"task,omitempty"`
	EventNumber  int64     `json:"eventNumber,omitempty"`
	Attempts     int       `json:"attempts"`
	LastError    string    `json:"lastError"`
	Created      time.Time `json:"created"`
	DeadAt       time.Time `json:"deadAt"`
}

package adapter

import (
	"fmt"
	"slices"
	"time"
)

// Contact attempts (issue 19): a link worker's or provider's tries to reach
// the patient. The studies behind social prescribing ask for a set number
// of attempts, spread over time, before a referral is closed because the
// patient could not be reached.

// ContactResult is how a contact attempt went.
type ContactResult string

// Contact results. ContactDidNotAttend is never posted: it is a
// did-not-attend transition, which counts as an unsuccessful attempt.
const (
	ContactReached      ContactResult = "reached"
	ContactNoAnswer     ContactResult = "no-answer"
	ContactLeftMessage  ContactResult = "left-message"
	ContactWrongNumber  ContactResult = "wrong-number"
	ContactDeclined     ContactResult = "declined"
	ContactDidNotAttend ContactResult = "did-not-attend"
)

// ContactResults are the results a caller may record.
var ContactResults = []ContactResult{ContactReached, ContactNoAnswer, ContactLeftMessage, ContactWrongNumber, ContactDeclined}

// Valid reports whether r may be recorded by a caller.
func (r ContactResult) Valid() bool { return slices.Contains(ContactResults, r) }

// Unsuccessful reports whether the attempt did not reach the patient. A
// patient who was reached and declined was reached.
func (r ContactResult) Unsuccessful() bool {
	switch r {
	case ContactNoAnswer, ContactLeftMessage, ContactWrongNumber, ContactDidNotAttend:
		return true
	}
	return false
}

// ContactChannel is how the patient was approached.
type ContactChannel string

// Contact channels.
const (
	ChannelPhone    ContactChannel = "phone"
	ChannelSMS      ContactChannel = "sms"
	ChannelEmail    ContactChannel = "email"
	ChannelLetter   ContactChannel = "letter"
	ChannelInPerson ContactChannel = "in-person"
)

// ContactChannels are the channels a caller may record.
var ContactChannels = []ContactChannel{ChannelPhone, ChannelSMS, ChannelEmail, ChannelLetter, ChannelInPerson}

// Valid reports whether c is one of the channels.
func (c ContactChannel) Valid() bool { return slices.Contains(ContactChannels, c) }

// MaxContactNote bounds an attempt's note (characters).
const MaxContactNote = 1000

// ContactAttempt is one attempt to reach the patient of a referral's Task.
// Its note is the worker's own words and may name the patient: it is kept
// with the referral, shown to its holders only, and never logged.
type ContactAttempt struct {
	ID      string         `json:"id,omitempty"` // "" for a did-not-attend transition
	TaskID  string         `json:"task"`
	Result  ContactResult  `json:"result"`
	Channel ContactChannel `json:"channel"`
	Note    string         `json:"note,omitempty"`
	At      time.Time      `json:"at"`
	By      string         `json:"by"`             // token subject of who recorded it
	Name    string         `json:"name,omitempty"` // their display name
	Org     string         `json:"org"`            // ODS code of their organisation
}

// DidNotAttend turns the did-not-attend steps of a Task's history into the
// unsuccessful attempts they count as.
func DidNotAttend(taskID string, history []HistoryEntry) []ContactAttempt {
	var out []ContactAttempt
	for _, h := range history {
		if h.BusinessStatus == BSDidNotAttend {
			out = append(out, ContactAttempt{TaskID: taskID, Result: ContactDidNotAttend, Channel: ChannelInPerson,
				At: h.At, By: h.By.Subject, Org: h.By.Org})
		}
	}
	return out
}

// SortAttempts orders attempts oldest first (stable).
func SortAttempts(as []ContactAttempt) {
	slices.SortStableFunc(as, func(a, b ContactAttempt) int { return a.At.Compare(b.At) })
}

// ContactTally counts a referral's attempts for its closure summary.
type ContactTally struct {
	Attempts     int // every attempt, did-not-attend included
	Unsuccessful int
	DidNotAttend int
}

// Tally counts attempts.
func Tally(as []ContactAttempt) ContactTally {
	var t ContactTally
	for _, a := range as {
		t.Attempts++
		if a.Result.Unsuccessful() {
			t.Unsuccessful++
		}
		if a.Result == ContactDidNotAttend {
			t.DidNotAttend++
		}
	}
	return t
}

// ContactRule is how hard a service must try before closing a referral
// because the patient could not be reached: at least Min unsuccessful
// attempts, the first and the last at least Span apart. Min 0 turns it off.
type ContactRule struct {
	Min  int
	Span time.Duration
}

// ClosesForNonContact reports whether a transition closes the referral
// because the patient could not be reached: to failed (not contactable or
// otherwise), or a provider's decline because it could not contact them.
func ClosesForNonContact(tr Transition) bool {
	return tr.To == TaskFailed || tr.BusinessStatus == BSNotContactable && tr.To.Terminal() ||
		tr.BusinessStatus == BSProviderDecline && tr.Reason == ReasonCouldNotContact
}

// Check answers nil when the attempts satisfy the rule, and otherwise an
// ECONFLICT saying what was recorded and how many more attempts are needed
// (and from when), so that the worker knows what to do.
func (r ContactRule) Check(as []ContactAttempt) error {
	if r.Min <= 0 {
		return nil
	}
	var times []time.Time
	for _, a := range as {
		if a.Result.Unsuccessful() {
			times = append(times, a.At)
		}
	}
	slices.SortFunc(times, time.Time.Compare)
	n := len(times)
	var span time.Duration
	if n > 0 {
		span = times[n-1].Sub(times[0])
	}
	if n >= r.Min && span >= r.Span {
		return nil
	}
	more := max(r.Min-n, 1)
	msg := fmt.Sprintf("the patient cannot be recorded as not contactable yet: that needs at least %d unsuccessful contact attempts "+
		"(did-not-attend counts as one) over at least %s; %s recorded", r.Min, days(r.Span), plural(n, "unsuccessful attempt"))
	if n > 1 {
		msg += " over " + days(span)
	}
	msg += fmt.Sprintf(": %d more needed", more)
	if n > 0 && r.Span > 0 {
		msg += ", the last on or after " + times[0].Add(r.Span).UTC().Format("2 January 2006 15:04 UTC")
	} else if r.Span > 0 {
		msg += fmt.Sprintf(", the last at least %s after the first", days(r.Span))
	}
	return Errorf(ECONFLICT, "%s", msg).At("status")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

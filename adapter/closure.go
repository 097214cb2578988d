package adapter

import "time"

// Closure summaries (issue 19): when a referral ends, the referring
// practice receives a message on the referral's thread, like a discharge
// letter: why and when it ended, who held it and how many contact attempts
// were made, always; the outcomes and the holder's summary only where the
// patient approved sharing them and their consent permits.

// SystemCommunicationCategory is the adapter's code system for the kinds
// of message it writes itself, next to its Task business statuses: no HL7
// or UK Core code says "closure summary of a social prescribing referral"
// (HL7 communication-category has alert, notification, reminder and
// instruction; SNOMED CT and LOINC discharge summaries are records of
// discharge from clinical care, which an EHR would file as such).
const SystemCommunicationCategory = "https://social-prescribing.github.io/referral-adapter/CodeSystem/communication-category"

// CategoryClosureSummary is the Communication.category of a closure
// summary, in SystemCommunicationCategory.
const CategoryClosureSummary = "closure-summary"

// MaxClosureSummary bounds the holder's summary text (characters).
const MaxClosureSummary = 2000

// ClosureDue is a closure summary owed to the practice. It is stored with
// the ending of the referral, in the same atomic step (a transactional
// outbox), and cleared once the summary is on the referral's thread: an
// adapter that stops between the two leaves it owed, and the
// closure-summary job sends it. It holds the holder's summary and the
// patient's approval of sharing it, and who closed the referral.
type ClosureDue struct {
	Summary         string `json:"summary,omitempty"`
	SummaryApproved bool   `json:"approved,omitempty"`
	By              Actor  `json:"by"`
}

// DueClosure is a closure summary still owed, with its referral Task and
// when it came due.
type DueClosure struct {
	TaskID string
	Since  time.Time
	ClosureDue
}

// ClosureNote is what the queue knows of a referral's end beyond its Task:
// the contact attempts made, and the holder's summary for the GP with the
// patient's approval of sharing it.
type ClosureNote struct {
	Tally           ContactTally
	Summary         string
	SummaryApproved bool
}

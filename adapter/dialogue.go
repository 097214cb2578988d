package adapter

import "time"

// Kinds of the dialogue resources (issue 9).
const (
	KindCommunication = "Communication"
	KindFlag          = "Flag"
)

// Message is one message of a referral's two-way dialogue between the
// referring practice and whoever holds the referral (the network's link
// workers, or the VCSE provider of an onward referral), stored as a FHIR
// Communication. It never carries the text: that stays in the stored
// resource.
type Message struct {
	ID         string
	ReferralID string // the ServiceRequest it is basedOn
	TaskID     string // the Task it is partOf (the referral's own, or an onward referral's)
	Practice   string // ODS code of the referring practice
	// FromPractice is the direction: the practice writing to the holder, or
	// the holder (link worker, provider) writing to the practice.
	FromPractice bool
	SenderOrg    string // ODS code of the sender's organisation
	SenderRole   string // role of the sender's token
	By           string // token subject of the sender
	// Approved is the patient's approval of sharing a holder's message with
	// the GP, stated on every message to the practice (as for outcomes).
	Approved     bool
	InResponseTo string // id of the message it answers, if any
	Sent         time.Time
	// Categories and SecurityLabels classify the content for the consent
	// decision (e.g. a mental health label).
	Categories     []Coding
	SecurityLabels []Coding
	// Closure marks the adapter's closure summary of the referral (issue
	// 19): the practice always reads it, each reader without what it may
	// not see. HasSummary says it carries the holder's summary text, which
	// Approved (the patient's approval) and consent govern like a message.
	Closure    bool
	HasSummary bool
}

// ToPractice reports whether the message goes to the referring practice,
// which is what the patient's approval and consent govern.
func (m *Message) ToPractice() bool { return !m.FromPractice }

// Reference is the message's FHIR reference, "Communication/{id}".
func (m *Message) Reference() string { return KindCommunication + "/" + m.ID }

// Disclosure describes a holder's message to the practice as a disclosure
// of the patient's information, for the same consent decision outcomes get
// (adapter/disclosure): approval, then consent to disclose to the practice.
func (m *Message) Disclosure() *OutcomeRecord {
	return &OutcomeRecord{ID: m.ID, TaskID: m.TaskID, Type: KindCommunication, Practice: m.Practice, Approved: m.Approved,
		Recorded: m.Sent, By: m.By, Org: m.SenderOrg, Effective: m.Sent, Categories: m.Categories, SecurityLabels: m.SecurityLabels}
}

// SafeguardingFlag is a safeguarding concern a link worker or provider
// raised on a referral, stored as a FHIR Flag. It reaches the referring
// practice whatever the outcome-sharing consent says: the lawful basis is
// the safeguarding duty, not consent (LawfulBasisSafeguarding).
type SafeguardingFlag struct {
	ID         string
	ReferralID string
	TaskID     string // the Task it was raised on
	Practice   string // ODS code of the referring practice, who receives it
	AuthorOrg  string // ODS code of the raising organisation
	AuthorRole string
	By         string // token subject of who raised it
	Raised     time.Time
}

// Reference is the flag's FHIR reference, "Flag/{id}".
func (f *SafeguardingFlag) Reference() string { return KindFlag + "/" + f.ID }

// LawfulBasisSafeguarding is recorded in the audit trail with every
// safeguarding disclosure: it is made without (and despite) the patient's
// consent to share outcomes.
const LawfulBasisSafeguarding = "UK GDPR Art 6(1)(e) and Art 9(2)(g)/(h); DPA 2018 Sch 1 para 18 " +
	"(safeguarding of children and of individuals at risk); duty to share for safeguarding " +
	"(Care Act 2014 s42, Children Act 1989/2004)"

// AuditKindSafeguarding is the kind of the audit record of a safeguarding
// disclosure.
const AuditKindSafeguarding = "safeguarding"

// FlagRecords are what a safeguarding Flag is stored with, in the same
// step: the audit record of its disclosure to the practice (with its
// lawful basis), and its report counters.
type FlagRecords struct {
	Disclosure []AuditRecord
	Stats      []StatInc
}

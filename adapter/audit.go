package adapter

import "time"

// AuditAction is the kind of access, in the FHIR audit-event-action codes.
type AuditAction string

// Audit actions.
const (
	AuditCreate  AuditAction = "C"
	AuditRead    AuditAction = "R"
	AuditUpdate  AuditAction = "U"
	AuditDelete  AuditAction = "D"
	AuditExecute AuditAction = "E" // searches, operations, disclosure decisions
)

// AuditRecord is one access to patient data, or one disclosure decision.
// It names who and what, never the data itself.
type AuditRecord struct {
	ID        string // assigned by the store (stream id)
	Time      time.Time
	Subject   string // token subject (client or user)
	Role      string
	Org       string // ODS code of the caller's organisation
	Action    AuditAction
	Kind      string // "rest" for API access, "disclosure", "retention"
	Entity    string // e.g. "ServiceRequest/123" or "Task?focus=..." for searches
	Outcome   int    // HTTP status for API access
	RequestID string
	Detail    string // e.g. "permit by Consent/abc provision[1]"; never free text from a resource
}

// AuditQuery selects audit records.
type AuditQuery struct {
	Since, Until time.Time // zero: unbounded
	Subject      string    // exact token subject, optional
	Entity       string    // prefix, e.g. "ServiceRequest/123", optional
	Limit        int       // default 100, at most 1001 (a page and one to tell there is more)
	// Before and After page through the trail (record ids, exclusive):
	// newest first before Before; After, the oldest first after it.
	Before, After string
}

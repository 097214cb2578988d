package adapter

import (
	"context"
	"sync"
	"time"
)

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

// AuditSlot carries the audit record of one request through its context,
// so that a store making the change the request asks for can write the
// record in the same atomic step (the intake script does): the record
// cannot then be missing for a change that was made, nor present for one
// that was not. The HTTP layer writes the record itself, before answering,
// for everything the store did not record this way.
type AuditSlot struct {
	// Base is who is asking, when, and the request id; a store completes
	// it (action, entity, outcome) for each record it writes.
	Base AuditRecord

	mu      sync.Mutex
	written []AuditRecord
}

type auditSlotKey struct{}

// WithAuditSlot returns ctx carrying the slot.
func WithAuditSlot(ctx context.Context, s *AuditSlot) context.Context {
	return context.WithValue(ctx, auditSlotKey{}, s)
}

// AuditSlotFrom returns the slot ctx carries, or nil (background work,
// tests of the store alone): the store then writes no audit record.
func AuditSlotFrom(ctx context.Context) *AuditSlot {
	s, _ := ctx.Value(auditSlotKey{}).(*AuditSlot)
	return s
}

// Wrote notes records a store wrote in the same atomic step as a change.
func (s *AuditSlot) Wrote(recs ...AuditRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.written = append(s.written, recs...)
}

// Written returns the records written with a change so far.
func (s *AuditSlot) Written() []AuditRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]AuditRecord(nil), s.written...)
}

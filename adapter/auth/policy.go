package auth

import (
	"slices"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Action names something a caller can do. Every route declares one.
type Action string

// Actions.
const (
	ServiceRequestCreate Action = "ServiceRequest.create"
	ServiceRequestRead   Action = "ServiceRequest.read"
	ServiceRequestSearch Action = "ServiceRequest.search"
	ConsentCreate        Action = "Consent.create"
	ConsentRead          Action = "Consent.read"
	TransactionPost      Action = "Bundle.transaction"
	TaskRead             Action = "Task.read"
	TaskSearch           Action = "Task.search"
	DirectoryRead        Action = "HealthcareService.read"
	// Patients (issue 19).
	PatientCreate Action = "Patient.create"
	PatientRead   Action = "Patient.read"
	PatientUpdate Action = "Patient.update"
)

// Security actions (issue 5).
const (
	AuditRead Action = "AuditEvent.search"
)

// Capacity actions (issue 3).
const (
	CapacityRead   Action = "HealthcareService.capacity.read"
	CapacityUpdate Action = "HealthcareService.capacity.update"
)

// EHR notification actions (issue 6).
const (
	SubscriptionCreate      Action = "Subscription.create"
	SubscriptionRead        Action = "Subscription.read"
	SubscriptionDelete      Action = "Subscription.delete"
	NotificationDeadLetters Action = "Notification.dead-letter.read"
)

// Rule says which roles may take an action, and which SMART scope
// (resource type and permission letter) the token must also carry.
type Rule struct {
	Roles    []Role
	Resource string
	Perm     byte
}

var everyone = Roles

// workers are the roles that work with patient-level records: the
// referring practice and the referral's holders. Commissioners see
// anonymous reports; admins administer (capacity, audit, dead letters) and
// never read patient-level data or work queues. Which records a permitted
// caller sees is the access package's to say.
var workers = []Role{RolePractice, RoleLinkWorker, RoleProvider}

// holders are the roles that hold referrals from a service's queue.
var holders = []Role{RoleLinkWorker, RoleProvider}

// Policy is the authorisation matrix: the one place that says which role
// may take which action. Which records a permitted caller can see (its own
// practice's, its own services') is decided by the access package.
var Policy = map[Action]Rule{
	ServiceRequestCreate: {Roles: []Role{RolePractice}, Resource: "ServiceRequest", Perm: 'c'},
	ServiceRequestRead:   {Roles: workers, Resource: "ServiceRequest", Perm: 'r'},
	ServiceRequestSearch: {Roles: workers, Resource: "ServiceRequest", Perm: 's'},
	ConsentCreate:        {Roles: []Role{RolePractice}, Resource: "Consent", Perm: 'c'},
	ConsentRead:          {Roles: []Role{RolePractice}, Resource: "Consent", Perm: 'r'},
	TransactionPost:      {Roles: []Role{RolePractice}, Resource: "ServiceRequest", Perm: 'c'},
	TaskRead:             {Roles: workers, Resource: "Task", Perm: 'r'},
	TaskSearch:           {Roles: workers, Resource: "Task", Perm: 's'},
	DirectoryRead:        {Roles: everyone, Resource: "HealthcareService", Perm: 'r'},
	// Patients (issue 19): the practice sends them; the practice and the
	// holders of the patient's referrals read them (which: the access
	// policy, anyone else 404).
	PatientCreate: {Roles: []Role{RolePractice}, Resource: "Patient", Perm: 'c'},
	PatientRead:   {Roles: workers, Resource: "Patient", Perm: 'r'},
	PatientUpdate: {Roles: []Role{RolePractice}, Resource: "Patient", Perm: 'u'},
	AuditRead:     {Roles: []Role{RoleAdmin}, Resource: "AuditEvent", Perm: 's'},

	// Capacity (issue 3): the figures behind a service's capacity status.
	// A provider sees and updates only its own services (CanSeeCapacity,
	// CanUpdateCapacity).
	CapacityRead:   {Roles: []Role{RoleProvider, RoleLinkWorker, RoleCommissioner, RoleAdmin}, Resource: "HealthcareService", Perm: 'r'},
	CapacityUpdate: {Roles: []Role{RoleProvider, RoleAdmin}, Resource: "HealthcareService", Perm: 'u'},

	// Queue and lifecycle (issue 10). Which queue and which referral a
	// permitted caller may touch is decided by the lifecycle package from the
	// caller's organisation and the directory (cross-tenant: 404).
	QueueClaim:     {Roles: holders, Resource: "Task", Perm: 'u'},
	QueueRead:      {Roles: holders, Resource: "Task", Perm: 's'},
	LeaseRenew:     {Roles: holders, Resource: "Task", Perm: 'u'},
	TaskTransition: {Roles: workers, Resource: "Task", Perm: 'u'},
	ReferOn:        {Roles: []Role{RoleLinkWorker}, Resource: "Task", Perm: 'u'},
	Handover:       {Roles: holders, Resource: "Task", Perm: 'u'},
	OutcomeCreate:  {Roles: holders, Resource: "Task", Perm: 'u'},
	// Contact attempts (issue 19): the holders record and list them.
	ContactAttemptCreate: {Roles: holders, Resource: "Task", Perm: 'u'},
	ContactAttemptRead:   {Roles: holders, Resource: "Task", Perm: 'r'},
	ObservationRead:      {Roles: workers, Resource: "Observation", Perm: 'r'},
	ProcedureRead:        {Roles: workers, Resource: "Procedure", Perm: 'r'},
	GoalRead:             {Roles: workers, Resource: "Goal", Perm: 'r'},
	// The outcomes of a referral (based-on), issue 18.
	ObservationSearch: {Roles: workers, Resource: "Observation", Perm: 's'},
	ProcedureSearch:   {Roles: workers, Resource: "Procedure", Perm: 's'},
	// Clinician sign-off (issue 11): the referring practice only; the
	// intake service also requires a clinical job title in the token (a
	// non-clinician's sign-off: 403) and the caller's own practice (404).
	ReferralSignOff: {Roles: []Role{RolePractice}, Resource: "Task", Perm: 'u'},

	// Reports (issue 8): aggregates for commissioners (their areas only)
	// and a practice's feedback on its own referrals.
	ReportCapacity:      {Roles: []Role{RoleCommissioner, RoleAdmin}, Resource: "MeasureReport", Perm: 'r'},
	ReportPractice:      {Roles: []Role{RolePractice}, Resource: "ServiceRequest", Perm: 'r'},
	MeasureReportSearch: {Roles: []Role{RoleCommissioner, RoleAdmin}, Resource: "MeasureReport", Perm: 's'},
	// The dashboard page draws the capacity report: the same callers.
	DashboardView: {Roles: []Role{RoleCommissioner, RoleAdmin}, Resource: "MeasureReport", Perm: 'r'},
	// EHR notifications (issue 6): a practice manages its own
	// Subscriptions (others' answer 404); admins see dead letters.
	SubscriptionCreate:      {Roles: []Role{RolePractice}, Resource: "Subscription", Perm: 'c'},
	SubscriptionRead:        {Roles: []Role{RolePractice}, Resource: "Subscription", Perm: 'r'},
	SubscriptionDelete:      {Roles: []Role{RolePractice}, Resource: "Subscription", Perm: 'd'},
	NotificationDeadLetters: {Roles: []Role{RoleAdmin}, Resource: "Subscription", Perm: 's'},

	// Dialogue and safeguarding (issue 9): the referring practice and
	// whoever holds the referral, nobody else (which referral: the
	// dialogue package, cross-tenant 404). Admins see the audit trail,
	// never message content; commissioners only anonymous counts.
	CommunicationCreate: {Roles: []Role{RolePractice, RoleLinkWorker, RoleProvider}, Resource: "Communication", Perm: 'c'},
	CommunicationRead:   {Roles: []Role{RolePractice, RoleLinkWorker, RoleProvider}, Resource: "Communication", Perm: 'r'},
	CommunicationSearch: {Roles: []Role{RolePractice, RoleLinkWorker, RoleProvider}, Resource: "Communication", Perm: 's'},
	FlagCreate:          {Roles: []Role{RoleLinkWorker, RoleProvider}, Resource: "Flag", Perm: 'c'},
	FlagRead:            {Roles: []Role{RolePractice, RoleLinkWorker, RoleProvider}, Resource: "Flag", Perm: 'r'},
	FlagSearch:          {Roles: []Role{RolePractice, RoleLinkWorker, RoleProvider}, Resource: "Flag", Perm: 's'},
}

// Dialogue and safeguarding actions (issue 9).
const (
	CommunicationCreate Action = "Communication.create"
	CommunicationRead   Action = "Communication.read"
	CommunicationSearch Action = "Communication.search"
	FlagCreate          Action = "Flag.create"
	FlagRead            Action = "Flag.read"
	FlagSearch          Action = "Flag.search"
)

// Report actions (issue 8).
const (
	ReportCapacity      Action = "Report.capacity"
	ReportPractice      Action = "Report.practice"
	MeasureReportSearch Action = "MeasureReport.search"
	DashboardView       Action = "Report.dashboard"
)

// Queue and lifecycle actions (issue 10).
const (
	QueueClaim     Action = "Queue.claim"
	QueueRead      Action = "Queue.read"
	LeaseRenew     Action = "Referral.lease"
	TaskTransition Action = "Task.transition"
	ReferOn        Action = "Referral.referOn"
	Handover       Action = "Referral.handover"
	OutcomeCreate  Action = "Referral.outcome"
	// Contact attempts (issue 19).
	ContactAttemptCreate Action = "Referral.contactAttempt.create"
	ContactAttemptRead   Action = "Referral.contactAttempt.read"
	ObservationRead      Action = "Observation.read"
	ProcedureRead        Action = "Procedure.read"
	GoalRead             Action = "Goal.read"
	// Outcome searches (issue 18).
	ObservationSearch Action = "Observation.search"
	ProcedureSearch   Action = "Procedure.search"
)

// Clinician sign-off (issue 11).
const (
	ReferralSignOff Action = "Referral.signOff"
)

// Authorize returns nil when the principal may take the action, or an
// EFORBIDDEN error saying what is missing (role or scope).
func (p *Principal) Authorize(a Action) error {
	r, ok := Policy[a]
	if !ok {
		return adapter.Errorf(adapter.EFORBIDDEN, "action %s is not permitted", a)
	}
	if !slices.Contains(r.Roles, p.Role) {
		return adapter.Errorf(adapter.EFORBIDDEN, "role %s may not %s", p.Role, a)
	}
	if r.Resource != "" && !p.HasScope(r.Resource, r.Perm) {
		return adapter.Errorf(adapter.EFORBIDDEN, "the token lacks a scope granting %s.%c", r.Resource, r.Perm)
	}
	return nil
}

// CanSeeCapacity reports whether p may see the capacity figures of a
// service provided by the organisation providerODS: a provider only its own
// organisation's; link workers, commissioners and admins every service's.
func CanSeeCapacity(p *Principal, providerODS string) bool {
	if p.Role == RoleProvider {
		return providerODS != "" && providerODS == p.Org
	}
	return p.Role == RoleLinkWorker || p.Role == RoleCommissioner || p.Role == RoleAdmin
}

// CanUpdateCapacity reports whether p may update that capacity: an admin
// any service's, a provider only its own organisation's.
func CanUpdateCapacity(p *Principal, providerODS string) bool {
	switch p.Role {
	case RoleAdmin:
		return true
	case RoleProvider:
		return providerODS != "" && providerODS == p.Org
	}
	return false
}

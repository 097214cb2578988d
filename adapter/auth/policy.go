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
)

// Security actions (issue 5).
const (
	AuditRead Action = "AuditEvent.search"
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

// Policy is the authorisation matrix: the one place that says who may do
// what. Which records a permitted caller can see (its own practice, its
// own services) is decided by Visible, beside the data.
var Policy = map[Action]Rule{
	ServiceRequestCreate: {Roles: []Role{RolePractice}, Resource: "ServiceRequest", Perm: 'c'},
	ServiceRequestRead:   {Roles: []Role{RolePractice, RoleLinkWorker, RoleProvider, RoleAdmin}, Resource: "ServiceRequest", Perm: 'r'},
	ServiceRequestSearch: {Roles: []Role{RolePractice}, Resource: "ServiceRequest", Perm: 's'},
	ConsentCreate:        {Roles: []Role{RolePractice}, Resource: "Consent", Perm: 'c'},
	ConsentRead:          {Roles: []Role{RolePractice, RoleAdmin}, Resource: "Consent", Perm: 'r'},
	TransactionPost:      {Roles: []Role{RolePractice}, Resource: "ServiceRequest", Perm: 'c'},
	TaskRead:             {Roles: []Role{RolePractice, RoleLinkWorker, RoleProvider, RoleAdmin}, Resource: "Task", Perm: 'r'},
	TaskSearch:           {Roles: []Role{RolePractice, RoleLinkWorker, RoleProvider, RoleAdmin}, Resource: "Task", Perm: 's'},
	DirectoryRead:        {Roles: everyone, Resource: "HealthcareService", Perm: 'r'},
	AuditRead:            {Roles: []Role{RoleAdmin}, Resource: "AuditEvent", Perm: 's'},

	// EHR notifications (issue 6): a practice manages its own
	// Subscriptions (others' answer 404); admins see dead letters.
	SubscriptionCreate:      {Roles: []Role{RolePractice}, Resource: "Subscription", Perm: 'c'},
	SubscriptionRead:        {Roles: []Role{RolePractice}, Resource: "Subscription", Perm: 'r'},
	SubscriptionDelete:      {Roles: []Role{RolePractice}, Resource: "Subscription", Perm: 'd'},
	NotificationDeadLetters: {Roles: []Role{RoleAdmin}, Resource: "Subscription", Perm: 's'},
}

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

// CanSeeTask reports whether p may see a Task and the referral it tracks:
// a practice sees its own referrals; a link worker or provider sees those
// owned by a service its organisation provides (ownerOrg); an admin sees
// all; a commissioner sees no patient-level record.
func CanSeeTask(p *Principal, t *adapter.Task, ownerOrg string) bool {
	switch p.Role {
	case RoleAdmin:
		return true
	case RolePractice:
		return t.Practice == p.Org
	case RoleLinkWorker, RoleProvider:
		return ownerOrg != "" && ownerOrg == p.Org
	}
	return false
}

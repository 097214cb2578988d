package auth

import (
	"slices"
	"strings"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Role is what kind of party a caller is.
type Role string

// Roles.
const (
	RolePractice     Role = adapter.RolePractice
	RoleLinkWorker   Role = adapter.RoleLinkWorker
	RoleProvider     Role = adapter.RoleProvider
	RoleCommissioner Role = adapter.RoleCommissioner
	RoleAdmin        Role = adapter.RoleAdmin
)

// Roles lists every role.
var Roles = []Role{RolePractice, RoleLinkWorker, RoleProvider, RoleCommissioner, RoleAdmin}

// String returns the role name.
func (r Role) String() string { return string(r) }

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Principal is an authenticated caller.
type Principal struct {
	Subject string
	Role    Role
	Org     string   // ODS code of the caller's organisation
	Scopes  []string // SMART scopes granted
	Areas   []string // areas a commissioner may report on
	Name    string   // display name of a person (link worker), if given
	Title   string   // job title of that person, if given
	Person  string   // the person's FHIR reference (fhirUser claim, normal form); "" for a system
}

// Caller is the principal as the application services take it.
func (p *Principal) Caller() adapter.Caller {
	return adapter.Caller{Actor: adapter.Actor{Subject: p.Subject, Role: string(p.Role), Org: p.Org},
		Person: p.Person, Name: p.Name, Title: p.Title}
}

// HasScope reports whether the principal's scopes allow the interaction
// on the resource type. perm is one SMART v2 permission letter: c, r, u, d
// or s. SMART v1 scopes (read, write, *) are understood too. Only system
// and user scopes count: this is a backend service.
func (p *Principal) HasScope(resourceType string, perm byte) bool {
	for _, s := range p.Scopes {
		if scopeAllows(s, resourceType, perm) {
			return true
		}
	}
	return false
}

func scopeAllows(scope, resourceType string, perm byte) bool {
	ctx, rest, ok := strings.Cut(scope, "/")
	if !ok || (ctx != "system" && ctx != "user") {
		return false
	}
	rt, perms, ok := strings.Cut(rest, ".")
	if !ok || (rt != "*" && rt != resourceType) {
		return false
	}
	if i := strings.IndexByte(perms, '?'); i >= 0 {
		perms = perms[:i] // v2 fine-grained constraints are not narrowed here
	}
	switch perms {
	case "*":
		return true
	case "read":
		return perm == 'r' || perm == 's'
	case "write":
		return perm == 'c' || perm == 'u' || perm == 'd'
	}
	return validV2(perms) && strings.IndexByte(perms, perm) >= 0
}

// validV2 reports whether perms is a SMART v2 permission string: letters of
// "cruds", each at most once, in that order.
func validV2(perms string) bool {
	const order = "cruds"
	last := -1
	for i := 0; i < len(perms); i++ {
		j := strings.IndexByte(order, perms[i])
		if j <= last {
			return false
		}
		last = j
	}
	return perms != ""
}

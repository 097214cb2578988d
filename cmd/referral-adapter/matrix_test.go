package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

// callers holds one token subject per role, with the organisation that
// role has in the default network.
var callers = map[auth.Role]string{
	auth.RolePractice:     practice,
	auth.RoleLinkWorker:   "U00001",
	auth.RoleProvider:     "X1V01",
	auth.RoleCommissioner: "QWO",
	auth.RoleAdmin:        "U00001",
}

// The authorisation matrix, route by route and role by role: a role the
// policy table does not name for a route's action gets 403; a role it names
// never gets 401 or 403. Routes come from the server itself, so a new
// route is covered the moment it is registered.
func TestAuthorisationMatrixEveryRouteEveryRole(t *testing.T) {
	h := newHarness(t, nil)
	id := h.do("POST", "/fhir/ServiceRequest", h.token(auth.RolePractice, practice), fixture(t, "servicerequest-debt.json")).json(t)["id"].(string)
	if len(h.app.routes) < 10 {
		t.Fatalf("only %d routes registered", len(h.app.routes))
	}
	for _, rt := range h.app.routes {
		path := strings.NewReplacer(":id", id, ":queue", "money-advice").Replace(rt.Path)
		if strings.HasSuffix(rt.Path, "/Task") {
			path += "?focus=ServiceRequest/" + id
		}
		for _, role := range auth.Roles {
			var body []byte
			if rt.Method != "GET" {
				body = []byte(`{}`)
			}
			r := h.do(rt.Method, path, callerToken(t, role), body)
			allowed := slices.Contains(auth.Policy[rt.Action].Roles, role)
			switch {
			case !allowed && r.status != 403:
				t.Errorf("%s %s as %s = %d, want 403", rt.Method, rt.Path, role, r.status)
			case allowed && (r.status == 403 || r.status == 401):
				t.Errorf("%s %s as %s = %d, want access: %s", rt.Method, rt.Path, role, r.status, r.body)
			}
		}
	}
}

// Cross-tenant reads answer 404, not 403, so existence does not leak.
func TestCrossTenantReadsAre404(t *testing.T) {
	h := newHarness(t, nil)
	id := h.do("POST", "/fhir/ServiceRequest", h.token(auth.RolePractice, practice), fixture(t, "servicerequest-debt.json")).json(t)["id"].(string)
	strangers := map[auth.Role]string{auth.RolePractice: otherPractice, auth.RoleProvider: "X1V02", auth.RoleLinkWorker: "U99999"}
	for _, rt := range h.app.routes {
		if rt.Method != "GET" || !strings.Contains(rt.Path, ":id") || strings.Contains(rt.Path, "HealthcareService") {
			continue
		}
		path := strings.ReplaceAll(rt.Path, ":id", id)
		for role, org := range strangers {
			if !slices.Contains(auth.Policy[rt.Action].Roles, role) {
				continue
			}
			if r := h.do("GET", path, h.token(role, org), nil); r.status != 404 {
				t.Errorf("%s %s as %s of %s = %d, want 404", rt.Method, path, role, org, r.status)
			}
		}
	}
}

// callerToken mints the role's token; a commissioner covers area LS6; the
// practice's caller is a GP, so that a clinician's sign-off (issue 11), the
// one route that also asks for a clinical job title, is reached too.
func callerToken(t *testing.T, role auth.Role) string {
	o := auth.MintOptions{Role: role, Org: callers[role], Areas: []string{"LS6"}}
	if role == auth.RolePractice {
		o.Title = "GP"
	}
	tok, err := auth.Mint(testSecret, o)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

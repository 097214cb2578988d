package auth_test

import (
	"strings"
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

// matrix is who may take each action, written out independently of
// policy.go so that any change to the authorisation matrix is a deliberate
// change here too. Letters: P practice, L link-worker, V provider (VCSE),
// C commissioner, A admin.
var matrix = map[auth.Action]string{
	auth.ServiceRequestCreate:    "P",
	auth.ServiceRequestRead:      "PLV",
	auth.ServiceRequestSearch:    "PLV",
	auth.ConsentCreate:           "P",
	auth.ConsentRead:             "P",
	auth.TransactionPost:         "P",
	auth.TaskRead:                "PLV",
	auth.TaskSearch:              "PLV",
	auth.DirectoryRead:           "PLVCA",
	auth.AuditRead:               "A",
	auth.CapacityRead:            "LVCA",
	auth.CapacityUpdate:          "VA",
	auth.QueueClaim:              "LV",
	auth.QueueRead:               "LV",
	auth.LeaseRenew:              "LV",
	auth.TaskTransition:          "PLV",
	auth.ReferOn:                 "L",
	auth.Handover:                "LV",
	auth.OutcomeCreate:           "LV",
	auth.ObservationRead:         "PLV",
	auth.ProcedureRead:           "PLV",
	auth.ObservationSearch:       "PLV",
	auth.ProcedureSearch:         "PLV",
	auth.GoalRead:                "PLV",
	auth.ReferralSignOff:         "P",
	auth.ReportCapacity:          "CA",
	auth.ReportPractice:          "P",
	auth.MeasureReportSearch:     "CA",
	auth.DashboardView:           "CA",
	auth.SubscriptionCreate:      "P",
	auth.SubscriptionRead:        "P",
	auth.SubscriptionDelete:      "P",
	auth.NotificationDeadLetters: "A",
	auth.CommunicationCreate:     "PLV",
	auth.CommunicationRead:       "PLV",
	auth.CommunicationSearch:     "PLV",
	auth.FlagCreate:              "LV",
	auth.FlagRead:                "PLV",
	auth.FlagSearch:              "PLV",
	auth.PatientCreate:           "P",
	auth.PatientRead:             "PLV",
	auth.PatientUpdate:           "P",
	auth.ContactAttemptCreate:    "LV",
	auth.ContactAttemptRead:      "LV",
}

var letter = map[auth.Role]string{
	auth.RolePractice: "P", auth.RoleLinkWorker: "L", auth.RoleProvider: "V", auth.RoleCommissioner: "C", auth.RoleAdmin: "A",
}

func TestMatrixCoversThePolicy(t *testing.T) {
	for a := range auth.Policy {
		if _, ok := matrix[a]; !ok {
			t.Errorf("action %s is in the Policy but not in this test's matrix: add who may take it", a)
		}
	}
	for a := range matrix {
		if _, ok := auth.Policy[a]; !ok {
			t.Errorf("action %s is in the matrix but not in the Policy", a)
		}
	}
	if len(auth.Roles) != len(letter) {
		t.Errorf("roles %v: the matrix knows %d", auth.Roles, len(letter))
	}
}

// Every action × every role: allowed as the matrix says, else EFORBIDDEN
// naming the role. The principals hold every scope, so only roles decide.
func TestPolicyRoles(t *testing.T) {
	for a, who := range matrix {
		for _, role := range auth.Roles {
			p := &auth.Principal{Role: role, Org: "X", Scopes: []string{"system/*.cruds"}}
			err := p.Authorize(a)
			if strings.Contains(who, letter[role]) {
				if err != nil {
					t.Errorf("%s may %s: %v", role, a, err)
				}
				continue
			}
			if adapter.ErrorCode(err) != adapter.EFORBIDDEN || !strings.Contains(adapter.ErrorMessage(err), "role "+string(role)) {
				t.Errorf("%s may not %s: got %v", role, a, err)
			}
		}
	}
	p := &auth.Principal{Role: auth.RoleAdmin, Scopes: []string{"system/*.cruds"}}
	if err := p.Authorize("Patient.delete"); adapter.ErrorCode(err) != adapter.EFORBIDDEN {
		t.Errorf("an action not in the Policy: %v", err)
	}
}

// A role that may take an action still needs a scope for it: with none it
// is EFORBIDDEN naming the scope; with the scopes a dev token gets by
// default for the role, it may take every action the role may.
func TestPolicyScopes(t *testing.T) {
	for a, who := range matrix {
		for _, role := range auth.Roles {
			if !strings.Contains(who, letter[role]) {
				continue
			}
			bare := &auth.Principal{Role: role, Org: "X"}
			if err := bare.Authorize(a); adapter.ErrorCode(err) != adapter.EFORBIDDEN || !strings.Contains(adapter.ErrorMessage(err), "scope") {
				t.Errorf("%s without scopes may %s: %v", role, a, err)
			}
			dev := &auth.Principal{Role: role, Org: "X", Scopes: auth.DefaultScopes[role]}
			if err := dev.Authorize(a); err != nil {
				t.Errorf("%s with its default scopes may not %s: %v", role, a, err)
			}
		}
	}
}

// SMART scopes: v1 (read, write, *) and v2 (letters of cruds, in order, with
// optional constraints), for system and user contexts.
func TestHasScope(t *testing.T) {
	cases := []struct {
		scope string
		rt    string
		allow string // permission letters granted on rt
	}{
		{"system/ServiceRequest.write", "ServiceRequest", "cud"},
		{"system/ServiceRequest.read", "ServiceRequest", "rs"},
		{"system/ServiceRequest.*", "ServiceRequest", "cruds"},
		{"system/*.read", "Consent", "rs"},
		{"system/*.write", "Task", "cud"},
		{"user/ServiceRequest.write", "ServiceRequest", "cud"},
		{"system/ServiceRequest.c", "ServiceRequest", "c"},
		{"system/ServiceRequest.crs", "ServiceRequest", "crs"},
		{"system/ServiceRequest.rs", "ServiceRequest", "rs"},
		{"system/ServiceRequest.cruds", "ServiceRequest", "cruds"},
		{"system/ServiceRequest.u", "ServiceRequest", "u"},
		{"system/*.cruds", "AuditEvent", "cruds"},
		{"system/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|social-history", "Observation", "rs"},
		// Not for this resource type, or not a valid scope.
		{"system/Consent.crs", "ServiceRequest", ""},
		{"system/ServiceRequest.c", "Consent", ""},
		{"patient/ServiceRequest.write", "ServiceRequest", ""},
		{"patient/*.read", "ServiceRequest", ""},
		{"ServiceRequest.c", "ServiceRequest", ""},
		{"system/ServiceRequest", "ServiceRequest", ""},
		{"system/ServiceRequest.", "ServiceRequest", ""},
		{"system/ServiceRequest.rc", "ServiceRequest", ""},
		{"system/ServiceRequest.cc", "ServiceRequest", ""},
		{"system/ServiceRequest.x", "ServiceRequest", ""},
		{"system/ServiceRequest.writes", "ServiceRequest", ""},
		{"system/servicerequest.c", "ServiceRequest", ""},
		{"launch", "ServiceRequest", ""},
		{"openid", "ServiceRequest", ""},
	}
	for _, c := range cases {
		p := &auth.Principal{Scopes: []string{c.scope}}
		for _, perm := range []byte("cruds") {
			want := strings.IndexByte(c.allow, perm) >= 0
			if got := p.HasScope(c.rt, perm); got != want {
				t.Errorf("%q on %s.%c: %v, want %v", c.scope, c.rt, perm, got, want)
			}
		}
	}
	// Scopes add up.
	p := &auth.Principal{Scopes: []string{"system/ServiceRequest.r", "system/ServiceRequest.write"}}
	if !p.HasScope("ServiceRequest", 'c') || !p.HasScope("ServiceRequest", 'r') || p.HasScope("ServiceRequest", 's') {
		t.Error("scopes do not add up")
	}
}

// A practice holding only the SMART v1 system/ServiceRequest.write scope
// may send referrals (single or in a transaction) but not read them back.
func TestAuthorizeWithV1AndV2Scopes(t *testing.T) {
	cases := []struct {
		scopes []string
		action auth.Action
		ok     bool
	}{
		{[]string{"system/ServiceRequest.write"}, auth.ServiceRequestCreate, true},
		{[]string{"system/ServiceRequest.write"}, auth.TransactionPost, true},
		{[]string{"system/ServiceRequest.write"}, auth.ServiceRequestRead, false},
		{[]string{"system/ServiceRequest.c"}, auth.ServiceRequestCreate, true},
		{[]string{"system/ServiceRequest.c"}, auth.ServiceRequestSearch, false},
		{[]string{"system/ServiceRequest.crs"}, auth.ServiceRequestSearch, true},
		{[]string{"system/ServiceRequest.rs"}, auth.ServiceRequestCreate, false},
		{[]string{"system/Consent.c"}, auth.ServiceRequestCreate, false},
		{[]string{"system/Consent.c"}, auth.ConsentCreate, true},
		{[]string{"system/Task.rs"}, auth.TaskTransition, false},
	}
	for _, c := range cases {
		p := &auth.Principal{Role: auth.RolePractice, Org: "A81001", Scopes: c.scopes}
		err := p.Authorize(c.action)
		if (err == nil) != c.ok || (err != nil && adapter.ErrorCode(err) != adapter.EFORBIDDEN) {
			t.Errorf("%v %s: %v, want allowed=%v", c.scopes, c.action, err, c.ok)
		}
	}
}

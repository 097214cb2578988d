package access_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/access"
	"github.com/social-prescribing/referral-adapter/adapter/consent"
	"github.com/social-prescribing/referral-adapter/adapter/routing"
	"github.com/social-prescribing/referral-adapter/mappings"
)

const (
	patient = "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009"
	lw      = "riverside-link-workers"
	policy  = "https://social-prescribing.github.io/referral-adapter/policy/social-prescribing-sharing"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// consents is a fixed consent source.
type consents struct {
	cs  []consent.Consent
	err error
}

func (c consents) PatientConsents(context.Context, string, string) ([]consent.Consent, error) {
	return c.cs, c.err
}

type tasks map[string]*adapter.Task

func (ts tasks) Task(_ context.Context, id string) (*adapter.Task, error) {
	if t, ok := ts[id]; ok {
		return t, nil
	}
	return nil, adapter.NotFound("Task")
}

func permit(cites bool, actors []consent.Actor, exceptions ...consent.Provision) consent.Consent {
	c := consent.Consent{ID: "c1", Status: consent.StatusActive, Patient: patient,
		Scope: []adapter.Coding{consent.ScopePrivacy}, DateTime: now.Add(-time.Hour),
		Provision: &consent.Provision{Type: consent.Permit, Actors: actors, Provisions: exceptions}}
	if cites {
		c.Policies = []string{policy}
	}
	return c
}

func org(ods string) consent.Actor { return consent.Actor{Reference: consent.OrgRef(ods)} }

func newPolicy(t *testing.T, cs []consent.Consent, ts tasks) *access.Policy {
	t.Helper()
	m, err := routing.Load(mappings.Default, "mappings")
	if err != nil {
		t.Fatal(err)
	}
	p := access.New(m, consents{cs: cs}, ts, lw, true)
	p.SetClock(func() time.Time { return now })
	return p
}

func caller(role, org, person string) adapter.Caller {
	return adapter.Caller{Actor: adapter.Actor{Subject: role + "@" + org, Role: role, Org: org}, Person: person}
}

func task(id, owner string) *adapter.Task {
	return &adapter.Task{ID: id, ReferralID: id, Practice: "A81001", Patient: patient, Owner: owner, Status: adapter.TaskRequested}
}

// Who sees a Task: the referring practice; the organisation holding it,
// when the consent lets the referral go to it (and to the person acting);
// a link worker following an onward referral from its own; nobody else.
func TestSeeTask(t *testing.T) {
	onward := task("child", "money-advice")
	onward.ReferralID, onward.PartOf = "root", "root"
	ts := tasks{"root": task("root", lw), "child": onward}
	cs := []consent.Consent{permit(true, []consent.Actor{org("U00001")},
		consent.Provision{Type: consent.Deny, Actors: []consent.Actor{{Reference: "Practitioner/lw-sam"}}})}
	p := newPolicy(t, cs, ts)
	held := task("held", "money-advice")
	held.AwaitConsent(now)
	cases := []struct {
		name string
		c    adapter.Caller
		t    *adapter.Task
		want bool
	}{
		{"the referring practice", caller(adapter.RolePractice, "A81001", ""), ts["root"], true},
		{"another practice", caller(adapter.RolePractice, "B82002", ""), ts["root"], false},
		{"a link worker of the network", caller(adapter.RoleLinkWorker, "U00001", "Practitioner/lw-alex"), ts["root"], true},
		{"the link worker the patient denied", caller(adapter.RoleLinkWorker, "U00001", "Practitioner/lw-sam"), ts["root"], false},
		{"a link worker's system, naming nobody", caller(adapter.RoleLinkWorker, "U00001", ""), ts["root"], false},
		{"a provider on a link-worker Task", caller(adapter.RoleProvider, "U00001", "Practitioner/x"), ts["root"], false},
		{"the partner holding the onward referral", caller(adapter.RoleProvider, "X1V01", "Practitioner/ca-1"), onward, true},
		{"a link worker following it", caller(adapter.RoleLinkWorker, "U00001", "Practitioner/lw-alex"), onward, true},
		{"another provider", caller(adapter.RoleProvider, "X1V02", "Practitioner/h-1"), onward, false},
		{"the service of a referral held for consent", caller(adapter.RoleProvider, "X1V01", "Practitioner/ca-1"), held, false},
		{"a commissioner", caller(adapter.RoleCommissioner, "U00001", ""), ts["root"], false},
		{"an admin", caller(adapter.RoleAdmin, "ADMIN", ""), ts["root"], false},
	}
	for _, tc := range cases {
		got, err := p.SeeTask(context.Background(), tc.c, tc.t)
		if err != nil || got != tc.want {
			t.Errorf("%s: %v %v, want %v", tc.name, got, err, tc.want)
		}
	}
	// Consents that cannot be read: an error, never a yes.
	broken := access.New(mustMappings(t), consents{err: errors.New("down")}, ts, lw, true)
	if ok, err := broken.SeeTask(context.Background(), caller(adapter.RoleLinkWorker, "U00001", "Practitioner/a"), ts["root"]); ok || err == nil {
		t.Errorf("unreadable consents: %v %v", ok, err)
	}
}

func mustMappings(t *testing.T) *routing.Mappings {
	m, err := routing.Load(mappings.Default, "mappings")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Mark: the routing door.
func TestMark(t *testing.T) {
	route := []adapter.RouteStep{{Service: "money-advice"}, {Waitlist: true}, {Service: lw}}
	skips := func(steps []adapter.RouteStep) []string {
		var out []string
		for _, st := range steps {
			switch {
			case st.LastResort:
				out = append(out, "last:"+st.Service)
			case st.Skip != "":
				out = append(out, string(st.Skip)+":"+st.Service)
			}
		}
		return out
	}
	cases := []struct {
		name  string
		cs    []consent.Consent
		ok    bool
		marks []string
	}{
		{"the network, citing the agreement: the partner too", []consent.Consent{permit(true, []consent.Actor{org("U00001")})}, true, nil},
		{"the network, not citing it", []consent.Consent{permit(false, []consent.Actor{org("U00001")})}, true, []string{"no-consent:money-advice"}},
		{"the partner only", []consent.Consent{permit(false, []consent.Actor{org("X1V01")})}, true,
			[]string{"no-consent:" + lw, "last:money-advice"}},
		{"neither", []consent.Consent{permit(false, []consent.Actor{org("X1V05")})}, false,
			[]string{"no-consent:money-advice", "no-consent:" + lw}},
		{"no consent", nil, false, []string{"no-consent:money-advice", "no-consent:" + lw}},
	}
	for _, tc := range cases {
		p := newPolicy(t, tc.cs, nil)
		marked, ok := p.Mark(tc.cs, task("t", ""), route, now)
		if ok != tc.ok || !slices.Equal(skips(marked), tc.marks) {
			t.Errorf("%s: ok %v marks %v, want %v %v", tc.name, ok, skips(marked), tc.ok, tc.marks)
		}
		if len(route) != 3 || route[0].Skip != "" {
			t.Fatalf("%s: Mark changed the route it was given", tc.name)
		}
	}
	// An eligibility skip stays, and is never the last resort.
	cs := []consent.Consent{permit(false, []consent.Actor{org("X1V01")})}
	p := newPolicy(t, cs, nil)
	ineligible := []adapter.RouteStep{{Service: "money-advice", Skip: adapter.SkipIneligibleAge}, {Service: lw}}
	if marked, ok := p.Mark(cs, task("t", ""), ineligible, now); ok || marked[0].Skip != adapter.SkipIneligibleAge {
		t.Errorf("ineligible: %v %+v", ok, marked)
	}
	// Without CONSENT_REQUIRED every service may receive it.
	open := access.New(mustMappings(t), consents{}, nil, lw, false)
	if marked, ok := open.Mark(nil, task("t", ""), route, now); !ok || len(skips(marked)) != 0 {
		t.Errorf("consent not required: %v %v", ok, skips(marked))
	}
}

// SeeRecord: outcomes and messages go back to the practice only with the
// patient's approval and consent; the recording organisation always sees
// its own; another holder only as the consent permits.
func TestSeeRecord(t *testing.T) {
	onward := task("child", "money-advice")
	onward.ReferralID, onward.PartOf = "root", "root"
	ts := tasks{"root": task("root", lw), "child": onward}
	gp := caller(adapter.RolePractice, "A81001", "")
	mh := []adapter.Coding{{System: consent.SystemActCode, Code: "MH"}}
	rec := func(approved bool, labels []adapter.Coding) access.Record {
		return access.Record{Approved: approved, Org: "X1V01",
			Info: consent.Information{Patient: patient, Type: "Observation", Reference: "Observation/o1", Labels: labels}}
	}
	cs := []consent.Consent{permit(true, []consent.Actor{org("U00001"), org("A81001")})}
	p := newPolicy(t, cs, ts)
	ctx := context.Background()
	check := func(name string, c adapter.Caller, r access.Record, want bool) {
		t.Helper()
		if d, err := p.SeeRecord(ctx, c, onward, r); err != nil || d.Permit != want {
			t.Errorf("%s: %+v %v, want %v", name, d, err, want)
		}
	}
	check("approved, to the practice", gp, rec(true, nil), true)
	check("not approved, to the practice", gp, rec(false, nil), false)
	check("approved but mental health, to the practice", gp, rec(true, mh), false)
	check("the recording provider", caller(adapter.RoleProvider, "X1V01", "Practitioner/ca-1"), rec(false, mh), true)
	check("the link workers following", caller(adapter.RoleLinkWorker, "U00001", "Practitioner/lw-alex"), rec(false, nil), true)
	check("the link workers, mental health", caller(adapter.RoleLinkWorker, "U00001", "Practitioner/lw-alex"), rec(false, mh), false)
}

package consent

import (
	"strings"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
)

const sharingPolicy = "https://social-prescribing.github.io/referral-adapter/policy/social-prescribing-sharing"

func odsActor(role adapter.Coding, ods string) Actor { return actor(role, OrgRef(ods)) }

// referral is the information routing discloses: the referral itself.
func referral() Information {
	return Information{Patient: patient, Type: adapter.KindServiceRequest, Reference: "ServiceRequest/sr1",
		Related: []string{"Task/sr1"}, Recorded: day(2026, 11, 20)}
}

// networkPartner is X1V01 as a partner of the network under the sharing
// agreement.
func networkPartner(ods string) Recipient {
	return Recipient{Org: ods, Via: []Agreement{{Policy: sharingPolicy, Reference: OrgRef("U00001")}}}
}

// A deny naming the receiving organisation is decided for that
// organisation, whatever else the consent permits, however the deny names
// it and whichever disclosure-related action it states.
func TestReleaseDenyForTheRecipientWins(t *testing.T) {
	deny := func(a Actor, actions ...adapter.Coding) []Consent {
		return []Consent{active("c1", day(2026, 11, 1), &Provision{Type: Permit,
			Actors:     []Actor{odsActor(ircp, "U00001"), odsActor(ircp, "X1V01"), odsActor(ircp, "X1V02")},
			Provisions: []Provision{{Type: Deny, Actors: []Actor{a}, Actions: actions}}})}
	}
	forms := map[string]Actor{
		"ODS identifier":      odsActor(ircp, "X1V01"),
		"literal":             actor(ircp, "Organization/X1V01"),
		"absolute literal":    actor(ircp, "https://directory.example.nhs.uk/fhir/Organization/X1V01"),
		"no role":             {Reference: OrgRef("X1V01")},
		"literal, identifier": {Reference: "Organization/other", Identifier: OrgRef("X1V01")},
	}
	actions := map[string][]adapter.Coding{
		"no action": nil, "access": {ActionAccess}, "use": {ActionUse}, "collect": {ActionCollect}, "disclose": {ActionDisclose},
	}
	for fname, a := range forms {
		for aname, acts := range actions {
			cs := deny(a, acts...)
			if d := Release(cs, Recipient{Org: "X1V01"}, referral(), now); d.Permit {
				t.Errorf("%s, %s: released to the organisation the deny names: %+v", fname, aname, d)
			}
			if d := Release(cs, Recipient{Org: "X1V02"}, referral(), now); !d.Permit {
				t.Errorf("%s, %s: the other organisation the root permits: %+v", fname, aname, d)
			}
			if d := Release(cs, Recipient{Org: "U00001", PersonLevel: true}, referral(), now); !d.Permit {
				t.Errorf("%s, %s: the network: %+v", fname, aname, d)
			}
		}
	}
	// A deny of an action a disclosure does not entail (correct) does not
	// stop it; a permit must name disclose itself.
	if d := Release(deny(odsActor(ircp, "X1V01"), ActionCorrect), Recipient{Org: "X1V01"}, referral(), now); !d.Permit {
		t.Errorf("deny of correct only: %+v", d)
	}
	accessOnly := []Consent{active("c1", day(2026, 11, 1), &Provision{Type: Permit, Actions: codings(ActionAccess),
		Actors: []Actor{odsActor(ircp, "X1V01")}})}
	if d := Release(accessOnly, Recipient{Org: "X1V01"}, referral(), now); d.Permit {
		t.Errorf("a permit of access only released a disclosure: %+v", d)
	}
}

// Consent to the network covers a VCSE service only where the network has
// made it a partner under the agreement the Consent cites.
func TestReleaseNetworkConsentCoversPartnersUnderItsAgreement(t *testing.T) {
	toNetwork := active("c1", day(2026, 11, 1), &Provision{Type: Permit, Actors: []Actor{odsActor(ircp, "U00001")}})
	citing := toNetwork
	citing.Policies = []string{sharingPolicy}
	partner := networkPartner("X1V01")
	if d := Release([]Consent{toNetwork}, partner, referral(), now); d.Permit {
		t.Errorf("a consent that does not cite the agreement covered a partner: %+v", d)
	}
	if d := Release([]Consent{citing}, partner, referral(), now); !d.Permit {
		t.Errorf("the partner under the cited agreement: %+v", d)
	}
	if d := Release([]Consent{citing}, Recipient{Org: "X1V05"}, referral(), now); d.Permit {
		t.Errorf("a service that is no partner: %+v", d)
	}
	other := partner
	other.Via = []Agreement{{Policy: "https://example.org/another-agreement", Reference: OrgRef("U00001")}}
	if d := Release([]Consent{citing}, other, referral(), now); d.Permit {
		t.Errorf("a partner under another agreement: %+v", d)
	}
	denyPartner := citing
	denyPartner.Provision = &Provision{Type: Permit, Actors: []Actor{odsActor(ircp, "U00001")},
		Provisions: []Provision{{Actors: []Actor{odsActor(ircp, "X1V01")}}}}
	if d := Release([]Consent{denyPartner}, partner, referral(), now); d.Permit {
		t.Errorf("a deny naming the partner: %+v", d)
	}
	denyNetwork := citing
	denyNetwork.Provision = &Provision{Type: Deny, Actors: []Actor{odsActor(ircp, "U00001")}}
	if d := Release([]Consent{citing, denyNetwork}, partner, referral(), now); d.Permit {
		t.Errorf("a later deny of the network (citing the agreement) still released to its partner: %+v", d)
	}
}

// A provision naming a person applies when people act (claims, reads), not
// to the organisation as a whole; who acts is compared only when it can be,
// and an unknown person is denied.
func TestReleasePersonLevelActors(t *testing.T) {
	cs := []Consent{active("c1", day(2026, 11, 1), &Provision{Type: Permit, Actors: []Actor{odsActor(ircp, "U00001")},
		Provisions: []Provision{{Actors: []Actor{actor(ircp, "Practitioner/lw-sam")}}}})}
	cases := []struct {
		name string
		to   Recipient
		want bool
	}{
		{"the organisation", Recipient{Org: "U00001"}, true},
		{"the denied person", Recipient{Org: "U00001", PersonLevel: true, Person: "Practitioner/lw-sam"}, false},
		{"a colleague", Recipient{Org: "U00001", PersonLevel: true, Person: "Practitioner/lw-alex"}, true},
		{"a system or unnamed person", Recipient{Org: "U00001", PersonLevel: true}, false},
		{"a person named otherwise", Recipient{Org: "U00001", PersonLevel: true, Person: "PractitionerRole/r1"}, false},
	}
	for _, tc := range cases {
		if d := Release(cs, tc.to, referral(), now); d.Permit != tc.want {
			t.Errorf("%s: %+v", tc.name, d)
		}
	}
	// A permit naming only a person does not release to the organisation.
	personOnly := []Consent{active("c1", day(2026, 11, 1), &Provision{Type: Permit, Actors: []Actor{actor(ircp, "Practitioner/lw-sam")}})}
	if d := Release(personOnly, Recipient{Org: "U00001"}, referral(), now); d.Permit {
		t.Errorf("a person's permit released to the organisation: %+v", d)
	}
	if d := Release(personOnly, Recipient{Org: "U00001", PersonLevel: true, Person: "Practitioner/lw-sam"}, referral(), now); !d.Permit {
		t.Errorf("the person the permit names: %+v", d)
	}
	if got := PersonRef("https://idp.example/fhir/Practitioner/lw-sam"); got != "Practitioner/lw-sam" {
		t.Errorf("PersonRef of an absolute fhirUser: %q", got)
	}
	if got := PersonRef("Organization/X1V01"); got != "" {
		t.Errorf("PersonRef of an organisation: %q", got)
	}
}

// A Consent dated in the future never outranks a later one: it counts as
// given when the adapter received it.
func TestReleaseFutureDatedConsentDoesNotOutrank(t *testing.T) {
	future := active("future", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), &Provision{Type: Permit})
	future.Received = day(2026, 11, 1)
	later := active("later", day(2026, 11, 10), &Provision{Type: Deny})
	later.Received = day(2026, 11, 10)
	if d := Release([]Consent{future, later}, Recipient{Org: "U00001"}, referral(), now); d.Permit || d.ConsentID != "later" {
		t.Errorf("the later deny must decide: %+v", d)
	}
	// Without a received time, now bounds it.
	future.Received = time.Time{}
	if d := Release([]Consent{future, later}, Recipient{Org: "U00001"}, referral(), now); d.ConsentID != "future" && d.ConsentID != "later" {
		t.Errorf("unexpected decision: %+v", d)
	}
}

// HIV, sexual health and restricted or very restricted information is
// withheld unless a permitting provision names it.
func TestReleaseMoreSensitiveCategories(t *testing.T) {
	broad := []Consent{active("c1", day(2026, 1, 1), &Provision{Type: Permit})}
	for _, label := range []adapter.Coding{
		{System: SystemActCode, Code: "HIV"}, {System: SystemActCode, Code: "STD"}, {System: SystemActCode, Code: "SEX"},
		{System: SystemConfidentiality, Code: "R"}, {System: SystemConfidentiality, Code: "V"},
	} {
		info := referral()
		info.Labels = codings(label)
		if d := Release(broad, Recipient{Org: "U00001"}, info, now); d.Permit || !strings.HasPrefix(d.Reason, "withheld") {
			t.Errorf("%s under a broad consent: %+v", label.Code, d)
		}
		explicit := []Consent{active("c1", day(2026, 1, 1), &Provision{Type: Permit, SecurityLabels: codings(label)})}
		if d := Release(explicit, Recipient{Org: "U00001"}, info, now); !d.Permit {
			t.Errorf("%s explicitly permitted: %+v", label.Code, d)
		}
	}
}

// Check refuses what the engine cannot interpret, naming the element.
func TestCheckRefusesWhatCannotBeInterpreted(t *testing.T) {
	known := func(ods string) bool { return ods == "X1V01" || ods == "U00001" }
	good := active("c1", day(2026, 11, 1), &Provision{Type: Permit,
		Actors:  []Actor{odsActor(ircp, "U00001"), actor(prcp, "Organization/X1V01"), odsActor(prcp, "B99999")},
		Actions: codings(ActionDisclose),
		Provisions: []Provision{{Actors: []Actor{actor(ircp, "Practitioner/f204"),
			actor(ircp, "PractitionerRole?identifier=https://fhir.nhs.uk/Id/sds-role-profile-id|555"), {Reference: "RelatedPerson/r1"}},
			Actions: codings(ActionAccess, ActionUse)}}})
	if errs := Check(good, known, now); len(errs) != 0 {
		t.Fatalf("interpretable consent refused: %v", errs)
	}
	cases := []struct {
		name string
		p    Provision
		at   string
	}{
		{"display only", Provision{Actors: []Actor{{Role: codings(ircp)}}}, "Consent.provision.actor[0].reference"},
		{"a device", Provision{Actors: []Actor{actor(ircp, "Device/d1")}}, "Consent.provision.actor[0].reference"},
		{"a care team", Provision{Actors: []Actor{actor(ircp, "CareTeam/t1")}}, "Consent.provision.actor[0].reference"},
		{"an organisation by another identifier", Provision{Actors: []Actor{actor(ircp, "Organization?identifier=http://example.org|1")}}, "Consent.provision.actor[0].reference"},
		{"an unknown literal organisation", Provision{Actors: []Actor{actor(ircp, "Organization/f001")}}, "Consent.provision.actor[0].reference"},
		{"a role of another system", Provision{Actors: []Actor{actor(adapter.Coding{System: "http://example.org/roles", Code: "IRCP"}, OrgRef("X1V01"))}}, "Consent.provision.actor[0].role"},
		{"a misspelt role", Provision{Actors: []Actor{actor(adapter.Coding{System: SystemParticipation, Code: "IRPC"}, OrgRef("X1V01"))}}, "Consent.provision.actor[0].role"},
		{"an unknown action", Provision{Actions: codings(adapter.Coding{System: SystemAction, Code: "share"})}, "Consent.provision.action[0]"},
		{"nested", Provision{Provisions: []Provision{{}, {Actors: []Actor{actor(ircp, "Group/g")}}}}, "Consent.provision.provision[1].actor[0].reference"},
	}
	for _, tc := range cases {
		p := tc.p
		p.Type = Permit
		errs := Check(active("c1", day(2026, 11, 1), &p), known, now)
		if len(errs) != 1 || len(errs[0].Expression) != 1 || errs[0].Expression[0] != tc.at {
			t.Errorf("%s: %v", tc.name, errs)
		}
	}
	future := active("c1", now.Add(MaxClockSkew+time.Minute), &Provision{Type: Permit})
	if errs := Check(future, known, now); len(errs) != 1 || errs[0].Expression[0] != "Consent.dateTime" {
		t.Errorf("future dateTime: %v", errs)
	}
	skewed := active("c1", now.Add(MaxClockSkew-time.Second), &Provision{Type: Permit})
	if errs := Check(skewed, known, now); len(errs) != 0 {
		t.Errorf("dateTime within the clock skew: %v", errs)
	}
}

package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

// Issue 17: the patient's consent is decided for the recipient actually
// receiving their data, at every door it leaves by. Each test below is one
// of the issue's observations, over HTTP.

// odsRef is a Reference to an organisation by ODS code.
func odsRef(code string) map[string]any {
	return map[string]any{"type": "Organization", "identifier": map[string]any{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": code}}
}

// actorAs is a provision actor in a role (ParticipationType).
func actorAs(role string, ref map[string]any) map[string]any {
	return map[string]any{"role": map[string]any{"coding": []any{map[string]any{
		"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": role}}}, "reference": ref}
}

func consentAction(code string) map[string]any {
	return map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/consentaction", "code": code}}}
}

// permitTo is a root provision permitting disclosure for care to the
// given recipients, with the given exceptions.
func permitTo(actors []any, exceptions ...map[string]any) map[string]any {
	p := map[string]any{"type": "permit", "period": map[string]any{"start": "2026-11-20", "end": "2027-11-20"},
		"action":  []any{consentAction("disclose")},
		"purpose": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "TREAT"}},
		"actor":   actors}
	if len(exceptions) > 0 {
		var ex []any
		for _, e := range exceptions {
			ex = append(ex, e)
		}
		p["provision"] = ex
	}
	return p
}

// consentWith is the golden consent with its own identifier, dateTime and
// root provision, citing the network's sharing agreement or not.
func consentWith(t *testing.T, id, dateTime string, cites bool, provision map[string]any) []byte {
	t.Helper()
	set := map[string]any{"provision": provision, "dateTime": dateTime,
		"identifier": []any{map[string]any{"system": "https://fhir.a81001.example.nhs.uk/Id/consent", "value": id}}}
	if !cites {
		set["policy"] = nil
	}
	return withJSON(t, fixture(t, "consent-share-with-link-workers.json"), set)
}

// personToken is a token of a person, named by fhirUser.
func (h *harness) personToken(role auth.Role, org, fhirUser string) string {
	h.t.Helper()
	tok, err := auth.Mint(testSecret, auth.MintOptions{Role: role, Org: org, TTL: time.Hour, Subject: fhirUser + "@" + org,
		Name: "Worker " + fhirUser, FHIRUser: fhirUser})
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

// taskOwner is the service a Task is with, and its statusReason, as the
// practice reads it.
func taskOwner(t *testing.T, h *harness, gp, id string) (owner, reason string) {
	t.Helper()
	r := h.do("GET", "/fhir/Task/"+id, gp, nil)
	if r.status != http.StatusOK {
		t.Fatalf("GP reads Task/%s: %d %s", id, r.status, r.body)
	}
	var v struct {
		Owner        struct{ Reference string }
		StatusReason struct{ Text string }
	}
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(v.Owner.Reference, "HealthcareService/"), v.StatusReason.Text
}

func claimFrom(h *harness, queue, token string) response {
	return h.do("POST", "/api/v1/queues/"+queue+"/claim", token, nil)
}

// 1. A deny naming the receiving organisation is decided for it, whatever
// else the consent permits and however the deny names it: the debt
// referral passes Citizens Advice (X1V01) by, saying why, and X1V01 can
// neither claim nor read it.
func TestDenyNamingTheReceivingOrganisationWins(t *testing.T) {
	denies := map[string]map[string]any{
		"ODS identifier, IRCP": {"type": "deny", "actor": []any{actorAs("IRCP", odsRef("X1V01"))}},
		"action access":        {"type": "deny", "actor": []any{actorAs("IRCP", odsRef("X1V01"))}, "action": []any{consentAction("access")}},
		"action use":           {"type": "deny", "actor": []any{actorAs("IRCP", odsRef("X1V01"))}, "action": []any{consentAction("use")}},
		"literal reference":    {"type": "deny", "actor": []any{actorAs("IRCP", map[string]any{"reference": "Organization/X1V01"})}},
	}
	for name, deny := range denies {
		t.Run(name, func(t *testing.T) {
			h := consentHarness(t)
			gp := h.token(auth.RolePractice, practice)
			provider := h.token(auth.RoleProvider, "X1V01")
			lw := h.token(auth.RoleLinkWorker, "U00001")
			root := permitTo([]any{actorAs("IRCP", odsRef("U00001")), actorAs("IRCP", odsRef("X1V01")), actorAs("IRCP", odsRef("X1V02"))}, deny)
			post(t, h, "/fhir/Consent", gp, consentWith(t, "C-DENY", "2026-11-20T10:10:00Z", true, root), http.StatusCreated)
			sr := idOf(t, post(t, h, "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-debt.json"), http.StatusCreated))

			owner, reason := taskOwner(t, h, gp, sr)
			if owner != "riverside-link-workers" || !strings.Contains(reason, "Riverside Citizens Advice - debt and benefits is not one the patient's consent allows") {
				t.Fatalf("routed to %q: %q", owner, reason)
			}
			if r := claimFrom(h, "money-advice", provider); r.status != http.StatusNoContent {
				t.Errorf("X1V01 claims: %d %s", r.status, r.body)
			}
			for _, path := range []string{"/fhir/ServiceRequest/" + sr, "/fhir/Task/" + sr} {
				if r := h.do("GET", path, provider, nil); r.status != http.StatusNotFound {
					t.Errorf("X1V01 reads %s: %d", path, r.status)
				}
			}
			if r := claimFrom(h, "riverside-link-workers", lw); r.status != http.StatusOK {
				t.Errorf("the link workers claim: %d %s", r.status, r.body)
			}
		})
	}
}

// 2. Consent to the network covers a VCSE service only where the network
// made it a partner under the agreement the Consent cites.
func TestConsentToTheNetworkCoversOnlyItsPartners(t *testing.T) {
	networkOnly := permitTo([]any{actorAs("IRCP", odsRef("U00001"))})
	cases := []struct {
		name, referral string
		cites          bool
		extra          []any // further actors of the root permit
		want           string
	}{
		{"not citing the agreement", "servicerequest-debt.json", false, nil, "riverside-link-workers"},
		{"citing it: a partner", "servicerequest-debt.json", true, nil, "money-advice"},
		{"citing it: no partner", "servicerequest-loneliness.json", true, nil, "riverside-link-workers"},
		{"naming the provider itself", "servicerequest-loneliness.json", false, []any{actorAs("IRCP", odsRef("X1V03"))}, "befriending"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := consentHarness(t)
			gp := h.token(auth.RolePractice, practice)
			root := permitTo(append(slices.Clone(networkOnly["actor"].([]any)), tc.extra...))
			post(t, h, "/fhir/Consent", gp, consentWith(t, "C-NET", "2026-11-20T10:10:00Z", tc.cites, root), http.StatusCreated)
			sr := idOf(t, post(t, h, "/fhir/ServiceRequest", gp, fixture(t, tc.referral), http.StatusCreated))
			if owner, reason := taskOwner(t, h, gp, sr); owner != tc.want {
				t.Fatalf("routed to %q (%q), want %q", owner, reason, tc.want)
			}
			if tc.want == "riverside-link-workers" {
				vcse := map[string]string{"servicerequest-debt.json": "X1V01", "servicerequest-loneliness.json": "X1V03"}[tc.referral]
				if r := h.do("GET", "/fhir/ServiceRequest/"+sr, h.token(auth.RoleProvider, vcse), nil); r.status != http.StatusNotFound {
					t.Errorf("the VCSE provider the consent does not cover reads the referral: %d", r.status)
				}
			}
		})
	}
}

// 3. Refer-on asks the consent for the target's organisation: a deny
// naming it refuses the refer-on (422), and its provider can neither claim
// nor read the referral; a service the consent covers takes it.
func TestReferOnAsksTheConsent(t *testing.T) {
	h := consentHarness(t)
	gp := h.token(auth.RolePractice, practice)
	lw := h.token(auth.RoleLinkWorker, "U00001")
	cafe := h.token(auth.RoleProvider, "X1V05")
	root := permitTo([]any{actorAs("IRCP", odsRef("U00001")), actorAs("IRCP", odsRef("X1V05"))},
		map[string]any{"type": "deny", "actor": []any{actorAs("IRCP", odsRef("X1V05"))}})
	post(t, h, "/fhir/Consent", gp, consentWith(t, "C-ONWARD", "2026-11-20T10:10:00Z", true, root), http.StatusCreated)
	sr := idOf(t, post(t, h, "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-general.json"), http.StatusCreated))
	if r := claimFrom(h, "riverside-link-workers", lw); r.status != http.StatusOK {
		t.Fatalf("claim: %d %s", r.status, r.body)
	}
	h.api("POST", "/api/v1/referrals/"+sr+"/transition", lw, `{"status":"accepted"}`)

	r := h.api("POST", "/api/v1/referrals/"+sr+"/refer-on", lw, `{"service":"wellbeing-cafe","reason":"anxiety about money"}`)
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("refer-on to a service the consent denies: %d %s", r.status, r.body)
	}
	if is := issue(t, r); is["code"] != "business-rule" || !strings.Contains(is["diagnostics"].(string), "Riverside Mind Wellbeing Cafe") {
		t.Errorf("refusal: %v", is)
	}
	if r := claimFrom(h, "wellbeing-cafe", cafe); r.status != http.StatusNoContent {
		t.Errorf("X1V05 claims: %d %s", r.status, r.body)
	}
	if r := h.do("GET", "/fhir/ServiceRequest/"+sr, cafe, nil); r.status != http.StatusNotFound {
		t.Errorf("X1V05 reads the referral: %d", r.status)
	}
	// A partner under the agreement the consent cites takes it.
	child := h.api("POST", "/api/v1/referrals/"+sr+"/refer-on", lw, `{"service":"money-advice","reason":"debt advice"}`)
	if child.status != http.StatusCreated {
		t.Fatalf("refer-on to a partner: %d %s", child.status, child.body)
	}
	cab := h.token(auth.RoleProvider, "X1V01")
	if r := claimFrom(h, "money-advice", cab); r.status != http.StatusOK {
		t.Errorf("the partner claims: %d %s", r.status, r.body)
	}
	// Holding the onward referral, the partner reads the ServiceRequest
	// its Task's focus names, by read and vread;
	// the service the consent denies still cannot.
	for _, path := range []string{"/fhir/ServiceRequest/" + sr, "/fhir/ServiceRequest/" + sr + "/_history/1"} {
		r := h.do("GET", path, cab, nil)
		if r.status != http.StatusOK || gjson.GetBytes(r.body, "id").Str != sr {
			t.Errorf("the partner reads %s: %d %s", path, r.status, r.body)
		}
		if r := h.do("GET", path, cafe, nil); r.status != http.StatusNotFound {
			t.Errorf("X1V05 reads %s after the onward referral: %d", path, r.status)
		}
	}
}

// 4. dataPeriod is compared with the outcome's own date, not with when the
// adapter received it.
func TestDataPeriodIsTheOutcomesOwnDate(t *testing.T) {
	h := consentHarness(t)
	gp := h.token(auth.RolePractice, practice)
	provider := h.token(auth.RoleProvider, "X1V01")
	post(t, h, "/fhir/Consent", gp, fixture(t, "consent-share-with-link-workers.json"), http.StatusCreated)
	toGP := permitTo([]any{actorAs("PRCP", odsRef(practice))})
	toGP["dataPeriod"] = map[string]any{"start": "2026-01-01", "end": "2026-06-30"}
	post(t, h, "/fhir/Consent", gp, consentWith(t, "C-PERIOD", "2026-11-20T10:12:00Z", true, toGP), http.StatusCreated)
	sr := idOf(t, post(t, h, "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-debt.json"), http.StatusCreated))
	claimFrom(h, "money-advice", provider)
	h.api("POST", "/api/v1/referrals/"+sr+"/transition", provider, `{"status":"accepted"}`)
	record := func(effective string) string {
		obs := withJSON(t, fixture(t, "observation-swemwbs.json"), map[string]any{"effectiveDateTime": effective})
		b, _ := json.Marshal(map[string]any{"resource": json.RawMessage(obs), "patientApprovedSharing": true})
		return post(t, h, "/api/v1/referrals/"+sr+"/outcomes", provider, b, http.StatusCreated).json(t)["reference"].(string)
	}
	inside, outside := record("2026-03-01T10:00:00Z"), record("2026-11-21T14:00:00Z")
	if _, v := readTask(t, h, gp, sr); !slices.Equal(v.Outputs, []string{inside}) {
		t.Fatalf("the GP sees %v, want only %s (dated within the data period)", v.Outputs, inside)
	}
	if r := h.do("GET", "/fhir/"+outside, gp, nil); r.status != http.StatusNotFound {
		t.Errorf("the outcome dated outside the data period: %d", r.status)
	}
}

// 5. A Consent dated in the future is refused, naming its dateTime, alone
// or in a transaction, and nothing is stored.
func TestFutureDatedConsentIsRefused(t *testing.T) {
	h := consentHarness(t)
	gp := h.token(auth.RolePractice, practice)
	future := consentWith(t, "C-2099", "2099-01-01T00:00:00Z", true, permitTo([]any{actorAs("IRCP", odsRef("U00001"))}))
	before := h.dataKeys()
	r := post(t, h, "/fhir/Consent", gp, future, http.StatusUnprocessableEntity)
	if is := issue(t, r); is["code"] != "business-rule" || !strings.Contains(strings.Join(toStrings(is["expression"]), ","), "Consent.dateTime") {
		t.Errorf("refusal: %v", is)
	}
	if after := h.dataKeys(); !slices.Equal(before, after) {
		t.Errorf("a refused Consent wrote keys")
	}
}

func toStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// 6. A person named in a deny is refused when they act: the link worker
// the patient asked not to see their referral cannot claim or read it
// (the claim passes it by for the next); a colleague can; a token that
// names no person is refused too, since who acts cannot be told.
func TestPersonNamedInADenyIsRefusedWhenTheyAct(t *testing.T) {
	for name, ref := range map[string]map[string]any{
		"literal":          {"reference": "Practitioner/lw-sam"},
		"absolute":         {"reference": "https://directory.example.nhs.uk/fhir/Practitioner/lw-sam"},
		"role of a person": {"reference": "PractitionerRole/lw-sam-role"},
	} {
		t.Run(name, func(t *testing.T) {
			h := consentHarness(t)
			gp := h.token(auth.RolePractice, practice)
			root := permitTo([]any{actorAs("IRCP", odsRef("U00001"))}, map[string]any{"type": "deny", "actor": []any{actorAs("IRCP", ref)}})
			post(t, h, "/fhir/Consent", gp, consentWith(t, "C-PERSON", "2026-11-20T10:10:00Z", true, root), http.StatusCreated)
			sr := idOf(t, post(t, h, "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-general.json"), http.StatusCreated))
			denied := "Practitioner/lw-sam"
			if name == "role of a person" {
				denied = "PractitionerRole/lw-sam-role"
			}
			sam := h.personToken(auth.RoleLinkWorker, "U00001", denied)
			nobody := h.token(auth.RoleLinkWorker, "U00001")
			alex := h.personToken(auth.RoleLinkWorker, "U00001", strings.Replace(denied, "sam", "alex", 1))
			for who, tok := range map[string]string{"the denied person": sam, "a token naming nobody": nobody} {
				if r := claimFrom(h, "riverside-link-workers", tok); r.status != http.StatusNoContent {
					t.Errorf("%s claims: %d %s", who, r.status, r.body)
				}
				for _, path := range []string{"/fhir/ServiceRequest/" + sr, "/fhir/Task/" + sr} {
					if r := h.do("GET", path, tok, nil); r.status != http.StatusNotFound {
						t.Errorf("%s reads %s: %d", who, path, r.status)
					}
				}
			}
			r := claimFrom(h, "riverside-link-workers", alex)
			if r.status != http.StatusOK || !strings.Contains(string(r.body), sr) {
				t.Fatalf("a colleague claims: %d %s", r.status, r.body)
			}
			// The refused claims left no trace: the colleague is the first
			// named contact, with no handover.
			if text, _, _ := contactNote(t, h, gp, sr); strings.Contains(text, "Handed over") {
				t.Errorf("the named contact says a handover happened: %q", text)
			}
		})
	}
}

// 7. The return path delivers: with the patient's consent to share with
// their practice, an approved outcome appears in Task.output; recording it
// gives the Task a new version and a Task event (polling by _lastUpdated
// and id-only Subscriptions see it), and the outcome names the referral.
func TestApprovedOutcomeReachesThePractice(t *testing.T) {
	h := newHarness(t, map[string]string{"CONSENT_REQUIRED": "true", "SUBSCRIPTION_ALLOW_HTTP": "true"})
	gp := h.token(auth.RolePractice, practice)
	provider := h.token(auth.RoleProvider, "X1V01")
	post(t, h, "/fhir/Consent", gp, fixture(t, "consent-share-with-link-workers.json"), http.StatusCreated)
	post(t, h, "/fhir/Consent", gp, fixture(t, "consent-share-outcomes-with-practice.json"), http.StatusCreated)
	sr := idOf(t, post(t, h, "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-debt.json"), http.StatusCreated))
	claimFrom(h, "money-advice", provider)
	h.api("POST", "/api/v1/referrals/"+sr+"/transition", provider, `{"status":"accepted"}`)
	rc := newEHR(t, 200)
	post(t, h, "/fhir/Subscription", gp, subscriptionBody(rc.srv.URL), http.StatusCreated)
	h.poll(t)
	before := h.do("GET", "/fhir/Task/"+sr, gp, nil)
	events := len(rc.events())
	since := time.Now().UTC().Add(-time.Millisecond).Format(time.RFC3339Nano)

	ref := post(t, h, "/api/v1/referrals/"+sr+"/outcomes", provider, []byte(outcomeBody(t, "observation-swemwbs.json", true)),
		http.StatusCreated).json(t)["reference"].(string)

	after := h.do("GET", "/fhir/Task/"+sr, gp, nil)
	if after.header.Get("ETag") == before.header.Get("ETag") {
		t.Errorf("the Task's version did not change: %s", after.header.Get("ETag"))
	}
	if _, v := readTask(t, h, gp, sr); !slices.Equal(v.Outputs, []string{ref}) {
		t.Fatalf("the GP's Task.output: %v, want %s", v.Outputs, ref)
	}
	poll := h.do("GET", "/fhir/Task?_lastUpdated=gt"+since, gp, nil)
	if !strings.Contains(string(poll.body), `"Task/`+sr) && !strings.Contains(string(poll.body), "/Task/"+sr+`"`) {
		t.Errorf("polling by _lastUpdated misses the Task: %s", poll.body)
	}
	h.poll(t)
	if evs := rc.events(); len(evs) <= events || !strings.Contains(evs[len(evs)-1], `"Task/`+sr+`"`) {
		t.Errorf("no Task event for the outcome: %d before, %d after", events, len(evs))
	}
	obs := h.do("GET", "/fhir/"+ref, gp, nil)
	if obs.status != http.StatusOK || !strings.Contains(string(obs.body), `"basedOn":[{"reference":"ServiceRequest/`+sr+`"}]`) {
		t.Errorf("the GP reads the outcome: %d %s", obs.status, obs.body)
	}
	if _, err := h.app.parser.Parse(obs.body, "Observation"); err != nil {
		t.Errorf("stored outcome is not valid FHIR: %v", err)
	}
	goal := post(t, h, "/api/v1/referrals/"+sr+"/outcomes", provider, []byte(outcomeBody(t, "goal-money-plan.json", true)),
		http.StatusCreated).json(t)["reference"].(string)
	if g := h.do("GET", "/fhir/"+goal, gp, nil); !strings.Contains(string(g.body), `"addresses":[{"reference":"ServiceRequest/`+sr+`"}]`) {
		t.Errorf("a Goal names the referral it addresses: %s", g.body)
	}
}

// 8. One access policy: admins administer and never read patient-level
// records or work queues; link workers and providers search the referrals
// they may read; anything not the caller's answers exactly as what is not
// there.
func TestOneAccessPolicy(t *testing.T) {
	h := consentHarness(t)
	gp := h.token(auth.RolePractice, practice)
	provider := h.token(auth.RoleProvider, "X1V01")
	admin := h.token(auth.RoleAdmin, "ADMIN")
	post(t, h, "/fhir/Consent", gp, fixture(t, "consent-share-with-link-workers.json"), http.StatusCreated)
	sr := idOf(t, post(t, h, "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-debt.json"), http.StatusCreated))
	out := ""
	if r := claimFrom(h, "money-advice", provider); r.status == http.StatusOK {
		h.api("POST", "/api/v1/referrals/"+sr+"/transition", provider, `{"status":"accepted"}`)
		out = post(t, h, "/api/v1/referrals/"+sr+"/outcomes", provider, []byte(outcomeBody(t, "observation-swemwbs.json", true)),
			http.StatusCreated).json(t)["reference"].(string)
	} else {
		t.Fatalf("claim: %d", r.status)
	}

	for _, c := range []struct{ method, path, body string }{
		{"POST", "/api/v1/queues/money-advice/claim", ""},
		{"GET", "/api/v1/queues/money-advice", ""},
		{"GET", "/fhir/ServiceRequest/" + sr, ""},
		{"GET", "/fhir/Task/" + sr, ""},
		{"GET", "/fhir/Task?focus=ServiceRequest/" + sr, ""},
		{"GET", "/fhir/" + out, ""},
		{"POST", "/api/v1/referrals/" + sr + "/transition", `{"status":"cancelled"}`},
		{"POST", "/api/v1/referrals/" + sr + "/refer-on", `{"service":"housing-options","reason":"x"}`},
	} {
		if r := h.api(c.method, c.path, admin, c.body); r.status != http.StatusForbidden {
			t.Errorf("admin %s %s: %d", c.method, c.path, r.status)
		}
	}

	search := "/fhir/ServiceRequest?identifier=https://fhir.a81001.example.nhs.uk/Id/social-prescribing-referral|SP-2026-000101"
	for who, tok := range map[string]string{"the provider holding it": provider, "the link workers": h.token(auth.RoleLinkWorker, "U00001")} {
		r := h.do("GET", search, tok, nil)
		want := who == "the provider holding it" // the link workers do not hold it
		if r.status != http.StatusOK || strings.Contains(string(r.body), "/ServiceRequest/"+sr+`"`) != want {
			t.Errorf("%s searches by identifier: %d %s", who, r.status, r.body)
		}
	}
	if r := h.do("GET", search, h.token(auth.RoleProvider, "X1V02"), nil); r.status != http.StatusOK || strings.Contains(string(r.body), sr) {
		t.Errorf("another provider searches: %d %s", r.status, r.body)
	}

	// Not yours answers as not there, byte for byte (but for the request).
	other := h.token(auth.RoleProvider, "X1V02")
	for _, c := range []struct{ method, path, missing, body string }{
		{"GET", "/fhir/ServiceRequest/" + sr, "/fhir/ServiceRequest/no-such-referral", ""},
		{"GET", "/fhir/Task/" + sr, "/fhir/Task/no-such-referral", ""},
		{"GET", "/fhir/" + out, "/fhir/Observation/no-such-outcome", ""},
		{"POST", "/api/v1/referrals/" + sr + "/transition", "/api/v1/referrals/no-such-referral/transition", `{"status":"accepted"}`},
		{"POST", "/api/v1/referrals/" + sr + "/lease", "/api/v1/referrals/no-such-referral/lease", ""},
	} {
		theirs, none := h.api(c.method, c.path, other, c.body), h.api(c.method, c.missing, other, c.body)
		if theirs.status != http.StatusNotFound || theirs.status != none.status || string(theirs.body) != string(none.body) {
			t.Errorf("%s %s answers %d %s; a missing one %d %s", c.method, c.path, theirs.status, theirs.body, none.status, none.body)
		}
	}
	// A search of someone else's thread matches nothing, as one of no
	// referral does: an empty searchset.
	for _, ref := range []string{sr, "no-such-referral"} {
		r := h.api("GET", "/fhir/Communication?based-on=ServiceRequest/"+ref, other, "")
		if r.status != http.StatusOK || gjson.GetBytes(r.body, "total").Int() != 0 || gjson.GetBytes(r.body, "entry").Exists() {
			t.Errorf("thread search for %s: %d %s", ref, r.status, r.body)
		}
	}
}

// Waitlist promotion and closure re-routing ask the consent afresh: under a
// consent covering only Citizens Advice (not the link workers), a debt
// referral waits on its waitlist, moves up when it opens, and, when it
// closes, has nowhere covered to go: it waits for consent, and the link
// workers never see it.
func TestPromotionAndClosureAskTheConsent(t *testing.T) {
	h := consentHarness(t)
	gp := h.token(auth.RolePractice, practice)
	ca := h.token(auth.RoleProvider, "X1V01")
	lw := h.token(auth.RoleLinkWorker, "U00001")
	post(t, h, "/fhir/Consent", gp, consentWith(t, "C-CA", "2026-11-20T10:10:00Z", false,
		permitTo([]any{actorAs("IRCP", odsRef("X1V01"))})), http.StatusCreated)
	if r := h.putCapacity(ca, "/api/v1/services/money-advice/capacity", `{"status":"waitlist","maxOpen":60}`); r.status != http.StatusOK {
		t.Fatalf("waitlist: %d %s", r.status, r.body)
	}
	sr := idOf(t, post(t, h, "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-debt.json"), http.StatusCreated))
	if owner, reason := taskOwner(t, h, gp, sr); owner != "money-advice" || !strings.HasPrefix(reason, "Waitlisted at Riverside Citizens Advice") {
		t.Fatalf("with the link workers not covered: %q %q", owner, reason)
	}
	if r := h.putCapacity(ca, "/api/v1/services/money-advice/capacity", `{"status":"open","maxOpen":60}`); r.status != http.StatusOK {
		t.Fatalf("open: %d %s", r.status, r.body)
	}
	if _, reason := taskOwner(t, h, gp, sr); reason != "Routed to Riverside Citizens Advice - debt and benefits from its waitlist" {
		t.Fatalf("promotion: %q", reason)
	}
	if r := h.putCapacity(ca, "/api/v1/services/money-advice/capacity", `{"status":"closed","maxOpen":60}`); r.status != http.StatusOK {
		t.Fatalf("close: %d %s", r.status, r.body)
	}
	if _, v := readTask(t, h, gp, sr); v.Status != "on-hold" || v.BusinessStatus != "awaiting-consent" ||
		!strings.Contains(v.Reason, "no other service the referral could go to is one the patient agreed to share it with") {
		t.Fatalf("after the closure: %+v", v)
	}
	if r := claimFrom(h, "riverside-link-workers", lw); r.status != http.StatusNoContent {
		t.Errorf("the link workers claim: %d %s", r.status, r.body)
	}
	if r := h.do("GET", "/fhir/Task/"+sr, lw, nil); r.status != http.StatusNotFound {
		t.Errorf("the link workers read it: %d", r.status)
	}
	// The patient's consent to the network, later, releases it to them.
	post(t, h, "/fhir/Consent", gp, consentWith(t, "C-NET2", "2026-11-21T10:10:00Z", false,
		permitTo([]any{actorAs("IRCP", odsRef("U00001"))})), http.StatusCreated)
	if owner, _ := taskOwner(t, h, gp, sr); owner != "riverside-link-workers" {
		t.Errorf("after consent to the network: %q", owner)
	}
}

// An onward referral is the same referral: its Task carries the
// referral's security labels and date, so a later Consent that withholds
// information so labelled withholds the onward referral at the provider's
// doors too (claim, read), not only at the link workers'.
func TestOnwardReferralKeepsTheReferralsLabels(t *testing.T) {
	h := consentHarness(t)
	gp := h.token(auth.RolePractice, practice)
	lw := h.token(auth.RoleLinkWorker, "U00001")
	cab := h.token(auth.RoleProvider, "X1V01")
	both := []any{actorAs("IRCP", odsRef("U00001")), actorAs("IRCP", odsRef("X1V01"))}
	mh := []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "MH"}}
	// Mental health information goes only where a provision names it: at
	// first the patient lets it go to the link workers and Citizens Advice.
	root := permitTo(both)
	root["securityLabel"] = mh
	post(t, h, "/fhir/Consent", gp, consentWith(t, "C-LABEL-1", "2026-11-20T10:10:00Z", false, root), http.StatusCreated)
	sr := idOf(t, post(t, h, "/fhir/ServiceRequest", gp, withJSON(t, fixture(t, "servicerequest-general.json"),
		map[string]any{"meta": map[string]any{"security": mh}}), http.StatusCreated))
	if r := claimFrom(h, "riverside-link-workers", lw); r.status != http.StatusOK {
		t.Fatalf("claim: %d %s", r.status, r.body)
	}
	h.api("POST", "/api/v1/referrals/"+sr+"/transition", lw, `{"status":"accepted"}`)
	if r := h.api("POST", "/api/v1/referrals/"+sr+"/refer-on", lw, `{"service":"money-advice","reason":"debt advice"}`); r.status != http.StatusCreated {
		t.Fatalf("refer-on: %d %s", r.status, r.body)
	}
	// Later the patient lets mental health information go to the link
	// workers only; the rest still goes to both. (Neither consent cites the
	// network's sharing agreement, under which its partners would receive
	// what the patient shares with the link workers.)
	later := permitTo(both, map[string]any{"type": "permit", "securityLabel": mh, "actor": []any{actorAs("IRCP", odsRef("U00001"))}})
	post(t, h, "/fhir/Consent", gp, consentWith(t, "C-LABEL-2", "2026-11-21T10:10:00Z", false, later), http.StatusCreated)
	if r := claimFrom(h, "money-advice", cab); r.status != http.StatusNoContent {
		t.Errorf("the provider claims the labelled onward referral: %d %s", r.status, r.body)
	}
	if r := h.do("GET", "/fhir/ServiceRequest/"+sr, cab, nil); r.status != http.StatusNotFound {
		t.Errorf("the provider reads the labelled referral: %d", r.status)
	}
	if r := h.do("GET", "/fhir/ServiceRequest/"+sr, lw, nil); r.status != http.StatusOK {
		t.Errorf("the link workers read it: %d", r.status)
	}
}

// The FHIR update of a Task is a door like its read: once the patient's
// consent no longer covers the provider holding the referral, its PUT is
// answered 404, as its GET, and changes nothing.
func TestTaskUpdateAsksTheConsent(t *testing.T) {
	h := consentHarness(t)
	gp := h.token(auth.RolePractice, practice)
	cab := h.token(auth.RoleProvider, "X1V01")
	post(t, h, "/fhir/Consent", gp, consentWith(t, "C-PUT-1", "2026-11-20T10:10:00Z", false,
		permitTo([]any{actorAs("IRCP", odsRef("U00001")), actorAs("IRCP", odsRef("X1V01"))})), http.StatusCreated)
	sr := idOf(t, post(t, h, "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-debt.json"), http.StatusCreated))
	if r := claimFrom(h, "money-advice", cab); r.status != http.StatusOK {
		t.Fatalf("claim: %d %s", r.status, r.body)
	}
	read := h.do("GET", "/fhir/Task/"+sr, cab, nil)
	accepted := withJSON(t, read.body, map[string]any{"status": "accepted"})
	// The patient now keeps the referral from Citizens Advice.
	post(t, h, "/fhir/Consent", gp, consentWith(t, "C-PUT-2", "2026-11-21T10:10:00Z", false,
		permitTo([]any{actorAs("IRCP", odsRef("U00001")), actorAs("IRCP", odsRef("X1V01"))},
			map[string]any{"type": "deny", "actor": []any{actorAs("IRCP", odsRef("X1V01"))}})), http.StatusCreated)
	if r := h.do("PUT", "/fhir/Task/"+sr, cab, accepted, "If-Match", read.header.Get("ETag")); r.status != http.StatusNotFound {
		t.Errorf("the provider updates the Task: %d %s", r.status, r.body)
	}
	if _, v := readTask(t, h, gp, sr); v.Status == "accepted" {
		t.Errorf("the refused update changed the Task: %+v", v)
	}
}

package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

// Issue 19: the holder of a referral can reach the patient. Every test here
// runs with CONSENT_REQUIRED=true, as deployed.

// patientView is what a test checks of a Patient.
type patientView struct {
	ID            string
	Name          []struct{ Family string }
	Telecom       []struct{ Value string }
	Address       []struct{ PostalCode string }
	Communication []struct{ Preferred bool }
	BirthDate     string
	Gender        string
	GP            []any `json:"generalPractitioner"`
	Meta          struct{ Security []struct{ Code string } }
}

func readPatient(t *testing.T, body []byte) patientView {
	t.Helper()
	var p patientView
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("not a Patient: %v: %s", err, body)
	}
	return p
}

// minimumNecessary checks a VCSE provider's view: who and how to reach
// them, how they prefer it and in which language; nothing else, marked
// REDACTED.
func minimumNecessary(t *testing.T, what string, p patientView) {
	t.Helper()
	if len(p.Name) == 0 || len(p.Telecom) != 2 || len(p.Address) == 0 || len(p.Communication) != 1 {
		t.Errorf("%s: the provider lacks name, contact routes or language: %+v", what, p)
	}
	if p.BirthDate != "" || p.Gender != "" || p.GP != nil {
		t.Errorf("%s: the provider gets more than it needs: %+v", what, p)
	}
	if len(p.Meta.Security) == 0 || p.Meta.Security[len(p.Meta.Security)-1].Code != "REDACTED" {
		t.Errorf("%s: not marked REDACTED: %+v", what, p.Meta.Security)
	}
}

// The Patient door: the practice that sent it and whoever holds one of the
// patient's referrals read it (a VCSE provider the minimum necessary);
// another practice, a provider not holding the referral, the link workers
// (the referral went straight to the VCSE service) get 404 exactly as for
// a Patient that does not exist; commissioners and admins are refused by
// role.
func TestPatientForTheHolder(t *testing.T) {
	h := consentHarness(t)
	gp := h.token(auth.RolePractice, practice)
	post(t, h, "/fhir/Consent", gp, fixture(t, "consent-share-with-link-workers.json"), http.StatusCreated)

	// Conditional create on the NHS number: sent again, the same Patient.
	created := post(t, h, "/fhir/Patient", gp, fixture(t, "patient.json"), http.StatusCreated)
	pid := idOf(t, created)
	if !strings.HasSuffix(created.header.Get("Location"), "/fhir/Patient/"+pid+"/_history/1") {
		t.Errorf("Location = %q", created.header.Get("Location"))
	}
	again := post(t, h, "/fhir/Patient", gp, withJSON(t, fixture(t, "patient.json"), map[string]any{"gender": "male"}), http.StatusOK)
	if idOf(t, again) != pid || readPatient(t, again.body).Gender != "female" {
		t.Errorf("the Patient sent again: %s", again.body)
	}
	sr := idOf(t, post(t, h, "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-debt.json"), http.StatusCreated))

	// The practice: the whole Patient.
	r := h.do("GET", "/fhir/Patient/"+pid, gp, nil)
	if p := readPatient(t, r.body); r.status != http.StatusOK || p.BirthDate != "1958-03-14" || len(p.Meta.Security) != 0 {
		t.Fatalf("the practice reads its Patient: %d %s", r.status, r.body)
	}

	// Citizens Advice holds the referral (it waits in its queue): the
	// minimum necessary.
	ca := h.personToken(auth.RoleProvider, "X1V01", "Practitioner/ca-kim")
	r = h.do("GET", "/fhir/Patient/"+pid, ca, nil)
	if r.status != http.StatusOK {
		t.Fatalf("the holder reads the Patient: %d %s", r.status, r.body)
	}
	minimumNecessary(t, "read", readPatient(t, r.body))

	// Everyone else: exactly as for no such Patient.
	missing := h.do("GET", "/fhir/Patient/no-such-patient", gp, nil)
	if missing.status != http.StatusNotFound {
		t.Fatalf("no such Patient = %d", missing.status)
	}
	for name, tok := range map[string]string{
		"another practice":                    h.token(auth.RolePractice, otherPractice),
		"a provider not holding the referral": h.personToken(auth.RoleProvider, "X1V02", "Practitioner/h-1"),
		"the link workers (not theirs)":       h.personToken(auth.RoleLinkWorker, "U00001", "Practitioner/lw-sam"),
	} {
		r := h.do("GET", "/fhir/Patient/"+pid, tok, nil)
		if r.status != http.StatusNotFound || string(r.body) != string(missing.body) {
			t.Errorf("%s reads the Patient: %d %s, want the answer for no such Patient %s", name, r.status, r.body, missing.body)
		}
	}
	for name, tok := range map[string]string{"a commissioner": h.token(auth.RoleCommissioner, "U00001"), "an admin": h.token(auth.RoleAdmin, "ADMIN")} {
		if r := h.do("GET", "/fhir/Patient/"+pid, tok, nil); r.status != http.StatusForbidden {
			t.Errorf("%s reads the Patient: %d", name, r.status)
		}
	}
	// A link worker cannot send one.
	if r := h.do("POST", "/fhir/Patient", h.token(auth.RoleLinkWorker, "U00001"), fixture(t, "patient.json")); r.status != http.StatusForbidden {
		t.Errorf("a link worker creates a Patient: %d", r.status)
	}

	// The claim answers the Patient as the claimant may see it; the Task
	// says the service picked it up, and names the person.
	claim := claimFrom(h, "money-advice", ca)
	if claim.status != http.StatusOK {
		t.Fatalf("claim = %d %s", claim.status, claim.body)
	}
	var c struct {
		Patient json.RawMessage
		Task    struct {
			BusinessStatus struct {
				Coding []struct{ Code, Display string }
			}
			Note []struct{ Text string }
		}
	}
	if err := json.Unmarshal(claim.body, &c); err != nil || c.Patient == nil {
		t.Fatalf("the claim has no patient: %s", claim.body)
	}
	minimumNecessary(t, "claim", readPatient(t, c.Patient))
	if bs := c.Task.BusinessStatus.Coding; len(bs) != 1 || bs[0].Code != "claimed" || bs[0].Display != "Picked up by Riverside Citizens Advice - debt and benefits" {
		t.Errorf("the claimed Task's business status: %+v", bs)
	}
	if len(c.Task.Note) == 0 || !strings.HasPrefix(c.Task.Note[0].Text, "Named contact: Worker Practitioner/ca-kim") {
		t.Errorf("the named contact: %+v", c.Task.Note)
	}
	if _, v := readTask(t, h, gp, sr); v.BusinessStatus != "claimed" {
		t.Errorf("the practice sees %+v", v)
	}
}

// The transaction's Patient is the one the referral names (Patient/{id}):
// the claim of the service it went to answers it, whole to a link worker.
func TestPatientFromTheTransaction(t *testing.T) {
	h := consentHarness(t)
	gp := h.token(auth.RolePractice, practice)
	// The referral for unemployment goes to the link workers: its Consent
	// cites the agreement, but make it go to the link workers by pausing
	// the employment service.
	admin := h.token(auth.RoleAdmin, "ADMIN")
	if r := h.api("PUT", "/api/v1/services/work-and-skills/capacity", admin, `{"status":"paused","maxOpen":0}`); r.status != http.StatusOK {
		t.Fatalf("pause: %d %s", r.status, r.body)
	}
	tx := post(t, h, "/fhir", gp, fixture(t, "bundle-referral-transaction.json"), http.StatusOK)
	var b struct {
		Entry []struct {
			Resource struct{ ID, ResourceType string }
		}
	}
	if err := json.Unmarshal(tx.body, &b); err != nil || len(b.Entry) != 3 {
		t.Fatalf("transaction: %s", tx.body)
	}
	pid := b.Entry[0].Resource.ID
	lw := h.personToken(auth.RoleLinkWorker, "U00001", "Practitioner/lw-sam")
	claim := claimFrom(h, "riverside-link-workers", lw)
	var c struct {
		Patient json.RawMessage
		Task    struct{ Note []struct{ Text string } }
	}
	if err := json.Unmarshal(claim.body, &c); err != nil || claim.status != http.StatusOK {
		t.Fatalf("claim: %d %s", claim.status, claim.body)
	}
	if p := readPatient(t, c.Patient); p.ID != pid || p.BirthDate != "1958-03-14" || len(p.Address) != 1 {
		t.Errorf("the link worker's patient: %s", c.Patient)
	}
	for _, n := range c.Task.Note {
		if strings.Contains(n.Text, "No contact details") {
			t.Errorf("the Task says no contact details were sent: %q", n.Text)
		}
	}
	if r := h.do("GET", "/fhir/Patient/"+pid, lw, nil); r.status != http.StatusOK || readPatient(t, r.body).BirthDate == "" {
		t.Errorf("the link worker reads the Patient: %d %s", r.status, r.body)
	}
}

// A referral sent with an NHS number only says so on its Task; the holder
// asks for contact details on the thread; once the practice sends the
// Patient, the Task no longer says so and the claim answers it.
func TestNoContactDetailsWereSent(t *testing.T) {
	h := consentHarness(t)
	gp := h.token(auth.RolePractice, practice)
	post(t, h, "/fhir/Consent", gp, fixture(t, "consent-share-with-link-workers.json"), http.StatusCreated)
	sr := idOf(t, post(t, h, "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-general.json"), http.StatusCreated))
	lw := h.personToken(auth.RoleLinkWorker, "U00001", "Practitioner/lw-sam")

	claim := claimFrom(h, "riverside-link-workers", lw)
	if claim.status != http.StatusOK || strings.Contains(string(claim.body), `"patient"`) {
		t.Fatalf("claim without a Patient: %d %s", claim.status, claim.body)
	}
	notes := func(token string) []string {
		r := h.do("GET", "/fhir/Task/"+sr, token, nil)
		var v struct{ Note []struct{ Text string } }
		_ = json.Unmarshal(r.body, &v)
		var out []string
		for _, n := range v.Note {
			out = append(out, n.Text)
		}
		return out
	}
	says := func(ns []string) bool {
		return slices.ContainsFunc(ns, func(n string) bool { return strings.HasPrefix(n, "No contact details were sent with this referral") })
	}
	if !says(notes(lw)) || !says(notes(gp)) {
		t.Fatalf("the Task does not say no contact details were sent: %q / %q", notes(lw), notes(gp))
	}

	// The link worker asks on the thread.
	ask := withJSON(t, fixture(t, "communication-link-worker-reply.json"), map[string]any{
		"basedOn": []any{map[string]any{"reference": "ServiceRequest/" + sr}}, "inResponseTo": nil, "extension": approval(true),
		"payload": []any{map[string]any{"contentString": "No contact details came with this referral: please send the patient's phone number and address."}}})
	post(t, h, "/fhir/Communication", lw, ask, http.StatusCreated)

	// The practice sends them: the Task has a new version without the
	// note, and the holder reads them.
	before := h.do("GET", "/fhir/Task/"+sr, lw, nil).header.Get("ETag")
	pid := idOf(t, post(t, h, "/fhir/Patient", gp, fixture(t, "patient.json"), http.StatusCreated))
	if says(notes(lw)) {
		t.Errorf("after the Patient came the Task still says none: %q", notes(lw))
	}
	if after := h.do("GET", "/fhir/Task/"+sr, lw, nil).header.Get("ETag"); after == before {
		t.Errorf("the Task changed without a new version: ETag %s", after)
	}
	if r := h.do("GET", "/fhir/Patient/"+pid, lw, nil); r.status != http.StatusOK || len(readPatient(t, r.body).Telecom) != 2 {
		t.Errorf("the link worker reads the Patient: %d %s", r.status, r.body)
	}
}

// The patient's consent decides the Patient door too: a Consent that lets
// the referral go to Citizens Advice but denies it the Patient resource
// keeps the Patient from it, in the claim and at its URL.
func TestPatientDoorAsksTheConsent(t *testing.T) {
	h := consentHarness(t)
	gp := h.token(auth.RolePractice, practice)
	denyPatient := map[string]any{"type": "deny", "actor": []any{actorAs("IRCP", odsRef("X1V01"))},
		"class": []any{map[string]any{"system": "http://hl7.org/fhir/resource-types", "code": "Patient"}}}
	root := permitTo([]any{actorAs("IRCP", odsRef("U00001"))}, denyPatient)
	post(t, h, "/fhir/Consent", gp, consentWith(t, "C-NOPAT", "2026-11-20T10:10:00Z", true, root), http.StatusCreated)
	pid := idOf(t, post(t, h, "/fhir/Patient", gp, fixture(t, "patient.json"), http.StatusCreated))
	post(t, h, "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-debt.json"), http.StatusCreated)

	ca := h.personToken(auth.RoleProvider, "X1V01", "Practitioner/ca-kim")
	claim := claimFrom(h, "money-advice", ca)
	if claim.status != http.StatusOK || strings.Contains(string(claim.body), `"patient"`) {
		t.Fatalf("the claim: %d %s", claim.status, claim.body)
	}
	if r := h.do("GET", "/fhir/Patient/"+pid, ca, nil); r.status != http.StatusNotFound {
		t.Errorf("the provider the consent denies the Patient reads it: %d", r.status)
	}
}

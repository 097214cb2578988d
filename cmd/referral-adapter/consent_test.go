package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

// consentHarness is the service as deployed by default: referrals wait for
// consent.
func consentHarness(t *testing.T) *harness {
	return newHarness(t, map[string]string{"CONSENT_REQUIRED": "true"})
}

// taskOf reads a Task as the given caller: status, businessStatus code,
// statusReason, outputs and security labels.
type taskView struct {
	Status, BusinessStatus, Reason string
	Outputs, Security              []string
}

func readTask(t *testing.T, h *harness, token, id string) (int, taskView) {
	t.Helper()
	r := h.do("GET", "/fhir/Task/"+id, token, nil)
	if r.status != http.StatusOK {
		return r.status, taskView{}
	}
	var raw struct {
		Status         string
		BusinessStatus struct{ Coding []struct{ Code string } }
		StatusReason   struct{ Text string }
		Output         []struct{ ValueReference struct{ Reference string } }
		Meta           struct{ Security []struct{ Code string } }
	}
	if err := json.Unmarshal(r.body, &raw); err != nil {
		t.Fatal(err)
	}
	v := taskView{Status: raw.Status, Reason: raw.StatusReason.Text}
	if len(raw.BusinessStatus.Coding) > 0 {
		v.BusinessStatus = raw.BusinessStatus.Coding[0].Code
	}
	for _, o := range raw.Output {
		v.Outputs = append(v.Outputs, o.ValueReference.Reference)
	}
	for _, s := range raw.Meta.Security {
		v.Security = append(v.Security, s.Code)
	}
	return r.status, v
}

func post(t *testing.T, h *harness, path, token string, body []byte, want int) response {
	t.Helper()
	r := h.do("POST", path, token, body)
	if r.status != want {
		t.Fatalf("POST %s: %d, want %d: %s", path, r.status, want, r.body)
	}
	return r
}

func idOf(t *testing.T, r response) string {
	t.Helper()
	var m struct{ ID string }
	if err := json.Unmarshal(r.body, &m); err != nil || m.ID == "" {
		t.Fatalf("no id in %s", r.body)
	}
	return m.ID
}

// Over HTTP: a referral without consent is accepted, waiting for consent
// (the GP sees on-hold, awaiting-consent, "awaiting consent"; the service
// sees nothing); the consent releases it; the consent sent again as
// inactive is its version 2 and pauses it.
func TestConsentHoldOverHTTP(t *testing.T) {
	h := consentHarness(t)
	gp := h.token(auth.RolePractice, practice)
	provider := h.token(auth.RoleProvider, "X1V01")
	sr := idOf(t, post(t, h, "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-debt.json"), http.StatusCreated))

	_, v := readTask(t, h, gp, sr)
	if v.Status != "on-hold" || v.BusinessStatus != "awaiting-consent" || v.Reason != "awaiting consent" {
		t.Fatalf("GP sees %+v", v)
	}
	if st, _ := readTask(t, h, provider, sr); st != http.StatusNotFound {
		t.Fatalf("the service sees a referral before consent: %d", st)
	}
	if r := h.do("GET", "/fhir/ServiceRequest/"+sr, provider, nil); r.status != http.StatusNotFound {
		t.Fatalf("the service reads the referral before consent: %d", r.status)
	}
	// Nor can it act on it: every lifecycle call answers 404 as the reads
	// do, so a 409 cannot tell it that the referral exists.
	for _, path := range []string{"/transition", "/lease", "/handover"} {
		r := h.do("POST", "/api/v1/referrals/"+sr+path, provider, []byte(`{"status":"cancelled"}`), "Content-Type", "application/json")
		if r.status != http.StatusNotFound {
			t.Errorf("the service's POST %s on a referral awaiting consent = %d, want 404", path, r.status)
		}
	}

	consent := fixture(t, "consent-share-with-link-workers.json")
	post(t, h, "/fhir/Consent", gp, consent, http.StatusCreated)
	if _, v := readTask(t, h, gp, sr); v.Status != "requested" || v.BusinessStatus != "routed" {
		t.Fatalf("after consent the GP sees %+v", v)
	}
	if st, _ := readTask(t, h, provider, sr); st != http.StatusOK {
		t.Fatalf("after consent the service gets %d", st)
	}

	w := post(t, h, "/fhir/Consent", gp, withJSON(t, consent, map[string]any{"status": "inactive"}), http.StatusOK)
	if w.header.Get("ETag") != `W/"2"` || w.json(t)["status"] != "inactive" {
		t.Fatalf("withdrawal: ETag %q, %s", w.header.Get("ETag"), w.body)
	}
	if _, v := readTask(t, h, gp, sr); v.Status != "on-hold" || v.BusinessStatus != "awaiting-consent" {
		t.Fatalf("after withdrawal the GP sees %+v", v)
	}
}

// The end-to-end case: three outcomes recorded, one approved, one
// not approved, one approved but in a sensitive category the consent does
// not name. The GP sees exactly one, and the redaction marker; the others
// answer 404 at their own URLs; each decision is in the audit trail, for
// the admin only.
func TestGPSeesOnlyApprovedPermittedOutcomes(t *testing.T) {
	h := consentHarness(t)
	gp := h.token(auth.RolePractice, practice)
	provider := h.token(auth.RoleProvider, "X1V01")
	admin := h.token(auth.RoleAdmin, "ADMIN")
	post(t, h, "/fhir/Consent", gp, fixture(t, "consent-share-with-link-workers.json"), http.StatusCreated)
	post(t, h, "/fhir/Consent", gp, feedbackConsent(t), http.StatusCreated)
	sr := idOf(t, post(t, h, "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-debt.json"), http.StatusCreated))

	if r := h.do("POST", "/api/v1/queues/money-advice/claim", provider, nil); r.status != http.StatusOK {
		t.Fatalf("claim: %d %s", r.status, r.body)
	}
	post(t, h, "/api/v1/referrals/"+sr+"/transition", provider, []byte(`{"status":"accepted"}`), http.StatusOK)
	record := func(approved bool, security string) string {
		t.Helper()
		obs := map[string]any{"resourceType": "Observation", "status": "final",
			"code": map[string]any{"coding": []any{map[string]any{"system": "http://snomed.info/sct", "code": "285854004", "display": "Emotion"}}}}
		if security != "" {
			obs["meta"] = map[string]any{"security": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": security}}}
		}
		b, _ := json.Marshal(map[string]any{"resource": obs, "patientApprovedSharing": approved})
		r := post(t, h, "/api/v1/referrals/"+sr+"/outcomes", provider, b, http.StatusCreated)
		return r.json(t)["reference"].(string)
	}
	shared := record(true, "")
	notApproved := record(false, "")
	sensitive := record(true, "PSY")

	_, v := readTask(t, h, gp, sr)
	if !slices.Equal(v.Outputs, []string{shared}) || !slices.Contains(v.Security, "REDACTED") || v.Status != "accepted" {
		t.Fatalf("the GP sees %+v; want only %s, REDACTED, status accepted", v, shared)
	}
	if r := h.do("GET", "/fhir/"+shared, gp, nil); r.status != http.StatusOK {
		t.Errorf("the shared outcome: %d", r.status)
	}
	for _, ref := range []string{notApproved, sensitive} {
		if r := h.do("GET", "/fhir/"+ref, gp, nil); r.status != http.StatusNotFound {
			t.Errorf("withheld %s answers %d to the GP", ref, r.status)
		}
	}
	// The service that recorded them sees all three.
	if _, pv := readTask(t, h, provider, sr); len(pv.Outputs) != 3 || slices.Contains(pv.Security, "REDACTED") {
		t.Errorf("the provider sees %+v", pv)
	}

	// Audit: every decision, admin only.
	if r := h.do("GET", "/fhir/AuditEvent?entity="+sensitive, gp, nil); r.status != http.StatusForbidden {
		t.Errorf("a practice reads the audit trail: %d", r.status)
	}
	for ref, want := range map[string]string{
		shared:      "permit: permitted by provision of Consent/",
		notApproved: "deny: the patient did not approve sharing this outcome",
		sensitive:   "deny: withheld: mental health information is not explicitly permitted by Consent/",
	} {
		r := h.do("GET", "/fhir/AuditEvent?entity="+ref, admin, nil)
		if r.status != http.StatusOK || !strings.Contains(string(r.body), want) || !strings.Contains(string(r.body), `"code":"disclosure"`) {
			t.Errorf("audit of %s: %d %s\nwant %q", ref, r.status, r.body, want)
		}
	}
}

// feedbackConsent permits disclosing the patient's outcomes to their
// practice for their care.
func feedbackConsent(t *testing.T) []byte {
	t.Helper()
	return []byte(fmt.Sprintf(`{
  "resourceType": "Consent",
  "identifier": [{"system": "https://fhir.a81001.example.nhs.uk/Id/consent", "value": "CON-FEEDBACK-1"}],
  "status": "active",
  "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
  "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
  "patient": {"type": "Patient", "identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000009"}},
  "dateTime": "2026-11-20T10:12:00+00:00",
  "policy": [{"uri": "https://social-prescribing.github.io/referral-adapter/policy/social-prescribing-sharing"}],
  "provision": {
    "type": "permit",
    "period": {"start": "2026-11-20", "end": "2027-11-20"},
    "action": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentaction", "code": "disclose"}]}],
    "purpose": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "TREAT"}],
    "actor": [{
      "role": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}]},
      "reference": {"type": "Organization", "identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": %q}}
    }]
  }
}`, practice))
}

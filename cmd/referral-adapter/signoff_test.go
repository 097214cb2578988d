package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

// signOffHarness is a deployment that requires consent and clinician
// sign-off for referrals started by non-clinical staff.
func signOffHarness(t *testing.T) *harness {
	return newHarness(t, map[string]string{"CONSENT_REQUIRED": "true", "SIGNOFF_REQUIRED": "true"})
}

// staff mints a practice token for a person with a job title.
func staff(t *testing.T, org, subject, title string) string {
	t.Helper()
	tok, err := auth.Mint(testSecret, auth.MintOptions{Role: auth.RolePractice, Org: org, Subject: subject, Title: title, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// inNoQueue fails the test if the referral is queued or waitlisted
// anywhere.
func inNoQueue(t *testing.T, h *harness, id string) {
	t.Helper()
	for _, pattern := range []string{"q:*", "wl:*", "ls:*"} {
		for _, k := range mustKeys(t, h, pattern) {
			if _, err := h.app.store.Client().ZScore(t.Context(), k, id).Result(); err == nil {
				t.Errorf("referral %s is in %s", id, k)
			}
		}
	}
}

// Over HTTP: a care navigator's referral is accepted (201) and held for a
// clinician's sign-off, invisible to the service, in no queue, holding no
// place; the patient's consent does not release it; a non-clinician's
// sign-off is refused (403), another practice's finds nothing (404); the
// GP's sign-off releases it to the service's queue, recorded in the Task
// history and the audit trail; signing off again is a conflict (409).
func TestSignOffOverHTTP(t *testing.T) {
	h := signOffHarness(t)
	navigator := staff(t, practice, "cn@A81001", "Care navigator")
	gp := staff(t, practice, "dr.a@A81001", "GP")
	provider := h.token(auth.RoleProvider, "X1V01")

	r := post(t, h, "/fhir/ServiceRequest", navigator, fixture(t, "servicerequest-debt.json"), http.StatusCreated)
	sr := idOf(t, r)
	if _, v := readTask(t, h, gp, sr); v.Status != "on-hold" || v.BusinessStatus != "awaiting-sign-off" || v.Reason != "awaiting clinician sign-off" {
		t.Fatalf("the practice sees %+v", v)
	}
	if st, _ := readTask(t, h, provider, sr); st != http.StatusNotFound {
		t.Fatalf("the service sees a referral awaiting sign-off: %d", st)
	}
	if r := h.do("POST", "/api/v1/queues/money-advice/claim", provider, nil); r.status != http.StatusNoContent {
		t.Fatalf("claim of a queue holding only a referral awaiting sign-off: %d %s", r.status, r.body)
	}
	inNoQueue(t, h, sr)
	if c, _ := h.app.store.Capacity(context.Background(), "money-advice"); c.Reserved != 0 {
		t.Fatalf("a referral awaiting sign-off holds a place: %+v", c)
	}

	post(t, h, "/fhir/Consent", navigator, fixture(t, "consent-share-with-link-workers.json"), http.StatusCreated)
	if _, v := readTask(t, h, gp, sr); v.BusinessStatus != "awaiting-sign-off" {
		t.Fatalf("consent released a referral awaiting sign-off: %+v", v)
	}
	inNoQueue(t, h, sr)

	path := "/api/v1/referrals/" + sr + "/sign-off"
	for name, tc := range map[string]struct {
		token string
		want  int
		code  string
	}{
		"care navigator":        {navigator, http.StatusForbidden, "forbidden"},
		"practice manager":      {staff(t, practice, "pm@A81001", "Practice manager"), http.StatusForbidden, "forbidden"},
		"no job title":          {h.token(auth.RolePractice, practice), http.StatusForbidden, "forbidden"},
		"another practice's GP": {staff(t, otherPractice, "dr.b@B82002", "GP"), http.StatusNotFound, "not-found"},
		"a link worker":         {h.token(auth.RoleLinkWorker, "U00001"), http.StatusForbidden, "forbidden"},
	} {
		r := h.do("POST", path, tc.token, nil)
		if r.status != tc.want || issue(t, r)["code"] != tc.code {
			t.Errorf("sign-off by %s = %d %s, want %d %s", name, r.status, r.body, tc.want, tc.code)
		}
	}
	if _, v := readTask(t, h, gp, sr); v.BusinessStatus != "awaiting-sign-off" {
		t.Fatalf("a refused sign-off changed the referral: %+v", v)
	}

	r = h.do("POST", path, gp, nil)
	if r.status != http.StatusOK {
		t.Fatalf("GP sign-off = %d %s", r.status, r.body)
	}
	if tj := r.json(t); tj["resourceType"] != "Task" || tj["status"] != "requested" {
		t.Fatalf("sign-off response %s", r.body)
	}
	if st, v := readTask(t, h, provider, sr); st != http.StatusOK || v.Status != "requested" || v.BusinessStatus != "routed" {
		t.Fatalf("after sign-off the service gets %d %+v", st, v)
	}
	if c, _ := h.app.store.Capacity(context.Background(), "money-advice"); c.Reserved != 1 {
		t.Fatalf("released referral holds no place: %+v", c)
	}
	hist, err := h.app.store.History(context.Background(), sr)
	if err != nil || len(hist) == 0 {
		t.Fatalf("history %v %v", hist, err)
	}
	if last := hist[len(hist)-1]; last.By.Subject != "dr.a@A81001" || last.By.Org != practice || last.To != "requested" ||
		last.Reason != "signed off by a clinician (gp)" || time.Since(last.At) > time.Minute {
		t.Errorf("history entry %+v", last)
	}
	admin := h.token(auth.RoleAdmin, "U00001")
	audit := h.do("GET", "/fhir/AuditEvent?entity=Task/"+sr, admin, nil)
	if !strings.Contains(string(audit.body), `"code":"sign-off"`) || !strings.Contains(string(audit.body), "signed off by a clinician (gp): requested (routed)") ||
		!strings.Contains(string(audit.body), "dr.a@A81001") {
		t.Errorf("audit trail lacks the sign-off: %s", audit.body)
	}
	if r := h.do("POST", "/api/v1/queues/money-advice/claim", provider, nil); r.status != http.StatusOK || !strings.Contains(string(r.body), sr) {
		t.Fatalf("claim after sign-off: %d %s", r.status, r.body)
	}

	r = h.do("POST", path, gp, nil)
	if r.status != http.StatusConflict || issue(t, r)["code"] != "conflict" {
		t.Errorf("second sign-off = %d %s", r.status, r.body)
	}
}

// Signed off before the patient's consent: it waits for consent, and the
// consent releases it.
func TestSignOffThenConsentOverHTTP(t *testing.T) {
	h := signOffHarness(t)
	navigator := staff(t, practice, "cn@A81001", "Receptionist")
	nurse := staff(t, practice, "rn@A81001", "Practice nurse")
	sr := idOf(t, post(t, h, "/fhir/ServiceRequest", navigator, fixture(t, "servicerequest-debt.json"), http.StatusCreated))
	r := h.do("POST", "/api/v1/referrals/"+sr+"/sign-off", nurse, nil)
	if r.status != http.StatusOK {
		t.Fatalf("sign-off = %d %s", r.status, r.body)
	}
	if _, v := readTask(t, h, nurse, sr); v.Status != "on-hold" || v.BusinessStatus != "awaiting-consent" || v.Reason != "awaiting consent" {
		t.Fatalf("signed off without consent: %+v", v)
	}
	inNoQueue(t, h, sr)
	post(t, h, "/fhir/Consent", navigator, fixture(t, "consent-share-with-link-workers.json"), http.StatusCreated)
	if _, v := readTask(t, h, nurse, sr); v.Status != "requested" || v.BusinessStatus != "routed" {
		t.Fatalf("after consent: %+v", v)
	}
}

// A GP's own referral is never held for sign-off; the practice may cancel
// a held one, which then cannot be signed off.
func TestSignOffNotForCliniciansAndCancellable(t *testing.T) {
	h := signOffHarness(t)
	gp := staff(t, practice, "dr.a@A81001", "GP")
	navigator := staff(t, practice, "cn@A81001", "Care navigator")
	post(t, h, "/fhir/Consent", gp, fixture(t, "consent-share-with-link-workers.json"), http.StatusCreated)
	own := idOf(t, post(t, h, "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-debt.json"), http.StatusCreated))
	if _, v := readTask(t, h, gp, own); v.Status != "requested" {
		t.Fatalf("a GP's referral: %+v", v)
	}
	held := idOf(t, post(t, h, "/fhir/ServiceRequest", navigator, fixture(t, "servicerequest-loneliness.json"), http.StatusCreated))
	if _, v := readTask(t, h, gp, held); v.BusinessStatus != "awaiting-sign-off" {
		t.Fatalf("a care navigator's referral: %+v", v)
	}
	if r := h.api("POST", "/api/v1/referrals/"+held+"/transition", navigator, `{"status":"accepted"}`); r.status == http.StatusOK {
		t.Fatalf("a held referral accepted: %s", r.body)
	}
	if r := h.api("POST", "/api/v1/referrals/"+held+"/transition", navigator, `{"status":"cancelled","reason":"sent in error"}`); r.status != http.StatusOK {
		t.Fatalf("cancel = %d %s", r.status, r.body)
	}
	if _, v := readTask(t, h, gp, held); v.Status != "cancelled" {
		t.Fatalf("cancelled: %+v", v)
	}
	if r := h.do("POST", "/api/v1/referrals/"+held+"/sign-off", gp, nil); r.status != http.StatusConflict {
		t.Errorf("sign-off of a cancelled referral = %d %s", r.status, r.body)
	}
	inNoQueue(t, h, held)
}

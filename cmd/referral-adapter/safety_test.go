package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

// A referral carrying a crisis or out-of-remit code is accepted for the
// record, answered with its rejected Task and reason in the POST response,
// and is in no queue.
func TestSafetyScreensStopReferralsAtIntake(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.token(auth.RolePractice, practice)
	cases := map[string]string{"servicerequest-crisis.json": "clinical-redirect", "servicerequest-out-of-remit.json": "out-of-remit"}
	for file, reason := range cases {
		t.Run(reason, func(t *testing.T) {
			r := h.do("POST", "/fhir/ServiceRequest", tok, fixture(t, file), "Prefer", "return=OperationOutcome")
			if r.status != 201 {
				t.Fatalf("= %d %s", r.status, r.body)
			}
			if hdr := r.header.Get("X-Task-Status"); !strings.Contains(hdr, "rejected; reason="+reason) {
				t.Errorf("X-Task-Status = %q", hdr)
			}
			oo := string(r.body)
			if !strings.Contains(oo, `"severity":"warning"`) || !strings.Contains(oo, reason) {
				t.Errorf("POST response does not warn the clinician: %s", oo)
			}
			id := locationID(r.header.Get("Location"))
			task := h.do("GET", "/fhir/Task/"+id, tok, nil)
			if _, err := h.app.parser.Parse(task.body, "Task"); err != nil {
				t.Fatalf("Task is not valid FHIR: %v", err)
			}
			tj := task.json(t)
			if tj["status"] != "rejected" || tj["owner"] != nil {
				t.Errorf("Task = %s", task.body)
			}
			if !strings.Contains(string(task.body), `"code":"`+reason+`"`) || tj["statusReason"] == nil {
				t.Errorf("Task lacks coded reason and pathway: %s", task.body)
			}
			queues, _ := h.app.store.Client().Keys(t.Context(), strings.TrimSuffix(h.app.store.KeyPattern(), "*")+"q:*").Result()
			for _, q := range queues {
				if _, err := h.app.store.Client().ZScore(t.Context(), q, id).Result(); err == nil {
					t.Errorf("referral queued in %s", q)
				}
			}
			for _, wl := range mustKeys(t, h, "wl:*") {
				if _, err := h.app.store.Client().ZScore(t.Context(), wl, id).Result(); err == nil {
					t.Errorf("referral waitlisted in %s", wl)
				}
			}
		})
	}
}

func TestSafetyOutcomeInTransactionResponse(t *testing.T) {
	h := newHarness(t, nil)
	var b map[string]any
	_ = json.Unmarshal(fixture(t, "bundle-referral-transaction.json"), &b)
	sr := b["entry"].([]any)[1].(map[string]any)["resource"].(map[string]any)
	sr["reasonCode"] = []any{map[string]any{"coding": []any{map[string]any{"system": "http://hl7.org/fhir/sid/icd-10", "code": "Z91.5"}}}}
	body, _ := json.Marshal(b)
	r := h.do("POST", "/fhir", h.token(auth.RolePractice, practice), body)
	if r.status != 200 {
		t.Fatalf("= %d %s", r.status, r.body)
	}
	if _, err := h.app.parser.Parse(r.body, "Bundle"); err != nil {
		t.Fatalf("transaction-response is not valid FHIR: %v", err)
	}
	if !strings.Contains(string(r.body), `"outcome":{"issue":[{"code":"business-rule"`) || !strings.Contains(string(r.body), "clinical-redirect") {
		t.Errorf("entry.response.outcome missing: %s", r.body)
	}
}

func mustKeys(t *testing.T, h *harness, pattern string) []string {
	t.Helper()
	keys, err := h.app.store.Client().Keys(t.Context(), strings.TrimSuffix(h.app.store.KeyPattern(), "*")+pattern).Result()
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// A second active referral for the same patient and need is flagged to the
// referrer, not queued twice; once the first ends, a new one is accepted.
func TestDuplicateReferralFlagged(t *testing.T) {
	h := newHarness(t, nil)
	gp := h.token(auth.RolePractice, practice)
	first := h.do("POST", "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-debt.json")).json(t)["id"].(string)
	second := h.do("POST", "/fhir/ServiceRequest", gp, withJSON(t, fixture(t, "servicerequest-debt.json"),
		map[string]any{"identifier": []any{map[string]any{"system": referralSys, "value": "SP-2026-000199"}}}), "Prefer", "return=OperationOutcome")
	if second.status != 201 || !strings.Contains(string(second.body), "Possible duplicate: Task/"+first) {
		t.Fatalf("second referral = %d %s", second.status, second.body)
	}
	id := locationID(second.header.Get("Location"))
	task := h.do("GET", "/fhir/Task/"+id, gp, nil).json(t)
	if task["status"] != "rejected" || !strings.Contains(fmtJSON(task), "possible-duplicate") {
		t.Errorf("duplicate Task %v", task)
	}
	for _, q := range mustKeys(t, h, "q:*") {
		if _, err := h.app.store.Client().ZScore(t.Context(), q, id).Result(); err == nil {
			t.Errorf("duplicate queued in %s", q)
		}
	}
	// A different need for the same patient is not a duplicate.
	if r := h.do("POST", "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-loneliness.json"), "Prefer", "return=OperationOutcome"); strings.Contains(string(r.body), "duplicate") {
		t.Errorf("another need flagged as duplicate: %s", r.body)
	}
	// The first ends: the practice cancels it; a new referral goes through.
	if r := h.api("POST", "/api/v1/referrals/"+first+"/transition", gp, `{"status":"cancelled","reason":"sent in error"}`); r.status != 200 {
		t.Fatalf("cancel = %d %s", r.status, r.body)
	}
	third := h.do("POST", "/fhir/ServiceRequest", gp, withJSON(t, fixture(t, "servicerequest-debt.json"),
		map[string]any{"identifier": []any{map[string]any{"system": referralSys, "value": "SP-2026-000299"}}}), "Prefer", "return=OperationOutcome")
	if strings.Contains(string(third.body), "duplicate") {
		t.Errorf("referral after the first ended flagged: %s", third.body)
	}
}

// Safety comes first even where consent is required and none was given:
// the crisis referral is rejected with its pathway at once (not held for
// consent), and the practice sees that status even under a consent that
// denies sharing outcomes with it.
func TestSafetyStatusReachesPracticeWhateverTheConsent(t *testing.T) {
	h := newHarness(t, map[string]string{"CONSENT_REQUIRED": "true"})
	gp := h.token(auth.RolePractice, practice)
	deny := withJSON(t, fixture(t, "consent-share-with-link-workers.json"), map[string]any{
		"provision": map[string]any{"type": "deny"}})
	if r := h.do("POST", "/fhir/Consent", gp, deny); r.status != 201 {
		t.Fatalf("deny consent = %d %s", r.status, r.body)
	}
	r := h.do("POST", "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-crisis.json"))
	if r.status != 201 {
		t.Fatalf("= %d %s", r.status, r.body)
	}
	id := r.json(t)["id"].(string)
	task := h.do("GET", "/fhir/Task/"+id, gp, nil).json(t)
	if task["status"] != "rejected" || !strings.Contains(fmtJSON(task), "clinical-redirect") || task["statusReason"] == nil {
		t.Errorf("practice sees %v", task)
	}
}

// Every risk code the safety screens declare (mappings/30-safety.yaml), in
// a deployment that requires consent and sign-off and from a care
// navigator with no consent given: the referral is answered at once with
// its rejected Task, the screen's kind and pathway in the POST response,
// and is in no queue, waitlist or lease, nor held for consent or sign-off.
func TestEverySafetyCodeRejectedAtOnce(t *testing.T) {
	h := newHarness(t, map[string]string{"CONSENT_REQUIRED": "true", "SIGNOFF_REQUIRED": "true"})
	navigator := staff(t, practice, "cn@A81001", "Care navigator")
	gp := staff(t, practice, "dr.a@A81001", "GP")
	kinds := map[string]int{}
	n := 0
	for _, screen := range h.app.mappings.Screens {
		for _, code := range screen.Codes {
			n++
			kinds[string(screen.Kind)]++
			t.Run(string(screen.Kind)+"/"+code.Code, func(t *testing.T) {
				body := withJSON(t, fixture(t, "servicerequest-debt.json"), map[string]any{
					"identifier": []any{map[string]any{"system": referralSys, "value": "SAFETY-" + code.Code}},
					"reasonCode": []any{map[string]any{"coding": []any{map[string]any{"system": code.System, "code": code.Code}}}},
				})
				r := h.do("POST", "/fhir/ServiceRequest", navigator, body, "Prefer", "return=OperationOutcome")
				if r.status != http.StatusCreated {
					t.Fatalf("= %d %s", r.status, r.body)
				}
				id := locationID(r.header.Get("Location"))
				if hdr := r.header.Get("X-Task-Status"); hdr != "rejected; reason="+string(screen.Kind)+"; task=Task/"+id {
					t.Errorf("X-Task-Status = %q", hdr)
				}
				if is := issue(t, r); is["severity"] != "information" || !strings.Contains(string(r.body), `"severity":"warning"`) ||
					!strings.Contains(string(r.body), "rejected ("+string(screen.Kind)+")") || !strings.Contains(string(r.body), screen.Pathway[:40]) {
					t.Errorf("POST response does not warn with kind and pathway: %s", r.body)
				}
				if _, v := readTask(t, h, gp, id); v.Status != "rejected" || v.BusinessStatus != string(screen.Kind) || v.Reason != screen.Pathway {
					t.Errorf("Task %+v", v)
				}
				inNoQueue(t, h, id)
				for _, holds := range []string{"cholds", "soholds"} {
					for _, k := range mustKeys(t, h, holds) {
						if _, err := h.app.store.Client().ZScore(t.Context(), k, id).Result(); err == nil {
							t.Errorf("a safety-stopped referral is held in %s", k)
						}
					}
				}
			})
		}
	}
	if n < 9 || kinds["clinical-redirect"] == 0 || kinds["out-of-remit"] == 0 {
		t.Fatalf("screens declare %d codes (%v): the default mappings were not loaded", n, kinds)
	}
}

package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

// gravityFoodPantry is HL7 Gravity SDOH Clinical Care's published example
// SDOHCC-ServiceRequestActiveFoodPantryApplicationAssistExample (from the
// IG's FSH, input/fsh/instances), as JSON: the need as an SDOH category,
// the service asked for as a SNOMED CT code, the patient by a reference
// only and the reason by a Condition this adapter was never sent.
const gravityFoodPantry = `{
  "resourceType": "ServiceRequest",
  "meta": {"profile": ["http://hl7.org/fhir/us/sdoh-clinicalcare/StructureDefinition/SDOHCC-ServiceRequest"]},
  "status": "active",
  "intent": "order",
  "category": [
    {"coding": [{"system": "http://snomed.info/sct", "code": "410606002", "display": "Social service procedure"}]},
    {"coding": [{"system": "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes", "code": "food-insecurity", "display": "Food Insecurity"}]}
  ],
  "code": {"coding": [{"system": "http://snomed.info/sct", "code": "467771000124109", "display": "Assistance with application for food pantry program"}]},
  "subject": {"reference": "Patient/pat-53234"},
  "reasonReference": [{"reference": "Condition/SDOHCC-ConditionFoodInsecurityExample"}]
}`

// A referral coded as Gravity codes it is routed by its SDOH category
// where the same need coded by reason goes: Gravity's published example
// (food insecurity) to the link workers, financial insecurity to debt
// advice, social connection to befriending; intimate partner violence and
// elder abuse are safeguarding matters, kept for the record with their
// Task rejected at once, never queued.
func TestGravityCodedReferralsRoute(t *testing.T) {
	h := newHarness(t, nil)
	gp := h.token(auth.RolePractice, practice)
	for _, tc := range []struct {
		category, owner, status, businessStatus string
	}{
		{"food-insecurity", "riverside-link-workers", "requested", "routed"},
		{"financial-insecurity", "money-advice", "requested", "routed"},
		{"social-connection", "befriending", "requested", "routed"},
		{"intimate-partner-violence", "", "rejected", "out-of-remit"},
		{"elder-abuse", "", "rejected", "out-of-remit"},
	} {
		body := strings.Replace(gravityFoodPantry, `"code": "food-insecurity"`, `"code": "`+tc.category+`"`, 1)
		id := idOf(t, post(t, h, "/fhir/ServiceRequest", gp, []byte(body), http.StatusCreated))
		task := h.do("GET", "/fhir/Task/"+id, gp, nil).json(t)
		owner, _ := task["owner"].(map[string]any)
		ownerRef, _ := owner["reference"].(string)
		bs, _ := task["businessStatus"].(map[string]any)
		codings, _ := bs["coding"].([]any)
		code := ""
		if len(codings) > 0 {
			code, _ = codings[0].(map[string]any)["code"].(string)
		}
		if task["status"] != tc.status || code != tc.businessStatus || !strings.HasSuffix(ownerRef, "/"+tc.owner) && tc.owner != "" || tc.owner == "" && owner != nil {
			t.Errorf("%s: Task %v %q, owner %v", tc.category, task["status"], code, owner)
		}
	}
}

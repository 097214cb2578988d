package intake_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/internal/testfiles"
)

// exampleOutcomes is what intake does with each of the FHIR R4 standard's
// ServiceRequest, Consent and transaction Bundle examples: "created", or
// the error code and expression. None is a social prescribing referral.
var exampleOutcomes = map[string]string{
	// Not active (completed), not an order (plan), or do-not-perform.
	"ServiceRequest-ambulation.json":             "business-rule ServiceRequest.status",
	"ServiceRequest-appendectomy-narrative.json": "business-rule ServiceRequest.status",
	"ServiceRequest-benchpress.json":             "business-rule ServiceRequest.code (no rule)", // a plan (as BaRS sends), but no social prescribing
	"ServiceRequest-colon-biopsy.json":           "business-rule ServiceRequest.status",
	"ServiceRequest-colonoscopy.json":            "business-rule ServiceRequest.status",
	"ServiceRequest-do-not-turn.json":            "business-rule ServiceRequest.doNotPerform",
	"ServiceRequest-education.json":              "business-rule ServiceRequest.status",
	"ServiceRequest-example-implant.json":        "business-rule ServiceRequest.status",
	"ServiceRequest-example.json":                "business-rule ServiceRequest.status",
	"ServiceRequest-ob.json":                     "business-rule ServiceRequest.status",
	"ServiceRequest-physical-therapy.json":       "business-rule ServiceRequest.status",
	"ServiceRequest-physiotherapy.json":          "business-rule ServiceRequest.status",
	"ServiceRequest-vent.json":                   "business-rule ServiceRequest.status",
	// Active orders for clinical services: no mapping rule matches them.
	"ServiceRequest-di.json":          "business-rule ServiceRequest.code (no rule)",
	"ServiceRequest-example-pgx.json": "business-rule ServiceRequest.code (no rule)",
	"ServiceRequest-ft4.json":         "business-rule ServiceRequest.code (no rule)",
	"ServiceRequest-lipid.json":       "business-rule ServiceRequest.code (no rule)",
	"ServiceRequest-myringotomy.json": "business-rule ServiceRequest.code (no rule)",
	"ServiceRequest-og-example1.json": "business-rule ServiceRequest.code (no rule)",
	"ServiceRequest-subrequest.json":  "business-rule ServiceRequest.code (no rule)",
	// Every Consent names its patient. Those whose actors are persons (a
	// nurse, a practitioner) or none are stored: whether they permit sharing
	// with social prescribing is decided when they are used. Those naming an
	// organisation by a literal reference to one the adapter does not know
	// (Organization/f001) are refused, naming the element, rather than
	// stored as if the actor meant nothing (issue 17): organisations are
	// named by ODS code.
	"Consent-consent-example-Emergency.json":   "business-rule Consent.provision.actor[0].reference",
	"Consent-consent-example-Out.json":         "business-rule Consent.provision.actor[0].reference",
	"Consent-consent-example-basic.json":       "created",
	"Consent-consent-example-grantor.json":     "business-rule Consent.provision.actor[0].reference",
	"Consent-consent-example-notAuthor.json":   "business-rule Consent.provision.actor[0].reference",
	"Consent-consent-example-notOrg.json":      "business-rule Consent.provision.actor[0].reference",
	"Consent-consent-example-notThem.json":     "created",
	"Consent-consent-example-notThis.json":     "created",
	"Consent-consent-example-notTime.json":     "created",
	"Consent-consent-example-pkb.json":         "business-rule Consent.provision.actor[0].reference",
	"Consent-consent-example-signature.json":   "created",
	"Consent-consent-example-smartonfhir.json": "created",
	// PUT, DELETE and GET entries: only POSTs of ServiceRequest, Consent and
	// Patient are supported; entry 2 is the first that is not.
	"Bundle-bundle-transaction.json": "not-supported Bundle.entry[2].request.method",
}

// Every ServiceRequest, Consent and transaction Bundle among the FHIR R4
// examples is run through intake on real Redis: each is stored or refused
// exactly as the table says, a refusal writes nothing, and none panics.
func TestSharedExamplesThroughIntake(t *testing.T) {
	examples := testfiles.IntakeExamples(t)
	r := newRig(t)
	var seen []string
	for _, ex := range examples {
		name := ex.Name
		seen = append(seen, name)
		before := r.keys(t)
		got := r.submit(t, ex.Type, ex.Body)
		want, ok := exampleOutcomes[name]
		switch {
		case !ok:
			t.Errorf("%s: not in the table; intake says %q", name, got)
		case got != want:
			t.Errorf("%s: %q, want %q", name, got, want)
		}
		if after := r.keys(t); got != "created" && !slices.Equal(after, before) {
			t.Errorf("%s: refused, but wrote keys", name)
		}
	}
	for name := range exampleOutcomes {
		if !slices.Contains(seen, name) {
			t.Errorf("%s is in the table but not among the examples", name)
		}
	}
}

// submit sends a resource as its POST would, and describes the outcome.
func (r *rig) submit(t *testing.T, typ string, body []byte) (outcome string) {
	defer func() {
		if p := recover(); p != nil {
			outcome = fmt.Sprintf("PANIC: %v", p)
		}
	}()
	var err error
	switch typ {
	case "ServiceRequest":
		_, err = r.svc.CreateServiceRequest(bg, surgery, body, adapter.Identifier{})
	case "Consent":
		_, err = r.svc.CreateConsent(bg, surgery, body, adapter.Identifier{})
	case "Bundle":
		_, err = r.tx(t, body)
	}
	if err == nil {
		return "created"
	}
	var e *adapter.Error
	if !errors.As(err, &e) {
		return "NOT A DOMAIN ERROR: " + err.Error()
	}
	out := e.Code
	if len(e.Expression) > 0 {
		out += " " + e.Expression[0]
	}
	if strings.Contains(e.Message, "no rule in rule set \"riverside-pcn-default\"") {
		out += " (no rule)"
	}
	return out
}

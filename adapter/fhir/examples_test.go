package fhir_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/internal/testfiles"
)

// edge runs a body through the FHIR edge of intake: strict parse and
// validation, then what intake reads from each kind of resource. A panic
// is turned into an error naming it, so the walk reports the file.
func edge(p *fhir.Parser, body []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	res, err := p.Parse(body, "ServiceRequest", "Consent", "Bundle")
	if err != nil {
		return err
	}
	switch res.Type {
	case "ServiceRequest":
		_, err = fhir.ReferralFrom(res)
	case "Consent":
		_, err = fhir.ConsentSummaryFrom(res)
	case "Bundle":
		_, err = p.Transaction(body)
	}
	return err
}

// outcome is what the FHIR edge makes of an example: "accepted", or the
// error's code and first expression.
func outcome(err error) string {
	if err == nil {
		return "accepted"
	}
	var e *adapter.Error
	if !errors.As(err, &e) {
		return "NOT A DOMAIN ERROR: " + err.Error()
	}
	if len(e.Expression) == 0 {
		return e.Code
	}
	return e.Code + " " + e.Expression[0]
}

// sharedExampleOutcomes is the exact outcome for each of the FHIR R4
// standard's ServiceRequest, Consent and transaction Bundle examples. The
// ServiceRequests that get through are rejected later by routing (no
// mapping rule matches them: see adapter/intake's example test).
var sharedExampleOutcomes = map[string]string{
	"ServiceRequest-ambulation.json":             "business-rule ServiceRequest.status", // completed
	"ServiceRequest-appendectomy-narrative.json": "business-rule ServiceRequest.status",
	"ServiceRequest-benchpress.json":             "accepted", // active plan: a referral as NHS BaRS sends one
	"ServiceRequest-colon-biopsy.json":           "business-rule ServiceRequest.status",
	"ServiceRequest-colonoscopy.json":            "business-rule ServiceRequest.status",
	"ServiceRequest-di.json":                     "accepted",
	"ServiceRequest-do-not-turn.json":            "business-rule ServiceRequest.doNotPerform",
	"ServiceRequest-education.json":              "business-rule ServiceRequest.status",
	"ServiceRequest-example-implant.json":        "business-rule ServiceRequest.status",
	"ServiceRequest-example-pgx.json":            "accepted",
	"ServiceRequest-example.json":                "business-rule ServiceRequest.status",
	"ServiceRequest-ft4.json":                    "accepted",
	"ServiceRequest-lipid.json":                  "accepted",
	"ServiceRequest-myringotomy.json":            "accepted",
	"ServiceRequest-ob.json":                     "business-rule ServiceRequest.status",
	"ServiceRequest-og-example1.json":            "accepted",
	"ServiceRequest-physical-therapy.json":       "business-rule ServiceRequest.status",
	"ServiceRequest-physiotherapy.json":          "business-rule ServiceRequest.status",
	"ServiceRequest-subrequest.json":             "accepted",
	"ServiceRequest-vent.json":                   "business-rule ServiceRequest.status",
	"Consent-consent-example-Emergency.json":     "accepted",
	"Consent-consent-example-Out.json":           "accepted",
	"Consent-consent-example-basic.json":         "accepted",
	"Consent-consent-example-grantor.json":       "accepted",
	"Consent-consent-example-notAuthor.json":     "accepted",
	"Consent-consent-example-notOrg.json":        "accepted",
	"Consent-consent-example-notThem.json":       "accepted",
	"Consent-consent-example-notThis.json":       "accepted",
	"Consent-consent-example-notTime.json":       "accepted",
	"Consent-consent-example-pkb.json":           "accepted",
	"Consent-consent-example-signature.json":     "accepted",
	"Consent-consent-example-smartonfhir.json":   "accepted",
	// Entries 0 and 1 are POSTs of Patients; entry 2 is the first PUT.
	"Bundle-bundle-transaction.json": "not-supported Bundle.entry[2].request.method",
}

// Every ServiceRequest, Consent and transaction Bundle among the FHIR R4
// standard's examples goes through the FHIR edge without a panic, and is
// accepted or rejected with a domain error exactly as the table says.
func TestSharedExamples(t *testing.T) {
	p := newParser(t)
	var seen []string
	for _, ex := range testfiles.IntakeExamples(t) {
		name := ex.Name
		seen = append(seen, name)
		err := edge(p, ex.Body)
		got := outcome(err)
		var e *adapter.Error
		if err != nil && (!errors.As(err, &e) || e.Code == adapter.EINTERNAL) {
			t.Errorf("%s: %s", name, got)
			continue
		}
		want, ok := sharedExampleOutcomes[name]
		if !ok {
			t.Errorf("%s: no expected outcome in the table; it is %q", name, got)
			continue
		}
		if got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	for name := range sharedExampleOutcomes {
		if !slices.Contains(seen, name) {
			t.Errorf("%s is in the table but not among the examples", name)
		}
	}
}

// Every golden input parses, and each referral, consent and transaction
// gets through the FHIR edge of intake.
func TestFixturesParse(t *testing.T) {
	p := newParser(t)
	for _, name := range testfiles.Fixtures(t) {
		body := testfiles.Fixture(t, name)
		res, err := p.Parse(body)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		switch res.Type {
		case "ServiceRequest", "Consent", "Bundle":
		default:
			continue // a Patient, or an outcome a link worker records
		}
		if err := edge(p, body); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

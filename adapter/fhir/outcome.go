package fhir

import (
	oopb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/operation_outcome_go_proto"
)

// Issue is one OperationOutcome issue.
type Issue struct {
	Severity    string // fatal | error | warning | information
	Code        string // http://hl7.org/fhir/issue-type
	Diagnostics string
	Expression  []string
}

// OperationOutcome renders issues as a FHIR OperationOutcome. A severity or
// issue code outside the FHIR value sets (a bug in the caller) becomes
// "error" / "exception", so the outcome stays valid FHIR (severity and code
// are required); if marshalling fails, a minimal hand-built outcome is
// returned so an error response is never lost.
func (r *Renderer) OperationOutcome(issues ...Issue) []byte {
	oo := &oopb.OperationOutcome{}
	for _, is := range issues {
		pi := &oopb.OperationOutcome_Issue{
			Severity: &oopb.OperationOutcome_Issue_SeverityCode{},
			Code:     &oopb.OperationOutcome_Issue_CodeType{},
		}
		if !setCode(pi.Severity, is.Severity) {
			setCode(pi.Severity, "error")
		}
		if !setCode(pi.Code, is.Code) {
			setCode(pi.Code, "exception")
		}
		if is.Diagnostics != "" {
			pi.Diagnostics = str(is.Diagnostics)
		}
		for _, e := range is.Expression {
			pi.Expression = append(pi.Expression, str(e))
		}
		oo.Issue = append(oo.Issue, pi)
	}
	b, err := r.marshal(oo)
	if err != nil {
		return []byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"exception"}]}`)
	}
	return b
}

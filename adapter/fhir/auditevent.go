package fhir

import (
	"strconv"
	"strings"

	dtpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	aepb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/audit_event_go_proto"

	"github.com/social-prescribing/referral-adapter/adapter"
)

const (
	systemAuditType     = "http://terminology.hl7.org/CodeSystem/audit-event-type"
	systemRestInteract  = "http://hl7.org/fhir/restful-interaction"
	systemAdapterAudit  = "https://social-prescribing.github.io/referral-adapter/CodeSystem/audit-kind"
	systemSecurityRole  = "http://terminology.hl7.org/CodeSystem/extra-security-role-type"
	adapterDeviceSource = "referral-adapter"
)

// AuditEvent renders an audit record as a FHIR R4 AuditEvent.
func (r *Renderer) AuditEvent(a adapter.AuditRecord) ([]byte, error) {
	typ := coding(adapter.Coding{System: systemAuditType, Code: "rest", Display: "RESTful Operation"})
	if a.Kind != "rest" {
		typ = coding(adapter.Coding{System: systemAdapterAudit, Code: a.Kind})
	}
	ev := &aepb.AuditEvent{
		Id:       id(auditID(a.ID)),
		Type:     typ,
		Action:   withCode(&aepb.AuditEvent_ActionCode{}, string(a.Action)),
		Recorded: instantOf(a.Time),
		Outcome:  withCode(&aepb.AuditEvent_OutcomeCode{}, auditOutcome(a.Outcome)),
		Agent: []*aepb.AuditEvent_Agent{{
			Type:      concept(a.Role, adapter.Coding{System: systemSecurityRole, Code: "humanuser"}),
			Who:       &dtpb.Reference{Identifier: &dtpb.Identifier{System: uri("https://social-prescribing.github.io/referral-adapter/Id/token-subject"), Value: str(a.Subject)}},
			AltId:     str(a.Org),
			Requestor: &dtpb.Boolean{Value: true},
		}},
		Source: &aepb.AuditEvent_Source{Observer: &dtpb.Reference{Display: str(adapterDeviceSource)}},
	}
	if a.Outcome >= 400 {
		ev.OutcomeDesc = str("HTTP " + strconv.Itoa(a.Outcome))
	}
	if a.Entity != "" {
		ent := auditEntity(a.Entity)
		if a.Detail != "" {
			ent.Description = str(a.Detail)
		}
		if a.RequestID != "" {
			ent.Detail = []*aepb.AuditEvent_Entity_Detail{{Type: str("request-id"),
				Value: &aepb.AuditEvent_Entity_Detail_ValueX{Choice: &aepb.AuditEvent_Entity_Detail_ValueX_StringValue{StringValue: str(a.RequestID)}}}}
		}
		ev.Entity = []*aepb.AuditEvent_Entity{ent}
	}
	return r.marshal(ev)
}

// auditEntity describes what a record touched as the AuditEvent standard
// says: a resource by reference (entity.what); a search as entity.query
// (its parameter names, base64 as the element requires; never values); an
// operation of the JSON API by its route template (entity.name), which is
// no FHIR reference.
func auditEntity(e string) *aepb.AuditEvent_Entity {
	path, suffix, _ := strings.Cut(e, "/")
	switch {
	case strings.HasPrefix(e, "/"):
		return &aepb.AuditEvent_Entity{Name: str(e)}
	case strings.Contains(e, "?"):
		typ, _, _ := strings.Cut(e, "?")
		return &aepb.AuditEvent_Entity{Query: &dtpb.Base64Binary{Value: []byte(e)},
			Type: &dtpb.Coding{System: &dtpb.Uri{Value: "http://hl7.org/fhir/resource-types"}, Code: &dtpb.Code{Value: typ}}}
	case referenceProblem(e) == "":
		return &aepb.AuditEvent_Entity{What: &dtpb.Reference{Reference: &dtpb.Reference_Uri{Uri: str(e)}}}
	case resourceTypeName.MatchString(path) && strings.Contains(suffix, "/"):
		// An operation on a resource (Task/{id}/transition): the resource,
		// and the operation by name.
		id, op, _ := strings.Cut(suffix, "/")
		if ref := path + "/" + id; referenceProblem(ref) == "" {
			return &aepb.AuditEvent_Entity{What: &dtpb.Reference{Reference: &dtpb.Reference_Uri{Uri: str(ref)}}, Name: str(op)}
		}
	}
	return &aepb.AuditEvent_Entity{Name: str(e)}
}

// auditID turns a stream id "1700000000000-0" into a FHIR id.
func auditID(streamID string) string {
	out := []byte(streamID)
	for i, c := range out {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.') {
			out[i] = '-'
		}
	}
	return string(out)
}

// auditOutcome maps an HTTP status to audit-event-outcome: 0 success,
// 4 minor failure (refused request), 8 serious failure (server error).
// The names are the library's enum names; it renders the codes.
func auditOutcome(status int) string {
	switch {
	case status >= 500:
		return "serious-failure"
	case status >= 400:
		return "minor-failure"
	}
	return "success"
}

package fhir

import (
	"slices"
	"strings"

	dtpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	srpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/service_request_go_proto"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// referralIntents are the ServiceRequest intents that make it a referral a
// service can act on: an order of any kind, and a plan, which NHS BaRS
// (the national Booking and Referral Standard) sends referrals with.
var referralIntents = []string{"plan", "order", "original-order", "reflex-order", "filler-order", "instance-order"}

// ReferralFrom turns a validated ServiceRequest into a domain Referral and
// checks it is something a social prescribing service can act on: active,
// an order, not a do-not-perform request, about a patient.
func ReferralFrom(res *Resource) (*adapter.Referral, error) {
	sr := res.Msg.GetServiceRequest()
	if sr == nil {
		return nil, adapter.Errorf(adapter.EINVALID, "expected a ServiceRequest resource").At("resourceType")
	}
	if st := codeString(sr.GetStatus()); st != "active" {
		return nil, adapter.Errorf(adapter.EBUSINESSRULE, "only active referrals can be accepted; status is %q", st).At("ServiceRequest.status")
	}
	if in := codeString(sr.GetIntent()); !slices.Contains(referralIntents, in) {
		return nil, adapter.Errorf(adapter.EBUSINESSRULE, "a referral must have intent plan or order (or a kind of order); intent is %q", in).At("ServiceRequest.intent")
	}
	if sr.GetDoNotPerform().GetValue() {
		return nil, adapter.Errorf(adapter.EBUSINESSRULE, "a do-not-perform request is not a referral").At("ServiceRequest.doNotPerform")
	}
	r := referralFromProto(sr)
	r.RequesterKind, r.RequesterOrgs = requesterFacts(res.Raw)
	if !isPatientRef(r.Subject) {
		return nil, adapter.Errorf(adapter.EBUSINESSRULE, "a referral's subject must be a Patient").At("ServiceRequest.subject")
	}
	return r, nil
}

func referralFromProto(sr *srpb.ServiceRequest) *adapter.Referral {
	return &adapter.Referral{
		Identifier:  firstIdentifier(sr.GetIdentifier()),
		Identifiers: allIdentifiers(sr.GetIdentifier()),
		Subject:     refString(sr.GetSubject()),
		Requester:   refString(sr.GetRequester()),
		Codes:       codings(sr.GetCode()),
		Categories:  codings(sr.GetCategory()...),
		Reasons:     codings(sr.GetReasonCode()...),
		Performers:  refStrings(sr.GetPerformer()),
		Priority:    adapter.Priority(codeString(sr.GetPriority())),
		AuthoredOn:  dateTime(sr.GetAuthoredOn()),
		Labels:      securityLabels(sr.GetMeta()),
	}
}

// securityLabels reads meta.security.
func securityLabels(m *dtpb.Meta) []adapter.Coding {
	var out []adapter.Coding
	for _, c := range m.GetSecurity() {
		if code := c.GetCode().GetValue(); code != "" {
			out = append(out, adapter.Coding{System: c.GetSystem().GetValue(), Code: code})
		}
	}
	return out
}

func isPatientRef(ref string) bool {
	return hasTypePrefix(ref, "Patient") || strings.HasPrefix(ref, "urn:uuid:") || strings.HasPrefix(ref, "urn:oid:")
}

// hasTypePrefix reports whether ref is a relative, absolute or conditional
// reference to a resource of type t.
func hasTypePrefix(ref, t string) bool {
	return strings.HasPrefix(ref, t+"/") || strings.HasPrefix(ref, t+"?") || strings.Contains(ref, "/"+t+"/")
}

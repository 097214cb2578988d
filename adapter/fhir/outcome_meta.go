package fhir

import (
	dtpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// OutcomeMeta is what consent decisions need to know about an outcome
// resource: its categories, codes and security labels.
type OutcomeMeta struct {
	Categories     []adapter.Coding
	Codes          []adapter.Coding
	SecurityLabels []adapter.Coding
}

// OutcomeMetaFrom reads an Observation, Procedure or Goal.
func OutcomeMetaFrom(res *Resource) OutcomeMeta {
	var m OutcomeMeta
	var meta *dtpb.Meta
	switch {
	case res.Msg.GetObservation() != nil:
		o := res.Msg.GetObservation()
		m.Categories, m.Codes, meta = codings(o.GetCategory()...), codings(o.GetCode()), o.GetMeta()
	case res.Msg.GetProcedure() != nil:
		p := res.Msg.GetProcedure()
		m.Categories, m.Codes, meta = codings(p.GetCategory()), codings(p.GetCode()), p.GetMeta()
	case res.Msg.GetGoal() != nil:
		g := res.Msg.GetGoal()
		m.Categories, m.Codes, meta = codings(g.GetCategory()...), codings(g.GetDescription()), g.GetMeta()
	}
	for _, c := range meta.GetSecurity() {
		m.SecurityLabels = append(m.SecurityLabels, adapter.Coding{System: c.GetSystem().GetValue(), Code: c.GetCode().GetValue()})
	}
	return m
}

package fhir

import (
	"time"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	dtpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// OutcomeMeta is what consent decisions need to know about an outcome
// resource: its categories, codes and security labels.
type OutcomeMeta struct {
	Categories     []adapter.Coding
	Codes          []adapter.Coding
	SecurityLabels []adapter.Coding
	// Effective is the outcome's own date: an Observation's effective time
	// (the start of a period) or else issued, a Procedure's performed time,
	// a Goal's status date or else start date; zero when it has none.
	Effective time.Time
}

// OutcomeMetaFrom reads an Observation, Procedure or Goal.
func OutcomeMetaFrom(res *Resource) OutcomeMeta {
	var m OutcomeMeta
	var meta *dtpb.Meta
	switch {
	case res.Msg.GetObservation() != nil:
		o := res.Msg.GetObservation()
		m.Categories, m.Codes, meta = codings(o.GetCategory()...), codings(o.GetCode()), o.GetMeta()
		m.Effective = firstTime(dateTime(o.GetEffective().GetDateTime()), dateTime(o.GetEffective().GetPeriod().GetStart()),
			instant(o.GetEffective().GetInstant()), instant(o.GetIssued()))
	case res.Msg.GetProcedure() != nil:
		p := res.Msg.GetProcedure()
		m.Categories, m.Codes, meta = codings(p.GetCategory()), codings(p.GetCode()), p.GetMeta()
		m.Effective = firstTime(dateTime(p.GetPerformed().GetDateTime()), dateTime(p.GetPerformed().GetPeriod().GetStart()))
	case res.Msg.GetGoal() != nil:
		g := res.Msg.GetGoal()
		m.Categories, m.Codes, meta = codings(g.GetCategory()...), codings(g.GetDescription()), g.GetMeta()
		m.Effective = firstTime(fhirDate(g.GetStatusDate()), fhirDate(g.GetStart().GetDate()))
	}
	for _, c := range meta.GetSecurity() {
		m.SecurityLabels = append(m.SecurityLabels, adapter.Coding{System: c.GetSystem().GetValue(), Code: c.GetCode().GetValue()})
	}
	return m
}

// firstTime returns the first of ts that is set.
func firstTime(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// fhirDate converts a FHIR date (its first instant); zero when absent.
func fhirDate(d *dtpb.Date) time.Time {
	if d == nil {
		return time.Time{}
	}
	return time.UnixMicro(d.GetValueUs()).UTC()
}

// StampOutcome returns an outcome resource with the server's id and meta
// and naming the referral it is an outcome of: ServiceRequest/{referral}
// in basedOn (Observation, Procedure) or addresses (Goal, which has no
// basedOn), added unless the resource names it already.
func StampOutcome(raw []byte, id string, now time.Time, referral string) ([]byte, error) {
	out, err := Stamp(raw, id, 1, now)
	if err != nil {
		return nil, err
	}
	element := "basedOn"
	if gjson.GetBytes(out, "resourceType").String() == "Goal" {
		element = "addresses"
	}
	ref := adapter.KindServiceRequest + "/" + referral
	for _, r := range gjson.GetBytes(out, element).Array() {
		if r.Get("reference").String() == ref {
			return out, nil
		}
	}
	return sjson.SetBytes(out, element+".-1", map[string]any{"reference": ref})
}

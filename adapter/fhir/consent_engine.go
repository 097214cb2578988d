package fhir

import (
	"crypto/sha256"
	"strings"
	"time"

	dtpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	cpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/consent_go_proto"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/consent"
)

// ConsentFrom reduces a validated Consent to the consent engine's values.
// References take the same string forms as everywhere else (refString), so
// that the engine compares like with like.
func ConsentFrom(res *Resource) (consent.Consent, error) {
	c := res.Msg.GetConsent()
	if c == nil {
		return consent.Consent{}, adapter.Errorf(adapter.EINVALID, "expected a Consent resource").At("resourceType")
	}
	out := consent.Consent{
		ID:         c.GetId().GetValue(),
		Status:     codeString(c.GetStatus()),
		Patient:    refString(c.GetPatient()),
		Scope:      codings(c.GetScope()),
		Categories: codings(c.GetCategory()...),
		DateTime:   dateTime(c.GetDateTime()),
		PolicyRule: codings(c.GetPolicyRule()),
		Received:   instant(c.GetMeta().GetLastUpdated()),
	}
	for _, pol := range c.GetPolicy() {
		if u := pol.GetUri().GetValue(); u != "" {
			out.Policies = append(out.Policies, u)
		}
	}
	if p := c.GetProvision(); p != nil {
		root := provisionFrom(p)
		out.Provision = &root
	}
	return out, nil
}

// Consents parses stored Consents for the engine. One that no longer
// parses says nothing (each was validated on the way in).
// Each body is parsed once; later calls find it in the parser's cache.
//
// The bodies are one patient's Consents, which the practice may have sent
// naming the patient by NHS number or by the Patient it sent here (the
// store reads both): each is given patient as its Patient, the reference
// the caller decides for, so a Consent governs the patient's referrals
// whichever way either named the patient.
func (p *Parser) Consents(patient string, bodies [][]byte) []consent.Consent {
	out := make([]consent.Consent, 0, len(bodies))
	for _, b := range bodies {
		k := sha256.Sum256(b)
		if c, ok := p.consents.Get(k); ok {
			c.Patient = patient
			out = append(out, c)
			continue
		}
		res, err := p.Parse(b, "Consent")
		if err != nil {
			continue
		}
		if c, err := ConsentFrom(res); err == nil {
			p.consents.Put(k, c)
			c.Patient = patient
			out = append(out, c)
		}
	}
	return out
}

func provisionFrom(p *cpb.Consent_Provision) consent.Provision {
	out := consent.Provision{
		Type:           consent.Type(codeString(p.GetType())),
		Period:         periodFrom(p.GetPeriod()),
		Actions:        codings(p.GetAction()...),
		Purposes:       codingList(p.GetPurpose()),
		SecurityLabels: codingList(p.GetSecurityLabel()),
		Classes:        codingList(p.GetClassValue()),
		Codes:          codings(p.GetCode()...),
		DataPeriod:     periodFrom(p.GetDataPeriod()),
	}
	for _, a := range p.GetActor() {
		out.Actors = append(out.Actors, actorFrom(a))
	}
	for _, d := range p.GetData() {
		out.Data = append(out.Data, consent.Data{Meaning: codeString(d.GetMeaning()), Reference: refString(d.GetReference())})
	}
	for _, n := range p.GetProvision() {
		out.Provisions = append(out.Provisions, provisionFrom(n))
	}
	return out
}

// actorFrom reads a provision actor: its reference in normal form and, when
// the Reference carries an identifier beside a literal reference, that too,
// so that either names the actor.
func actorFrom(a *cpb.Consent_Provision_ProvisionActor) consent.Actor {
	r := a.GetReference()
	out := consent.Actor{Role: codings(a.GetRole()), Reference: refString(r)}
	if id := r.GetIdentifier(); id.GetValue().GetValue() != "" {
		ident := r.GetType().GetValue() + "?identifier=" + id.GetSystem().GetValue() + "|" + id.GetValue().GetValue()
		if ident != out.Reference {
			out.Identifier = ident
		}
	}
	return out
}

// codingList converts bare Codings (provision purpose, class,
// securityLabel), keeping only those with a code.
func codingList(cs []*dtpb.Coding) []adapter.Coding {
	var out []adapter.Coding
	for _, c := range cs {
		if c.GetCode().GetValue() == "" {
			continue
		}
		out = append(out, adapter.Coding{System: c.GetSystem().GetValue(), Code: c.GetCode().GetValue()})
	}
	return out
}

// periodFrom converts a FHIR Period. The end becomes exclusive: "2027-11-20"
// covers that whole day, so the period ends at the next midnight (in the
// value's own time zone); every precision is treated alike.
func periodFrom(p *dtpb.Period) consent.Period {
	if p == nil {
		return consent.Period{}
	}
	var out consent.Period
	if s := p.GetStart(); s != nil {
		out.Start = dateTime(s)
	}
	if e := p.GetEnd(); e != nil {
		out.End = endOf(e)
	}
	return out
}

// endOf returns the first instant after the span a DateTime names at its
// precision.
func endOf(d *dtpb.DateTime) time.Time {
	t := time.UnixMicro(d.GetValueUs()).In(zone(d.GetTimezone()))
	switch d.GetPrecision() {
	case dtpb.DateTime_YEAR:
		t = t.AddDate(1, 0, 0)
	case dtpb.DateTime_MONTH:
		t = t.AddDate(0, 1, 0)
	case dtpb.DateTime_DAY:
		t = t.AddDate(0, 0, 1)
	case dtpb.DateTime_SECOND:
		t = t.Add(time.Second)
	case dtpb.DateTime_MILLISECOND:
		t = t.Add(time.Millisecond)
	default:
		t = t.Add(time.Microsecond)
	}
	return t.UTC()
}

// zone reads the library's time zone of a value: "Z", "UTC", an offset
// such as "+10:00", or a zone name. Anything unreadable is UTC.
func zone(tz string) *time.Location {
	if tz == "" || tz == "Z" || tz == "UTC" {
		return time.UTC
	}
	if strings.HasPrefix(tz, "+") || strings.HasPrefix(tz, "-") {
		if t, err := time.Parse("-07:00", tz); err == nil {
			return t.Location()
		}
		return time.UTC
	}
	if loc, err := time.LoadLocation(tz); err == nil {
		return loc
	}
	return time.UTC
}

package fhir

import (
	"fmt"
	"time"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	dtpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// PatientFactsFrom reads what routing may use to check eligibility from a
// Patient: the range of possible birth dates (birthDate may be a year, a
// month or a day) and the postcode district of the home address (else of
// the first address with a postcode). Anything absent stays unknown.
func PatientFactsFrom(res *Resource) adapter.PatientFacts {
	p := res.Msg.GetPatient()
	if p == nil {
		return adapter.PatientFacts{}
	}
	var f adapter.PatientFacts
	f.BornEarliest, f.BornLatest = dateRange(p.GetBirthDate())
	var postcode string
	for _, a := range p.GetAddress() {
		pc := a.GetPostalCode().GetValue()
		if pc == "" {
			continue
		}
		if postcode == "" || codeString(a.GetUse()) == "home" {
			postcode = pc
		}
		if codeString(a.GetUse()) == "home" {
			break
		}
	}
	f.District = adapter.PostcodeDistrict(postcode)
	f.Gender = codeString(p.GetGender())
	return f
}

// dateRange returns the first and last day a FHIR date may denote.
func dateRange(d *dtpb.Date) (first, last time.Time) {
	if d == nil || d.GetPrecision() == dtpb.Date_PRECISION_UNSPECIFIED {
		return time.Time{}, time.Time{}
	}
	loc, err := time.LoadLocation(d.GetTimezone())
	if err != nil {
		loc = time.UTC
	}
	t := time.UnixMicro(d.GetValueUs()).In(loc)
	y, m, day := t.Date()
	switch d.GetPrecision() {
	case dtpb.Date_YEAR:
		return date(y, 1, 1), date(y, 12, 31)
	case dtpb.Date_MONTH:
		return date(y, m, 1), date(y, m+1, 0)
	}
	return date(y, m, day), date(y, m, day)
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// StoredPatient is what the adapter reads from a stored Patient, for the
// access policy and the referral's Task (issue 19).
type StoredPatient struct {
	// Identifier is the identifier the Patient was created under (NHS
	// number first): a referral naming the patient by it finds it.
	Identifier adapter.Identifier
	// Labels are its security labels (meta.security), for the consent
	// decision about disclosing it.
	Labels []adapter.Coding
	// Received is when the adapter stored it (meta.lastUpdated).
	Received time.Time
	// Contact says whether it carries a way to reach the patient
	// (telecom or address).
	Contact bool
}

// ReadStoredPatient reads a stored (validated, stamped) Patient's facts.
func ReadStoredPatient(body []byte) StoredPatient {
	var p StoredPatient
	ids := gjson.GetBytes(body, "identifier").Array()
	for _, id := range ids {
		if id.Get("system").String() == adapter.SystemNHSNumber && id.Get("value").String() != "" {
			p.Identifier = adapter.Identifier{System: adapter.SystemNHSNumber, Value: id.Get("value").String()}
			break
		}
	}
	if p.Identifier.IsZero() {
		for _, id := range ids {
			if s, v := id.Get("system").String(), id.Get("value").String(); s != "" && v != "" {
				p.Identifier = adapter.Identifier{System: s, Value: v}
				break
			}
		}
	}
	for _, c := range gjson.GetBytes(body, "meta.security").Array() {
		p.Labels = append(p.Labels, adapter.Coding{System: c.Get("system").String(), Code: c.Get("code").String()})
	}
	p.Received, _ = time.Parse(time.RFC3339Nano, gjson.GetBytes(body, "meta.lastUpdated").String())
	p.Contact = len(gjson.GetBytes(body, "telecom").Array()) > 0 || len(gjson.GetBytes(body, "address").Array()) > 0
	return p
}

// OneNHSNumber refuses a Patient carrying two different NHS numbers: a
// person has one, and two would make one Patient two patients' at once
// (their referrals and consents are matched by it). The same number
// written twice is no conflict.
func OneNHSNumber(body []byte) error {
	first := ""
	for i, id := range gjson.GetBytes(body, "identifier").Array() {
		if id.Get("system").String() != adapter.SystemNHSNumber {
			continue
		}
		v := id.Get("value").String()
		switch {
		case first == "":
			first = v
		case v != first:
			return adapter.Errorf(adapter.EBUSINESSRULE,
				"a Patient carries one NHS number; this one has two different ones").At(fmt.Sprintf("Patient.identifier[%d]", i))
		}
	}
	return nil
}

// patientMinimum are the Patient elements a VCSE provider holding one of
// the patient's referrals gets: who the patient is and how to reach them
// (name, telecom, address), and how they prefer to be reached and in which
// language (communication; UK Core's contact preference and NHS
// communication extensions). Nothing clinical, no date of birth, no next
// of kin, no GP.
var patientMinimum = map[string]bool{"resourceType": true, "id": true, "meta": true, "identifier": true, "active": true,
	"name": true, "telecom": true, "address": true, "communication": true, "extension": true}

// patientExtensions are the Patient extensions a VCSE provider gets.
var patientExtensions = map[string]bool{
	"https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-ContactPreference": true,
	"https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSCommunication":  true,
	"http://hl7.org/fhir/StructureDefinition/patient-preferenceType":                 true,
}

// PatientMinimum returns a stored Patient as a VCSE provider may see it:
// only the elements of patientMinimum, the identifier only its NHS number
// (which the referral already carries), and only the contact-preference
// and language extensions. When anything was removed the Patient carries
// the REDACTED security label, as a redacted ServiceRequest does.
func PatientMinimum(body []byte) ([]byte, error) {
	out := body
	removed := false
	var err error
	del := func(path string) {
		if err == nil {
			out, err = sjson.DeleteBytes(out, path)
			removed = true
		}
	}
	gjson.ParseBytes(body).ForEach(func(k, _ gjson.Result) bool {
		if !patientMinimum[k.String()] {
			del(k.String())
		}
		return err == nil
	})
	for _, el := range []struct {
		path string
		keep func(gjson.Result) bool
	}{
		{"identifier", func(v gjson.Result) bool { return v.Get("system").String() == adapter.SystemNHSNumber }},
		{"extension", func(v gjson.Result) bool { return patientExtensions[v.Get("url").String()] }},
	} {
		items := gjson.GetBytes(out, el.path).Array()
		for i := len(items) - 1; i >= 0; i-- {
			if !el.keep(items[i]) {
				del(fmt.Sprintf("%s.%d", el.path, i))
			}
		}
		if err == nil && gjson.GetBytes(out, el.path).Exists() && len(gjson.GetBytes(out, el.path).Array()) == 0 {
			out, err = sjson.DeleteBytes(out, el.path)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("fhir: minimum necessary Patient: %w", err)
	}
	if !removed {
		return out, nil
	}
	return sjson.SetBytes(out, "meta.security.-1", map[string]string{
		"system": SystemObservationValue, "code": CodeRedacted, "display": "redacted"})
}

package fhir

import (
	"time"

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

package fhir

import (
	"fmt"
	"strings"
	"time"

	dtpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	hspb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/healthcare_service_go_proto"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Gravity SDOH Clinical Care capacity status extension and its codes.
const (
	ExtCapacityStatus    = "http://hl7.org/fhir/us/sdoh-clinicalcare/StructureDefinition/SDOHCC-ExtensionHealthcareServiceCapacityStatus"
	SystemSDOHCCTemp     = "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes"
	systemReferralMethod = "http://terminology.hl7.org/CodeSystem/service-referral-method"
	systemLanguage       = "urn:ietf:bcp:47"
)

// CapacityView is the live capacity a HealthcareService rendering shows.
type CapacityView struct {
	Code    string // capacity | no-capacity | waitlist | additional-assessment-required
	Display string
	Note    string // e.g. "12 waiting, estimated wait 21 days"
}

// HealthcareService renders a directory entry.
func (r *Renderer) HealthcareService(s *adapter.Service, c *CapacityView) ([]byte, error) {
	return r.marshal(healthcareServiceProto(s, c))
}

func healthcareServiceProto(s *adapter.Service, c *CapacityView) *hspb.HealthcareService {
	out := &hspb.HealthcareService{
		Id:     id(s.ID),
		Active: &dtpb.Boolean{Value: true},
		ProvidedBy: &dtpb.Reference{
			Type:       uri("Organization"),
			Identifier: &dtpb.Identifier{System: uri(adapter.SystemODS), Value: str(s.ProvidedBy.ODS)},
			Display:    str(s.ProvidedBy.Name),
		},
		Name: str(s.Name),
	}
	for _, cat := range s.Categories {
		out.Category = append(out.Category, concept("", cat))
	}
	for _, t := range s.Types {
		out.Type = append(out.Type, concept("", t))
	}
	out.Telecom = telecom(s.Contact)
	for _, l := range s.Eligibility.Languages {
		out.Communication = append(out.Communication, concept("", adapter.Coding{System: systemLanguage, Code: l}))
	}
	if m := referralMethod(s.ReferralMode); m != nil {
		out.ReferralMethod = []*dtpb.CodeableConcept{m}
	}
	out.Eligibility = eligibility(s)
	out.AvailableTime = availableTimes(s.Hours)
	if c != nil && c.Code != "" {
		out.Extension = append(out.Extension, capacityExtension(c))
	}
	return out
}

// capacityExtension renders the Gravity (STU 3) complex extension: a
// capacityStatus coding and, when there is one, a capacityNotes string.
func capacityExtension(c *CapacityView) *dtpb.Extension {
	status := concept("", adapter.Coding{System: SystemSDOHCCTemp, Code: c.Code, Display: c.Display})
	ext := &dtpb.Extension{Url: uri(ExtCapacityStatus), Extension: []*dtpb.Extension{{
		Url:   uri("capacityStatus"),
		Value: &dtpb.Extension_ValueX{Choice: &dtpb.Extension_ValueX_CodeableConcept{CodeableConcept: status}},
	}}}
	if c.Note != "" {
		ext.Extension = append(ext.Extension, &dtpb.Extension{
			Url:   uri("capacityNotes"),
			Value: &dtpb.Extension_ValueX{Choice: &dtpb.Extension_ValueX_StringValue{StringValue: str(c.Note)}},
		})
	}
	return ext
}

func telecom(c adapter.Contact) []*dtpb.ContactPoint {
	var out []*dtpb.ContactPoint
	if c.Phone != "" {
		out = append(out, &dtpb.ContactPoint{System: withCode(&dtpb.ContactPoint_SystemCode{}, "phone"), Value: str(c.Phone), Use: withCode(&dtpb.ContactPoint_UseCode{}, "work")})
	}
	if c.Email != "" {
		out = append(out, &dtpb.ContactPoint{System: withCode(&dtpb.ContactPoint_SystemCode{}, "email"), Value: str(c.Email), Use: withCode(&dtpb.ContactPoint_UseCode{}, "work")})
	}
	return out
}

// referralMethod maps the referral mode onto the R4 service-referral-method
// codes: formal referrals arrive electronically ("elec"); self-referral and
// signposting services take the person directly ("phone" is the nearest
// code, with the mode spelled out in text).
func referralMethod(m adapter.ReferralMode) *dtpb.CodeableConcept {
	switch m {
	case adapter.ModeFormalReferral:
		return concept("formal referral", adapter.Coding{System: systemReferralMethod, Code: "elec", Display: "Secure Messaging"})
	case adapter.ModeSelfReferralOnly:
		return concept("self-referral only", adapter.Coding{System: systemReferralMethod, Code: "phone", Display: "Phone"})
	case adapter.ModeSignpostOnly:
		return concept("signpost only")
	}
	return nil
}

func eligibility(s *adapter.Service) []*hspb.HealthcareService_Eligibility {
	var out []*hspb.HealthcareService_Eligibility
	e := s.Eligibility
	if e.MinAge > 0 || e.MaxAge > 0 {
		out = append(out, &hspb.HealthcareService_Eligibility{Code: concept(ageText(e.MinAge, e.MaxAge))})
	}
	if len(s.Areas) > 0 {
		out = append(out, &hspb.HealthcareService_Eligibility{Code: concept("lives in " + strings.Join(s.Areas, ", "))})
	}
	for _, x := range e.Exclusions {
		out = append(out, &hspb.HealthcareService_Eligibility{Code: concept("excludes: " + x)})
	}
	return out
}

func ageText(lo, hi int) string {
	switch {
	case hi == 0:
		return fmt.Sprintf("aged %d or over", lo)
	case lo == 0:
		return fmt.Sprintf("aged %d or under", hi)
	}
	return fmt.Sprintf("aged %d to %d", lo, hi)
}

func availableTimes(hours []adapter.OpeningHours) []*hspb.HealthcareService_AvailableTime {
	var out []*hspb.HealthcareService_AvailableTime
	for _, h := range hours {
		at := &hspb.HealthcareService_AvailableTime{
			AvailableStartTime: timeOfDay(h.Start),
			AvailableEndTime:   timeOfDay(h.End),
		}
		for _, d := range h.Days {
			at.DaysOfWeek = append(at.DaysOfWeek, withCode(&hspb.HealthcareService_AvailableTime_DaysOfWeekCode{}, strings.ToLower(d)))
		}
		out = append(out, at)
	}
	return out
}

// timeOfDay converts "09:30" (validated when mappings load) to a FHIR time.
func timeOfDay(hhmm string) *dtpb.Time {
	t, err := time.Parse("15:04", hhmm)
	if err != nil {
		return nil
	}
	us := int64(t.Hour()*3600+t.Minute()*60) * 1e6
	return &dtpb.Time{ValueUs: us, Precision: dtpb.Time_SECOND}
}

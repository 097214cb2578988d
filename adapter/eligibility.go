package adapter

import (
	"regexp"
	"slices"
	"strings"
	"time"
)

// PatientFacts is what routing may know about the patient to check a
// service's eligibility: the range of possible birth dates (a FHIR
// birthDate may give only a year or a month) and the postcode district of
// the home address. Zero values mean unknown, and unknown never excludes.
type PatientFacts struct {
	BornEarliest time.Time
	BornLatest   time.Time
	District     string // outward code, e.g. "LS6"
	// Gender is the Patient's administrative gender (female, male, other,
	// unknown), for the reach breakdown only (issue 20); never routes.
	Gender string
}

// UK postcode shapes: the outward code (area letters, district digit,
// optional sub-district) and the inward code (sector digit, unit letters).
var (
	ukPostcode = regexp.MustCompile(`^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$`)
	ukOutward  = regexp.MustCompile(`^[A-Z]{1,2}[0-9][A-Z0-9]?$`)
)

// PostcodeDistrict returns the outward code (district) of a UK postcode:
// "ls6 1aa" → "LS6". An outward code alone is returned as it is; anything
// not shaped like a postcode yields "".
func PostcodeDistrict(postcode string) string {
	p := strings.ToUpper(strings.Join(strings.Fields(postcode), ""))
	if m := ukPostcode.FindStringSubmatch(p); m != nil {
		return m[1]
	}
	if ukOutward.MatchString(p) {
		return p
	}
	return ""
}

// Ineligible returns why the patient cannot use the service, or "" when
// they can or when what is known does not show otherwise: an age outside
// the service's range only counts when every possible birth date is
// outside it, and an area only when the district is known.
func (s *Service) Ineligible(f PatientFacts, now time.Time) SkipReason {
	if s.ageExcludes(f, now) {
		return SkipIneligibleAge
	}
	if f.District != "" && len(s.Areas) > 0 &&
		!slices.ContainsFunc(s.Areas, func(a string) bool { return strings.EqualFold(a, f.District) }) {
		return SkipIneligibleArea
	}
	return ""
}

func (s *Service) ageExcludes(f PatientFacts, now time.Time) bool {
	e := s.Eligibility
	if f.BornEarliest.IsZero() || f.BornLatest.IsZero() || (e.MinAge == 0 && e.MaxAge == 0) {
		return false
	}
	oldest, youngest := AgeOn(f.BornEarliest, now), AgeOn(f.BornLatest, now)
	if e.MinAge > 0 && oldest < e.MinAge {
		return true
	}
	return e.MaxAge > 0 && youngest > e.MaxAge
}

// AgeOn is the age in whole years on the given day of someone born on born.
func AgeOn(born, on time.Time) int {
	by, bm, bd := born.Date()
	y, m, d := on.Date()
	age := y - by
	if m < bm || (m == bm && d < bd) {
		age--
	}
	return age
}

package adapter

import "testing"

// A job title is matched whole before its words, and words are matched
// whole: "physician associate" is another clinician, not a physician.
func TestSourceOfTitle(t *testing.T) {
	for title, want := range map[string]ReferralSource{
		"Physician associate":        SourceOtherClinician,
		"Physician Associate (PA)":   SourceOtherClinician,
		"Senior physician associate": SourceOtherClinician,
		"Physician":                  SourceGP,
		"GP":                         SourceGP,
		"Salaried GP":                SourceGP,
		"General practitioner":       SourceGP,
		"Practice nurse":             SourceNurse,
		"Practice manager":           SourcePracticeManager,
		"Care navigator":             SourceCareNavigator,
		"care-navigator":             SourceCareNavigator,
		"Mental health practitioner": SourceOtherClinician,
		"Clinical pharmacist":        SourceOtherClinician,
		"Administrator":              SourceOtherStaff,
		"Doctoral researcher":        SourceOtherStaff, // "doctor" only as a word
		"":                           SourceUnknown,
		"   ":                        SourceUnknown,
	} {
		if got := SourceOf(title, "", "A81001"); got != want {
			t.Errorf("SourceOf(%q) = %s, want %s", title, got, want)
		}
	}
	if got := SourceOf("GP", "Patient/1", "A81001"); got != SourceSelf {
		t.Errorf("patient as requester = %s", got)
	}
}

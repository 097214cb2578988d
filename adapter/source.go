package adapter

import "strings"

// ReferralSource is who made a referral, so reports can show where
// referrals come from and where inappropriate ones originate.
type ReferralSource string

// Referral sources.
const (
	SourceGP              ReferralSource = "gp"
	SourceNurse           ReferralSource = "nurse"
	SourceCareNavigator   ReferralSource = "care-navigator"
	SourcePracticeManager ReferralSource = "practice-manager"
	SourceOtherClinician  ReferralSource = "other-clinician"
	SourceOtherStaff      ReferralSource = "other-practice-staff"
	SourceOtherAgency     ReferralSource = "other-agency"
	SourceSelf            ReferralSource = "self-referral"
	SourceUnknown         ReferralSource = "unknown"
)

// titleWords maps words in a job title (from the token) to a source.
var titleWords = []struct {
	words  []string
	source ReferralSource
}{
	{[]string{"gp", "general practitioner", "doctor", "physician"}, SourceGP},
	{[]string{"nurse"}, SourceNurse},
	{[]string{"receptionist", "care navigator", "navigator"}, SourceCareNavigator},
	{[]string{"practice manager", "manager"}, SourcePracticeManager},
	{[]string{"pharmacist", "physiotherapist", "paramedic", "physician associate", "mental health practitioner"}, SourceOtherClinician},
}

// SourceOf derives the referral source from the referrer's job title in
// the token and the ServiceRequest's requester reference. The patient or a
// relative as requester is a self-referral; an organisation other than the
// practice is another agency.
func SourceOf(title, requester, practice string) ReferralSource {
	switch {
	case strings.HasPrefix(requester, "Patient") || strings.HasPrefix(requester, "RelatedPerson"):
		return SourceSelf
	case strings.HasPrefix(requester, "Organization") && !strings.HasSuffix(requester, "|"+practice):
		return SourceOtherAgency
	}
	t := strings.ToLower(title)
	for _, tw := range titleWords {
		for _, w := range tw.words {
			if strings.Contains(t, w) {
				return tw.source
			}
		}
	}
	if t != "" {
		return SourceOtherStaff
	}
	return SourceUnknown
}

// Clinical reports whether the source is a clinician (for sign-off rules).
func (s ReferralSource) Clinical() bool {
	return s == SourceGP || s == SourceNurse || s == SourceOtherClinician
}

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

// titleWords maps job titles (from the token) to a source. A title is
// matched whole first ("Physician associate" is a title of its own, not a
// kind of physician); otherwise the longest listed phrase found in it as
// whole words decides ("Senior practice nurse" is a nurse, "Practice
// manager" a practice manager, not a manager of some other kind).
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
// practice is another agency (intake refuses such a requester, see
// Referral.CheckRequester, so only referrals accepted before say so).
func SourceOf(title, requester, practice string) ReferralSource {
	switch {
	case strings.HasPrefix(requester, "Patient") || strings.HasPrefix(requester, "RelatedPerson"):
		return SourceSelf
	case strings.HasPrefix(requester, "Organization") && !strings.HasSuffix(requester, "|"+practice):
		return SourceOtherAgency
	}
	t := normaliseTitle(title)
	if t == "" {
		return SourceUnknown
	}
	for _, tw := range titleWords {
		for _, w := range tw.words {
			if t == w {
				return tw.source
			}
		}
	}
	best, source := 0, SourceOtherStaff
	for _, tw := range titleWords {
		for _, w := range tw.words {
			if len(w) > best && containsWords(t, w) {
				best, source = len(w), tw.source
			}
		}
	}
	return source
}

// normaliseTitle lowercases a job title and reduces it to words separated
// by single spaces (punctuation such as "GP (partner)" or "care-navigator"
// separates words too).
func normaliseTitle(title string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(title), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 0x7f)
	}), " ")
}

// containsWords reports whether the phrase occurs in the normalised title
// as whole words.
func containsWords(title, phrase string) bool {
	return strings.Contains(" "+title+" ", " "+phrase+" ")
}

// Clinical reports whether the source is a clinician (for sign-off rules).
func (s ReferralSource) Clinical() bool {
	return s == SourceGP || s == SourceNurse || s == SourceOtherClinician
}

package consent

import "github.com/social-prescribing/referral-adapter/adapter"

// Sensitive is a category of information withheld unless a provision
// explicitly permits it.
type Sensitive string

// Sensitive categories (issue 4).
const (
	MentalHealth  Sensitive = "mental health"
	SubstanceUse  Sensitive = "substance use"
	DomesticAbuse Sensitive = "domestic abuse"
	Safeguarding  Sensitive = "safeguarding"
	ChildWelfare  Sensitive = "child welfare"
	HIV           Sensitive = "HIV/AIDS"
	SexualHealth  Sensitive = "sexual health"
	// Restricted and VeryRestricted are the HL7 v3 confidentiality codes R
	// and V: information its author marked for a narrower circle than normal
	// care.
	Restricted     Sensitive = "restricted (confidentiality R)"
	VeryRestricted Sensitive = "very restricted (confidentiality V)"
)

// SystemConfidentiality is HL7 v3 Confidentiality, the vocabulary of
// meta.security confidentiality labels.
const SystemConfidentiality = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"

// SystemSensitivity is the adapter's code system for the sensitive
// categories HL7 v3 has no code for.
const SystemSensitivity = "https://social-prescribing.github.io/referral-adapter/CodeSystem/information-sensitivity"

// sensitiveCodes says which codes put information in a sensitive category,
// as a security label or as one of its codes or categories. They are the
// HL7 v3 ActCode information sensitivity policy codes (the standard's
// vocabulary for Consent.provision.securityLabel and meta.security) where
// one exists. HL7 v3 has no code for safeguarding or child welfare (SDV
// covers abuse and domestic violence), so the adapter publishes two in its
// own code system, beside its business status codes.
var sensitiveCodes = map[adapter.Coding]Sensitive{
	{System: SystemActCode, Code: "MH"}:                MentalHealth,  // mental health information sensitivity
	{System: SystemActCode, Code: "PSY"}:               MentalHealth,  // psychiatry disorder information sensitivity
	{System: SystemActCode, Code: "PSYTHPN"}:           MentalHealth,  // psychotherapy note information sensitivity
	{System: SystemActCode, Code: "BH"}:                MentalHealth,  // behavioral health information sensitivity
	{System: SystemActCode, Code: "EMOTDIS"}:           MentalHealth,  // emotional disturbance information sensitivity
	{System: SystemActCode, Code: "ETH"}:               SubstanceUse,  // substance abuse information sensitivity
	{System: SystemActCode, Code: "SUD"}:               SubstanceUse,  // substance use disorder information sensitivity
	{System: SystemActCode, Code: "ETHUD"}:             SubstanceUse,  // alcohol use disorder information sensitivity
	{System: SystemActCode, Code: "OPIOIDUD"}:          SubstanceUse,  // opioid use disorder information sensitivity
	{System: SystemActCode, Code: "SDV"}:               DomesticAbuse, // sexual assault, abuse, or domestic violence information sensitivity
	{System: SystemActCode, Code: "HIV"}:               HIV,           // HIV/AIDS information sensitivity
	{System: SystemActCode, Code: "STD"}:               SexualHealth,  // sexually transmitted disease information sensitivity
	{System: SystemActCode, Code: "SEX"}:               SexualHealth,  // sexuality and reproductive health information sensitivity
	{System: SystemConfidentiality, Code: "R"}:         Restricted,
	{System: SystemConfidentiality, Code: "V"}:         VeryRestricted,
	{System: SystemSensitivity, Code: "safeguarding"}:  Safeguarding,
	{System: SystemSensitivity, Code: "child-welfare"}: ChildWelfare,
}

// SensitiveCoding returns the category of a code, if it is a sensitive one.
func SensitiveCoding(c adapter.Coding) (Sensitive, bool) {
	s, ok := sensitiveCodes[adapter.Coding{System: c.System, Code: c.Code}]
	return s, ok
}

// sensitivity lists the sensitive categories the request's information is
// in, in a stable order.
func (r *Request) sensitivity() []Sensitive {
	var out []Sensitive
	seen := map[Sensitive]bool{}
	for _, list := range [][]adapter.Coding{r.SecurityLabels, r.Codes, r.Classes} {
		for _, c := range list {
			if s, ok := SensitiveCoding(c); ok && !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}

// names reports whether the provision explicitly names the category among
// its security labels, codes or classes.
func (p *Provision) names(s Sensitive) bool {
	for _, list := range [][]adapter.Coding{p.SecurityLabels, p.Codes, p.Classes} {
		for _, c := range list {
			if got, ok := SensitiveCoding(c); ok && got == s {
				return true
			}
		}
	}
	return false
}

// Package consent decides whether a patient's recorded consent permits a
// use or disclosure of their information. It is pure domain code over FHIR
// R4 Consent reduced to plain values (the fhir package does the reducing):
// no I/O, no FHIR library, no clock of its own.
//
// The rules, from issue 4:
//
//   - Only Consents with status active, for the request's patient, with
//     scope patient-privacy and with one of the request's consent
//     categories (when it names any) are considered.
//   - The root provision's type is the base policy, and its criteria scope
//     the Consent: outside its period (the Consent's validity), or for a
//     request it does not otherwise match, the Consent says nothing.
//   - A root provision that states no type (as R4 intends, and several of
//     the standard's examples do) is what R4 defines Consent.provision to
//     be: an exception to the base policy given by Consent.policyRule
//     (OPTIN/OPTINR permit, OPTOUT/OPTOUTE deny). It decides the requests
//     it matches, with the opposite type; the base decides the rest
//     (ProvisionPath "policyRule"). A Consent with neither a typed root
//     nor a readable policyRule is ignored.
//   - Nested provisions are exceptions of the opposite type to their parent
//     (a nested provision that states its type keeps it), and may have
//     exceptions of their own. A matching exception overrides its parent;
//     among several matching siblings a deny wins.
//   - A provision matches when every criterion it populates matches: period,
//     actor (role and reference), action, purpose, class, code,
//     securityLabel, data (meaning and reference) and dataPeriod.
//   - Of several applicable Consents the one with the latest dateTime
//     decides (a deny, or a withholding, wins a tie). No applicable
//     Consent: deny.
//   - Information in a sensitive category (mental health, substance use,
//     domestic abuse, safeguarding, child welfare; see sensitive.go) is
//     withheld unless a permitting provision on the deciding path names that
//     category explicitly, however broad the consent.
//
// The engine never permits on the strength of something the request did
// not state: a request attribute that is unknown (no actor, action,
// purpose, data reference or data time) never matches a permitting
// criterion and always matches a denying one.
package consent

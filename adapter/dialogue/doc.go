// Package dialogue is the two-way dialogue on a referral and safeguarding
// escalation (issue 9).
//
// A message is a FHIR Communication basedOn the referral's ServiceRequest
// and partOf one of its Tasks: the referral's own (the link workers, or the
// service it was routed to) or an onward referral's (the VCSE provider).
// Only the referring practice and whoever holds that Task may write or read
// it; anyone else is told it does not exist. A holder's message to the
// practice states the patient's approval of sharing it, and reaches the
// practice only when approved and permitted by consent, exactly as outcomes
// do; practice messages always reach the holder.
//
// A safeguarding concern is a FHIR Flag raised by a holder. It reaches the
// practice at once whatever the outcome-sharing consent says, because its
// lawful basis is the safeguarding duty; that basis is recorded in the
// audit trail with each one.
package dialogue

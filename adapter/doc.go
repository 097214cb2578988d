// Package adapter holds the domain of the social prescribing referral
// adapter: referrals, the Tasks that track them, the services they are routed
// to, and the errors the rest of the system speaks. It imports no external
// dependency; FHIR, Redis and HTTP live in subpackages around it.
package adapter

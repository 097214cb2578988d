// Package capacity is the application service for the live capacity of the
// service directory: it seeds each service's capacity from the mappings,
// lets providers update it, re-routes the referrals waiting at a service
// that closes, moves waitlisted referrals into a service's queue when it has
// room, and says what each service's capacity means in the HL7 Gravity SDOH
// Clinical Care capacity status codes.
package capacity

// Package disclosure decides, for each outcome of a referral (an
// Observation, Procedure or Goal), whether it goes back to the referring
// practice: only when the patient approved sharing it and their consent
// permits disclosing it to that practice (issue 4). Every decision is
// recorded in the audit trail: what, to whom, permit or deny, and which
// consent and provision decided.
package disclosure

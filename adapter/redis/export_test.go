package redis

import "github.com/social-prescribing/referral-adapter/adapter"

// Key names for the external tests of this package, from keys.go.

func TaskEventsKeyOf(s *Store) string                      { return s.k.taskEvents() }
func ThreadKeyOf(s *Store, referral string) string         { return s.k.thread(referral) }
func FlagsKeyOf(s *Store, referral string) string          { return s.k.referralFlags(referral) }
func ConsentKeyOf(s *Store, id string) string              { return s.k.consent(id) }
func PatientConsentsKeyOf(s *Store, patient string) string { return s.k.patientConsents(patient) }
func IdempotencyKeyOf(s *Store) string                     { return s.k.idempotency() }
func IdemFieldOf(practice, kind string, id adapter.Identifier) string {
	return idemField(practice, kind, id.String())
}
func ReferralsByIdentifierKeyOf(s *Store) string               { return s.k.referralsByIdentifier() }
func ReferralIdentifierSetKeyOf(s *Store, value string) string { return s.k.referralIdentifier(value) }

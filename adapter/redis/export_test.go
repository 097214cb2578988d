package redis

// Key names for the external tests of this package, from keys.go.

func TaskEventsKeyOf(s *Store) string              { return s.k.taskEvents() }
func ThreadKeyOf(s *Store, referral string) string { return s.k.thread(referral) }
func FlagsKeyOf(s *Store, referral string) string  { return s.k.referralFlags(referral) }

package intake

// ReferralStats is referralStats, for the tests of package intake_test.
var ReferralStats = referralStats

package redis

import (
	_ "embed"

	goredis "github.com/redis/go-redis/v9"
)

// Lua scripts. Each runs atomically on the server; go-redis sends EVALSHA
// and falls back to EVAL when the script is not cached.
var (
	// audit_lib.lua: audit_add, prepended to every script that writes a
	// request's audit record with its change (audit.go).
	//go:embed lua/audit_lib.lua
	auditLib string

	//go:embed lua/intake.lua
	intakeLua    string
	intakeScript = withCapacity(auditLib + "\n" + intakeLua)

	//go:embed lua/patient_consents.lua
	patientConsentsLua    string
	patientConsentsScript = goredis.NewScript(patientConsentsLua)

	// Patients and contact attempts (issue 19).
	//go:embed lua/patient_of.lua
	patientOfLua    string
	patientOfScript = goredis.NewScript(patientOfLua)
	//go:embed lua/contact_add.lua
	contactAddLua    string
	contactAddScript = goredis.NewScript(auditLib + "\n" + contactAddLua)
)

// Capacity scripts (issue 3). capacity.lua is a library of local functions
// (reserve, release, place) prepended to each script that uses it.
var (
	//go:embed lua/capacity.lua
	capacityLua string
	//go:embed lua/promote.lua
	promoteLua string
	//go:embed lua/reroute.lua
	rerouteLua string
	//go:embed lua/release_slot.lua
	releaseSlotLua string
	//go:embed lua/seed.lua
	seedLua string

	promoteScript     = withCapacity(promoteLua)
	rerouteScript     = withCapacity(rerouteLua)
	releaseSlotScript = withCapacity(releaseSlotLua)
	seedScript        = goredis.NewScript(seedLua)
)

// withCapacity builds a script that can call capacity.lua's functions,
// with the words of placement reasons as Lua constants ahead of them:
// they are fixed while the process runs, so they travel once, in the
// script, instead of with every call.
func withCapacity(src string) *goredis.Script {
	return goredis.NewScript(reasonConstants() + capacityLua + "\n" + src)
}

// Queue and lifecycle scripts (issue 10).
var (
	//go:embed lua/lease_lib.lua
	leaseLib string
	//go:embed lua/claim.lua
	claimLua string
	//go:embed lua/sweep.lua
	sweepLua string
	//go:embed lua/renew.lua
	renewLua string
	//go:embed lua/transition.lua
	transitionLua string
	//go:embed lua/unclaim.lua
	unclaimLua string

	claimScript      = goredis.NewScript(auditLib + "\n" + leaseLib + "\n" + claimLua)
	unclaimScript    = goredis.NewScript(auditLib + "\n" + unclaimLua)
	sweepScript      = goredis.NewScript(leaseLib + "\n" + sweepLua)
	renewScript      = goredis.NewScript(auditLib + "\n" + renewLua)
	transitionScript = withCapacity(auditLib + "\n" + transitionLua)
)

// Notification scripts (issue 6).
var (
	//go:embed lua/fanout.lua
	fanoutLua    string
	fanoutScript = goredis.NewScript(fanoutLua)
	//go:embed lua/notify_claim.lua
	notifyClaimLua    string
	notifyClaimScript = goredis.NewScript(notifyClaimLua)
	//go:embed lua/settle.lua
	settleLua    string
	settleScript = goredis.NewScript(settleLua)
)

// Consent scripts (issue 4).
var (
	//go:embed lua/consent_hold.lua
	consentHoldLua    string
	consentHoldScript = withCapacity(consentHoldLua)
)

// Dialogue and safeguarding scripts (issue 9).
var (
	//go:embed lua/dialogue_save.lua
	dialogueSaveLua    string
	dialogueSaveScript = goredis.NewScript(auditLib + "\n" + dialogueSaveLua)
)

// Outcome scripts (issue 20).
var (
	//go:embed lua/outcome_save.lua
	outcomeSaveLua    string
	outcomeSaveScript = goredis.NewScript(auditLib + "\n" + outcomeSaveLua)
)

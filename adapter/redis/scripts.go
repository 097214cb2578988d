package redis

import (
	_ "embed"

	goredis "github.com/redis/go-redis/v9"
)

// Lua scripts. Each runs atomically on the server; go-redis sends EVALSHA
// and falls back to EVAL when the script is not cached. A script is named
// after the Go method that runs it (update_task.lua: UpdateTask); a file
// ending _lib.lua, and capacity.lua, is a library of local functions
// prepended to the scripts that call them.
var (
	// audit_lib.lua: audit_add, prepended to every script that writes a
	// request's audit record with its change (audit.go).
	//go:embed lua/audit_lib.lua
	auditLib string
	// stats_lib.lua: add_incs, prepended to every script that counts
	// report counters with its change.
	//go:embed lua/stats_lib.lua
	statsLib string

	// intake_stats_lib.lua: count_intake_stats, a new referral's report
	// counters once it is placed (intake, and a release from a hold).
	//go:embed lua/intake_stats_lib.lua
	intakeStatsLib string

	//go:embed lua/intake.lua
	intakeLua    string
	intakeScript = withCapacity(auditLib + "\n" + intakeStatsLib + "\n" + taskWriteLib + "\n" + patientAliasLib + "\n" + intakeLua)

	// patient_alias_lib.lua: patient_alias and patient_set_union, the
	// two references a practice's patient goes by, for every read of a
	// patient's Consents or referrals.
	//go:embed lua/patient_alias_lib.lua
	patientAliasLib string
	//go:embed lua/patient_consents.lua
	patientConsentsLua    string
	patientConsentsScript = goredis.NewScript(patientAliasLib + "\n" + patientConsentsLua)
	//go:embed lua/patient_referrals.lua
	patientReferralsLua    string
	patientReferralsScript = goredis.NewScript(patientAliasLib + "\n" + patientReferralsLua)

	// Patients and contact attempts (issue 19).
	//go:embed lua/patient_of.lua
	patientOfLua    string
	patientOfScript = goredis.NewScript(patientOfLua)
	//go:embed lua/add_contact_attempt.lua
	addContactAttemptLua    string
	addContactAttemptScript = goredis.NewScript(auditLib + "\n" + statsLib + "\n" + addContactAttemptLua)
	//go:embed lua/replace_patient.lua
	replacePatientLua    string
	replacePatientScript = goredis.NewScript(auditLib + "\n" + taskWriteLib + "\n" + replacePatientLua)
)

// Capacity scripts (issue 3). capacity.lua is a library of local functions
// (reserve, release, place) prepended to each script that uses it.
var (
	//go:embed lua/capacity.lua
	capacityLua string
	//go:embed lua/promote_waitlist.lua
	promoteWaitlistLua string
	//go:embed lua/reroute.lua
	rerouteLua string
	//go:embed lua/release_slot.lua
	releaseSlotLua string
	//go:embed lua/seed_capacity.lua
	seedCapacityLua string

	promoteWaitlistScript = withCapacity(promoteWaitlistLua)
	rerouteScript         = withCapacity(rerouteLua)
	releaseSlotScript     = withCapacity(releaseSlotLua)
	seedCapacityScript    = goredis.NewScript(seedCapacityLua)
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
	//go:embed lua/sweep_leases.lua
	sweepLeasesLua string
	//go:embed lua/renew.lua
	renewLua string
	//go:embed lua/update_task.lua
	updateTaskLua string
	//go:embed lua/unclaim.lua
	unclaimLua string
	// task_write_lib.lua: task_write_ok and task_write, a Task change
	// written with another (queue.go taskWriteJSON).
	//go:embed lua/task_write_lib.lua
	taskWriteLib string

	claimScript       = goredis.NewScript(auditLib + "\n" + leaseLib + "\n" + claimLua)
	unclaimScript     = goredis.NewScript(auditLib + "\n" + unclaimLua)
	sweepLeasesScript = goredis.NewScript(leaseLib + "\n" + sweepLeasesLua)
	renewScript       = goredis.NewScript(auditLib + "\n" + renewLua)
	updateTaskScript  = withCapacity(auditLib + "\n" + statsLib + "\n" + taskWriteLib + "\n" + updateTaskLua)
)

// Notification scripts (issue 6).
var (
	//go:embed lua/fan_out.lua
	fanOutLua    string
	fanOutScript = goredis.NewScript(fanOutLua)
	//go:embed lua/claim_due.lua
	claimDueLua    string
	claimDueScript = goredis.NewScript(claimDueLua)
	//go:embed lua/settle.lua
	settleLua    string
	settleScript = goredis.NewScript(settleLua)
)

// Consent scripts (issue 4).
var (
	//go:embed lua/apply_consent_moves.lua
	applyConsentMovesLua    string
	applyConsentMovesScript = withCapacity(auditLib + "\n" + intakeStatsLib + "\n" + applyConsentMovesLua)
)

// Dialogue and safeguarding scripts (issue 9).
var (
	//go:embed lua/save_dialogue.lua
	saveDialogueLua    string
	saveDialogueScript = goredis.NewScript(auditLib + "\n" + statsLib + "\n" + saveDialogueLua)
)

// Outcome scripts (issue 20).
var (
	//go:embed lua/save_outcome.lua
	saveOutcomeLua    string
	saveOutcomeScript = goredis.NewScript(auditLib + "\n" + taskWriteLib + "\n" + saveOutcomeLua)
)

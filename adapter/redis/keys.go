package redis

import (
	"encoding/json"
	"strconv"
)

// keys builds every Redis key the store uses. All keys carry the hash tag
// {ns}, so all of a deployment's keys live in one Cluster hash slot and
// multi-key scripts stay atomic. No other file builds key names.
type keys struct {
	p string // "sp:{ns}:"
}

func newKeys(ns string) keys { return keys{p: "sp:{" + ns + "}:"} }

// ServiceRequest JSON (stamped with id and meta), compressed with a
// dictionary (codec.go: S2, or zstd as written before S2 and beyond 64 KiB);
// values written before compression are plain JSON.
func (k keys) serviceRequest(id string) string { return k.p + "sr:" + id }

// String written by the readiness probe (Store.Writable), to learn that
// Redis takes writes; it expires after a minute.
func (k keys) readiness() string { return k.p + "ready" }

// Consent hash: json (compressed with a dictionary as ServiceRequests are,
// codec.go; plain JSON when written before compression), practice, patient, ident (the
// identifier of its idempotency entry, for the retention purge).
func (k keys) consent(id string) string { return k.consentPrefix() + id }

// Prefix of the Consent hash keys (patient_consents.lua appends the id).
func (k keys) consentPrefix() string { return k.p + "consent:" }

// Patient hash (from transaction bundles and POST /fhir/Patient): json,
// practice.
func (k keys) patient(id string) string { return k.p + "patient:" + id }

// Task hash (see taskcodec.go for its fields).
func (k keys) task(id string) string { return k.p + "task:" + id }

// The ServiceRequests with a business identifier value, whatever its
// system and practice: for searches by identifier, with or without a system
// (issue 18), each caller shown only those it may see. The first referral
// with a value is in one hash for all of them (value → id), which costs far
// less memory than a key per value; any further one with the same value is
// in that value's set, as every referral was before the hash.
func (k keys) referralsByIdentifier() string { return k.p + "sridents" }

// Set of the ids of further ServiceRequests with a business identifier
// value (see referralsByIdentifier), and of all of them written before it.
func (k keys) referralIdentifier(value string) string { return k.p + "srident:" + value }

// Set of child Task ids whose focus is the ServiceRequest id (onward
// referrals). The referral's own Task has the ServiceRequest's id.
func (k keys) referralTasks(srID string) string { return k.p + "srtasks:" + srID }

// Hash: practice ODS code, resource type and identifier system|value
// (see idemField) → the id of the resource first created with it.
func (k keys) idempotency() string { return k.p + "idem" }

// Sorted set of Task ids waiting in a service's queue, scored by priority
// rank then due time (see queueScore).
func (k keys) queue(service string) string { return k.p + "q:" + service }

// Set of Consent ids per patient reference.
func (k keys) patientConsents(patient string) string { return k.p + "pconsents:" + patient }

// Lock of a scheduled job (value: the holder's fencing token).
func (k keys) lock(job string) string { return k.p + "lock:" + job }

// Fencing-token counter of a scheduled job's lock.
func (k keys) fence(job string) string { return k.p + "fence:" + job }

// Capacity (issue 3).

// Hash of one service's live capacity: status (open|waitlist|paused|closed),
// max (caseload limit, 0 = unlimited), reserved (referrals holding a slot),
// verified (unix ms of the last confirmation), weekly (weekly intake, 0 =
// not stated). See capacity.go.
func (k keys) capacity(service string) string { return k.p + "cap:" + service }

// Sorted set of Task ids on a service's waitlist, scored by the unix ms at
// which each joined (one more than the last when several join in the same
// millisecond, so the order is arrival order).
func (k keys) waitlist(service string) string { return k.p + "wl:" + service }

// Stream of every capacity change: service, fields set, who and when.
func (k keys) capacityLog() string { return k.p + "caplog" }

// idemField is the field of the idempotency hash for one identifier.
func idemField(practice, kind, identifier string) string {
	return practice + "\x1f" + kind + "\x1f" + identifier
}

// KeyPattern matches every key of the store's namespace (for tests and
// operators; never used on the request path).
func (s *Store) KeyPattern() string { return s.k.p + "*" }

// Seen client-assertion id (SMART token endpoint replay guard).
func (k keys) assertion(id string) string { return k.p + "jti:" + id }

// Append-only audit stream (AuditRecord fields; trimmed only by retention).
func (k keys) audit() string { return k.p + "audit" }

// Per-client request counter for one rate-limit window.
func (k keys) rateLimit(subject string, window int64) string {
	return k.p + "rl:" + subject + ":" + strconv.FormatInt(window, 10)
}

// Sorted set of a service's claimed Task ids, scored by lease expiry (ms).
func (k keys) leases(service string) string { return k.p + "ls:" + service }

// List of a Task's history entries (JSON adapter.HistoryEntry), oldest first.
func (k keys) history(task string) string { return k.p + "hist:" + task }

// A closure summary owed to the practice (adapter.ClosureDue as JSON),
// from the ending of its referral until the summary is on the thread.
func (k keys) closureDue(task string) string { return k.p + "cdue:" + task }

// Sorted set of the Task ids that owe a closure summary, scored by when
// each referral ended (unix ms), for the closure-summary job.
func (k keys) closuresDue() string { return k.p + "cdues" }

// Outcome hash: json, task, type, approved (see outcomes.go).
func (k keys) outcome(id string) string { return k.p + "out:" + id }

// List of a Task's contact attempts (JSON adapter.ContactAttempt), oldest
// first (issue 19).
func (k keys) contactAttempts(task string) string { return k.p + "contacts:" + task }

// Set of outcome ids recorded on a Task.
func (k keys) taskOutcomes(task string) string { return k.p + "outs:" + task }

// Sorted set of every Task id scored by its last change (unix ms), for
// polling with _lastUpdated and for retention.
func (k keys) taskIndex() string { return k.p + "tmod" }

// Sorted set of every Task id scored by when it was created (unix ms): the
// stable order searches page through (issue 18).
func (k keys) taskCreated() string { return k.p + "tcreated" }

// Consent (issue 4).

// Set of the referral Task ids (the ServiceRequest ids) a practice sent for
// one patient reference: the referrals that patient's consents govern.
func (k keys) patientReferrals(practice, patient string) string {
	return k.p + "preferrals:" + practice + ":" + patient
}

// patientAliasArgs are patient_alias_lib.lua's arguments for a practice:
// where its Patients and their identifiers are, to find the other
// reference a patient goes by.
func (k keys) patientAliasArgs(practice string) string {
	b, _ := json.Marshal(map[string]string{"practice": practice, "pprefix": k.patient(""), "idem": k.idempotency()})
	return string(b)
}

// Sorted set of the Task ids waiting for consent, scored by when each
// began waiting (unix ms), for cancelling holds that waited too long.
func (k keys) consentHolds() string { return k.p + "cholds" }

// Sorted set of the Task ids waiting for a clinician's sign-off (issue
// 11), scored by when each began waiting (unix ms), for cancelling holds
// that waited too long.
func (k keys) signOffHolds() string { return k.p + "soholds" }

// Hash of one day's report counters (adapter.StatKey fields), Europe/London.
func (k keys) stats(day string) string { return k.p + "stats:" + day }

// Hash of one day's counters for one practice (metric fields only).
func (k keys) practiceStats(day, practice string) string {
	return k.p + "pstats:" + day + ":" + practice
}

// Hash: adapter.ActiveKey (practice|patient|need) → the active referral's
// Task id, for the duplicate check; removed when the Task ends.
func (k keys) activeReferrals() string { return k.p + "active" }

// --- EHR notifications (Subscriptions, issue 6) ---

// Subscription hash (see subscription.go for its fields).
func (k keys) subscription(id string) string { return k.p + "sub:" + id }

// Set of the Subscription ids of one practice.
func (k keys) practiceSubscriptions(practice string) string { return k.p + "psubs:" + practice }

// Stream of notification triggers: Task change events and Subscription
// handshakes (fields in notify.go). Read by the consumer group
// notifyGroup; trimmed to about maxTaskEvents entries.
func (k keys) taskEvents() string { return k.p + "taskev" }

// Hash: delivery id → delivery JSON, for every delivery not yet delivered
// or dead-lettered.
func (k keys) deliveries() string { return k.p + "ndeliv" }

// Sorted set of delivery ids scored by when each may next be attempted
// (unix ms): a retry's due time, or the end of a dispatcher's claim.
func (k keys) deliveryDue() string { return k.p + "ndue" }

// List of dead letters (JSON, newest first), trimmed to maxDeadLetters.
func (k keys) deadLetters() string { return k.p + "ndead" }

// --- Dialogue and safeguarding (issue 9) ---

// Message hash: json (the Communication), ref, task, prac, dir, org, role,
// by, ok, irt, at, meta (see dialogue.go).
func (k keys) message(id string) string { return k.p + "msg:" + id }

// Sorted set of a referral's message ids scored by when each was stored
// (unix ms): the thread, oldest first.
func (k keys) thread(referral string) string { return k.p + "thread:" + referral }

// Safeguarding Flag hash: json (the Flag), ref, task, prac, org, role, by,
// at (see dialogue.go).
func (k keys) flag(id string) string { return k.p + "flag:" + id }

// Sorted set of a referral's safeguarding Flag ids scored by when each was
// raised (unix ms).
func (k keys) referralFlags(referral string) string { return k.p + "srflags:" + referral }

// --- Wellbeing change (issue 20) ---

// Hash of a referral's wellbeing scores: per measure, its first and latest
// score by the Observation's own date (see lua/save_outcome.lua). Personal
// data: purged with the referral.
func (k keys) wellbeingPairs(referral string) string { return k.p + "wbpair:" + referral }

// Hash of one day's (YYYY-MM-DD) or month's (YYYY-MM) dated counters
// (adapter.StatKey fields): counters kept on the day an event is dated,
// which may be long past (a wellbeing pair on the day of its latest
// score), so unlike stats they are never kept in memory once settled.
func (k keys) datedStats(bucket string) string { return k.p + "dstats:" + bucket }

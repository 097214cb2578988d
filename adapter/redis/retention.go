package redis

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/tidwall/gjson"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// purgeScript removes a closed referral's personal data, if the Task is
// still ended and unchanged since it was chosen: the ServiceRequest, the
// history, the outcomes, the messages and safeguarding Flags (issue 9), the
// referral's wellbeing scores (issue 20), the contact attempts and any
// closure summary still owed (issue 19), the idempotency entry, the entry that finds it by its identifier's value
// (its field of the by-value hash while it names it, and its member of the
// value's set), the same for each further identifier (ARGV[10..], three
// each: its idempotency field, its value, its value's set; each field
// removed only while it names the referral), and every personal field (then purgePatientScript
// the patient's index and Consents at the practice, once none is left)
// of the Task. What stays is an anonymous stub (status, owner, need, area,
// dates) so the Task id still answers, and the report counters, which hold
// no personal data.
var purgeScript = goredis.NewScript(auditLib + `
local key = KEYS[1]
local st, mod = unpack(redis.call('HMGET', key, 'st', 'mod'))
if mod ~= ARGV[1] then return 0 end
audit_add(audit_arg(ARGV[8]))
redis.call('DEL', KEYS[2], KEYS[3], KEYS[5], KEYS[12], KEYS[13], KEYS[15])
local outs = redis.call('SMEMBERS', KEYS[4])
for _, id in ipairs(outs) do redis.call('DEL', ARGV[3] .. id) end
redis.call('DEL', KEYS[4])
for i, idx in ipairs({KEYS[8], KEYS[9]}) do
  local prefix = (i == 1) and ARGV[6] or ARGV[7]
  for _, id in ipairs(redis.call('ZRANGE', idx, 0, -1)) do redis.call('DEL', prefix .. id) end
  redis.call('DEL', idx)
end
if ARGV[2] ~= '' then redis.call('HDEL', KEYS[6], ARGV[2]) end
redis.call('HDEL', key, 'pat', 'req', 'rsn', 'clm', 'clmn', 'clmt', 'lclm', 'rte', 'prac')
redis.call('HSET', key, 'purged', ARGV[4])
redis.call('ZREM', KEYS[7], ARGV[5])
redis.call('ZREM', KEYS[10], ARGV[5])
redis.call('SREM', KEYS[11], ARGV[5])
redis.call('ZREM', KEYS[16], ARGV[5])
if ARGV[9] ~= '' and redis.call('HGET', KEYS[14], ARGV[9]) == ARGV[5] then redis.call('HDEL', KEYS[14], ARGV[9]) end
for i = 10, #ARGV, 3 do
  if redis.call('HGET', KEYS[6], ARGV[i]) == ARGV[5] then redis.call('HDEL', KEYS[6], ARGV[i]) end
  if redis.call('HGET', KEYS[14], ARGV[i + 1]) == ARGV[5] then redis.call('HDEL', KEYS[14], ARGV[i + 1]) end
  redis.call('SREM', ARGV[i + 2], ARGV[5])
end
return 1`)

// purgePatientScript drops a purged referral from its patient's index at
// the practice and, when that was the practice's last referral for the
// patient, the index and the practice's Consents for the patient too, with
// their idempotency entries: the index key and the Consents name the
// patient, and no referral of the practice is left for them to govern.
// Consents other practices sent for the patient stay. A Consent's entry is
// found as intake made it (idemField; ARGV[6] is its prefix), with the
// identifiers intake stored in its ident field (ARGV[7]; "" when it has
// none; several separated by identSep, U+001F) and removed only while it
// still names that Consent. Its json is
// compressed, which Lua cannot read; a Consent stored before the ident
// field has its JSON plain, and the identifier is read from it as
// fhir.ConsentSummaryFrom reads it: the first with both system and value.
var purgePatientScript = goredis.NewScript(`
redis.call('SREM', KEYS[1], ARGV[1])
if redis.call('SCARD', KEYS[1]) > 0 then return 0 end
redis.call('DEL', KEYS[1])
local function idem_field_of_json(body)
  local ok, c = pcall(cjson.decode, body or '')
  if not ok or type(c) ~= 'table' or type(c.identifier) ~= 'table' then return nil end
  for _, id in ipairs(c.identifier) do
    if type(id) == 'table' and type(id.system) == 'string' and id.system ~= '' and type(id.value) == 'string' and id.value ~= '' then
      return ARGV[6] .. id.system .. '|' .. id.value
    end
  end
  return nil
end
local n = 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local ck = ARGV[2] .. id
  local v = redis.call('HMGET', ck, ARGV[3], ARGV[7])
  if v[1] == ARGV[4] then
    local fs = {}
    if v[2] then
      for ident in string.gmatch(v[2], '[^\031]+') do fs[#fs + 1] = ARGV[6] .. ident end
    else
      fs[1] = idem_field_of_json(redis.call('HGET', ck, ARGV[5]))
    end
    for _, f in ipairs(fs) do
      if redis.call('HGET', KEYS[3], f) == id then redis.call('HDEL', KEYS[3], f) end
    end
    redis.call('DEL', ck)
    redis.call('SREM', KEYS[2], id)
    n = n + 1
  end
end
if redis.call('SCARD', KEYS[2]) == 0 then redis.call('DEL', KEYS[2]) end
return n`)

// PurgeClosed removes the personal data of referrals whose Task ended
// before cutoff, at most limit per call, and returns the purged Task ids.
func (s *RetentionStore) PurgeClosed(ctx context.Context, cutoff time.Time, limit int64, now time.Time) ([]string, error) {
	ids, err := s.c.ZRangeArgs(ctx, goredis.ZRangeArgs{Key: s.k.taskIndex(), Start: "-inf",
		Stop: strconv.FormatInt(cutoff.UnixMilli(), 10), ByScore: true, Count: limit}).Result()
	if err != nil {
		return nil, s.fail(err)
	}
	tasks, err := s.tasks(ctx, ids)
	if err != nil {
		return nil, err
	}
	var purged []string
	for _, t := range tasks {
		if !t.Status.Terminal() {
			continue
		}
		ok, err := s.purge(ctx, t, now)
		if err != nil {
			return purged, err
		}
		if ok {
			purged = append(purged, t.ID)
		}
	}
	return purged, nil
}

func (s *RetentionStore) purge(ctx context.Context, t *adapter.Task, now time.Time) (bool, error) {
	idem, value, byValue := "", "", s.k.referralIdentifier("~none~")
	var more []adapter.Identifier // its other identifiers, indexed as the first is
	if t.ID == t.ReferralID {     // the referral's own Task: its ServiceRequest goes too
		sr, err := s.referrals.ServiceRequest(ctx, t.ReferralID) // nil when already gone
		if err != nil && adapter.ErrorCode(err) != adapter.ENOTFOUND {
			return false, err
		}
		if ids := identifiersIn(gjson.GetBytes(sr, "identifier").Array()); len(ids) > 0 {
			idem = idemField(t.Practice, adapter.KindServiceRequest, ids[0].String())
			value = ids[0].Value
			byValue = s.k.referralIdentifier(value)
			more = ids[1:]
		}
	}
	srKey, thread, flags, scores := s.k.serviceRequest("~none~"), s.k.thread("~none~"), s.k.referralFlags("~none~"), s.k.wellbeingPairs("~none~")
	if t.ID == t.ReferralID { // the dialogue and the scores are the referral's: they go with the referral's own Task
		srKey, thread, flags, scores = s.k.serviceRequest(t.ReferralID), s.k.thread(t.ReferralID), s.k.referralFlags(t.ReferralID), s.k.wellbeingPairs(t.ReferralID)
	}
	slot, recs := everyStepAudit(ctx, http.StatusOK) // each purge's record, written before it deletes anything
	for i := range recs {
		recs[i].Entity = "Task/" + t.ID // as the script names it
	}
	args := []any{msString(t.LastModified), idem, s.k.outcome(""), now.UnixMilli(), t.ID, s.k.message(""), s.k.flag(""), s.auditArg(recs), value}
	for _, id := range more {
		args = append(args, idemField(t.Practice, adapter.KindServiceRequest, id.String()), id.Value, s.k.referralIdentifier(id.Value))
	}
	n, err := purgeScript.Run(ctx, s.c, []string{s.k.task(t.ID), srKey, s.k.history(t.ID), s.k.taskOutcomes(t.ID),
		s.k.referralTasks(t.ReferralID), s.k.idempotency(), s.k.taskIndex(), thread, flags, s.k.taskCreated(), byValue, scores,
		s.k.contactAttempts(t.ID), s.k.referralsByIdentifier(), s.k.closureDue(t.ID), s.k.closuresDue()}, args...).Int()
	if err != nil {
		return false, s.fail(err)
	}
	if n == 1 && slot != nil {
		slot.Wrote(recs...)
	}
	if n == 1 && t.ID == t.ReferralID && t.Patient != "" {
		err = purgePatientScript.Run(ctx, s.c, []string{s.k.patientReferrals(t.Practice, t.Patient), s.k.patientConsents(t.Patient), s.k.idempotency()},
			t.ID, s.k.consent(""), hPractice, t.Practice, hJSON, idemField(t.Practice, adapter.KindConsent, ""), hIdent).Err()
		if err != nil {
			return true, s.fail(err)
		}
		if err := s.purgePatient(ctx, t.Practice, t.Patient); err != nil {
			return true, err
		}
	}
	return n == 1, nil
}

// purgePatientResourceScript removes a Patient the practice sent (issue
// 19) once no referral of the practice names it any more, by either of
// the references a referral may name it by, with its idempotency entry.
//
// KEYS[1] the Patient hash   KEYS[2] the idempotency hash
// KEYS[3..] the practice's referral index of each reference to it
// ARGV[1] the practice   ARGV[2] the Patient's idempotency field ("" when none)
// ARGV[3] the Patient id
var purgePatientResourceScript = goredis.NewScript(`
for i = 3, #KEYS do
  if redis.call('SCARD', KEYS[i]) > 0 then return 0 end
end
if redis.call('HGET', KEYS[1], 'prac') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
if ARGV[2] ~= '' and redis.call('HGET', KEYS[2], ARGV[2]) == ARGV[3] then redis.call('HDEL', KEYS[2], ARGV[2]) end
return 1`)

// purgePatient removes the Patient that the patient reference ref names at
// the practice, when no referral of the practice names it any more.
func (s *RetentionStore) purgePatient(ctx context.Context, practice, ref string) error {
	id, body, err := s.patients.PatientOf(ctx, practice, ref)
	if adapter.ErrorCode(err) == adapter.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	keys := []string{s.k.patient(id), s.k.idempotency(), s.k.patientReferrals(practice, adapter.KindPatient+"/"+id)}
	field := ""
	if ident := patientIdentifier(body); !ident.IsZero() {
		field = idemField(practice, adapter.KindPatient, ident.String())
		keys = append(keys, s.k.patientReferrals(practice, adapter.KindPatient+"?identifier="+ident.String()))
	}
	if err := purgePatientResourceScript.Run(ctx, s.c, keys, practice, field, id).Err(); err != nil {
		return s.fail(err)
	}
	return nil
}

// patientIdentifier is the identifier a stored Patient was created under,
// as intake chose it (fhir.PatientIdentifier): its NHS number, else its
// first identifier with a system and value.
func patientIdentifier(body []byte) adapter.Identifier {
	ids := gjson.GetBytes(body, "identifier").Array()
	for _, id := range ids {
		if id.Get("system").String() == adapter.SystemNHSNumber && id.Get("value").String() != "" {
			return adapter.Identifier{System: adapter.SystemNHSNumber, Value: id.Get("value").String()}
		}
	}
	if all := identifiersIn(ids); len(all) > 0 {
		return all[0]
	}
	return adapter.Identifier{}
}

// identifiersIn are the identifiers with a system and a value, in order,
// each once: those intake indexed (fhir.allIdentifiers).
func identifiersIn(ids []gjson.Result) []adapter.Identifier {
	var out []adapter.Identifier
	for _, id := range ids {
		if sys, v := id.Get("system").String(), id.Get("value").String(); sys != "" && v != "" {
			if i := (adapter.Identifier{System: sys, Value: v}); !slices.Contains(out, i) {
				out = append(out, i)
			}
		}
	}
	return out
}

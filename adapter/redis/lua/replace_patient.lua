-- replace_patient.lua: a Patient's next version, with the request's audit
-- record and the change it tells each Task of its patient's live
-- referrals (its contact details changed), in one step.
--
-- ARGV[1] JSON: {"key": "<patient hash>", "field": "<json field>",
--          "pfield": "<practice field>", "practice": "<ODS code>",
--          "tell": [<task_write_lib.lua change>, ...],
--          "tmod", "events", "evmax" (notify.go taskLog),
--          "audit": <audit_lib.lua records> (optional)}
-- ARGV[2] the new version's JSON
-- ARGV[3] the stored JSON the caller read (and checked the version of)
--
-- Returns "moved" when the stored Patient is no longer the one read (or
-- not the practice's), "task" when a Task to tell is no longer at the
-- version read: nothing is written. Otherwise "ok". (audit_lib.lua and
-- task_write_lib.lua are prepended by scripts.go.)
local p = cjson.decode(ARGV[1])
local v = redis.call('HMGET', p.key, p.field, p.pfield)
if v[1] ~= ARGV[3] or v[2] ~= p.practice then return 'moved' end
for _, w in ipairs(p.tell) do
  if not task_write_ok(w) then return 'task' end
end
audit_add(p.audit)
redis.call('HSET', p.key, p.field, ARGV[2])
for _, w in ipairs(p.tell) do task_write(w, p.tmod, p.events, p.evmax) end
return 'ok'

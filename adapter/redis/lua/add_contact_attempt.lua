-- add_contact_attempt.lua: record one contact attempt on a Task (issue 19).
--
-- KEYS[1]  the Task's contact attempts (list of JSON, oldest first)
-- ARGV[1]  the attempt (JSON)   ARGV[2] most attempts per Task
-- ARGV[3]  "1" when the attempt reached the patient
-- ARGV[4]  the request's audit records (audit.go scriptAudit JSON; ""
--          for none), written with the attempt or not at all
-- ARGV[5]  the report counters (JSON [every, first, reached], each
--          [key, field, n, ...]): every attempt's, the Task's first
--          attempt's, its first successful one's, counted with it
--
-- Returns {n, first_reached}: the number of attempts now recorded, and 1
-- when this is the first attempt that reached the patient (0 otherwise),
-- so that the report counts each referral's first successful contact once;
-- {-1, 0} when the Task has ARGV[2] attempts already (nothing is written).
local n = redis.call('LLEN', KEYS[1])
if n >= tonumber(ARGV[2]) then return {-1, 0} end
audit_add(audit_arg(ARGV[4]))
local first = 0
if ARGV[3] == '1' then
  first = 1
  for _, v in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
    local ok, a = pcall(cjson.decode, v)
    if ok and type(a) == 'table' and a.result == 'reached' then first = 0 break end
  end
end
local total = redis.call('RPUSH', KEYS[1], ARGV[1])
local incs = cjson.decode(ARGV[5])
add_incs(incs[1])
if total == 1 then add_incs(incs[2]) end
if first == 1 then add_incs(incs[3]) end
return {total, first}

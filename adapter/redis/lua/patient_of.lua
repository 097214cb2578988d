-- patient_of.lua: the Patient a practice sent that a referral's patient
-- reference names (issue 19), in one round trip: by its id ("Patient/{id}"),
-- or by the identifier it was created under ("Patient?identifier=..."),
-- through the practice's idempotency entry.
--
-- KEYS[1]  the idempotency hash (keys.go idempotency)
-- ARGV[1]  the Patient hash key prefix (keys.go patient(""))
-- ARGV[2]  the Patient id, or ""
-- ARGV[3]  the idempotency field of the identifier (idemField), or ""
-- ARGV[4]  the practice ODS code
--
-- Returns {id, json}, or false when no Patient of that practice matches.
local id = ARGV[2]
if id == '' and ARGV[3] ~= '' then
  id = redis.call('HGET', KEYS[1], ARGV[3]) or ''
end
if id == '' then return false end
local v = redis.call('HMGET', ARGV[1] .. id, 'json', 'prac')
if not v[1] or v[1] == '' or v[2] ~= ARGV[4] then return false end
return {id, v[1]}

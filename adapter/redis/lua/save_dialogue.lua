-- save_dialogue.lua: store one dialogue record (a message or a safeguarding
-- Flag, issue 9), index it under its referral and, when the practice is to
-- be told, publish the referral's Task event on the notification stream, all
-- in one step: a stored record the practice may see is always announced.
--
-- KEYS[1] the record's hash   KEYS[2] the referral's index (sorted set)
-- KEYS[3] the notification stream (keys.go taskEvents)
-- ARGV[1] record id   ARGV[2] score (unix ms)   ARGV[3] most records per referral
-- ARGV[4] stream MAXLEN (approximate)
-- ARGV[5] the request's audit record, and any other the record is stored
--         with (a safeguarding disclosure's) (audit_lib.lua; "" for none)
-- ARGV[6] report counters (JSON [key, field, n, ...]), counted with it
-- ARGV[7] n, the number of hash arguments
-- ARGV[8 .. 7+n] hash fields and values
-- ARGV[8+n ..] the Task event's stream fields and values (none: no event)
-- Returns 1; 0 when the id already exists; -1 when the referral has
-- ARGV[3] records already (nothing is written).
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return -1 end
audit_add(audit_arg(ARGV[5]))
local n = tonumber(ARGV[7])
redis.call('HSET', KEYS[1], unpack(ARGV, 8, 7 + n))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
add_incs(cjson.decode(ARGV[6]))
if #ARGV > 7 + n then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', unpack(ARGV, 8 + n, #ARGV))
end
return 1

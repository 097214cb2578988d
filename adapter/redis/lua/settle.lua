-- settle.lua: record the outcome of one delivery attempt, only if the
-- caller still holds the delivery's claim.
--
-- KEYS[1]  the due sorted set
-- KEYS[2]  the deliveries hash
-- KEYS[3]  the dead-letter list
-- ARGV[1]  delivery id
-- ARGV[2]  the caller's claim token
-- ARGV[3]  "done" | "retry" | "dead"
-- ARGV[4]  retry: the updated record; dead: the dead letter
-- ARGV[5]  retry: when it is due (unix ms)
-- ARGV[6]  dead: how many dead letters to keep
--
-- Returns 1 when settled, 0 when the claim was lost (someone else now
-- holds the delivery, or it is gone).
local raw = redis.call('HGET', KEYS[2], ARGV[1])
if not raw or cjson.decode(raw).claim ~= ARGV[2] then return 0 end
if ARGV[3] == 'retry' then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
  redis.call('ZADD', KEYS[1], ARGV[5], ARGV[1])
  return 1
end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
if ARGV[3] == 'dead' then
  redis.call('LPUSH', KEYS[3], ARGV[4])
  redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[6]) - 1)
end
return 1

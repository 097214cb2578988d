-- fan_out.lua: turn one notification trigger into deliveries, atomically
-- with acknowledging it, so a trigger is fanned out exactly once.
--
-- KEYS[1]     the trigger stream
-- KEYS[2]     the deliveries hash (delivery id -> JSON)
-- KEYS[3]     the due sorted set (delivery id -> unix ms)
-- KEYS[3+i]   the Subscription hash of item i
-- ARGV[1]     consumer group
-- ARGV[2]     stream entry id
-- ARGV[3]     due score for the new deliveries (the fanning-out
--             dispatcher's claim ends then; a retry run picks them up
--             if it dies before attempting them)
-- ARGV[4]     JSON array of delivery records; for event notifications the
--             script sets "n", the event number, from the Subscription's
--             event counter
--
-- The XACK comes first: if the trigger is no longer pending (another
-- dispatcher took it over with XAUTOCLAIM and fanned it out already),
-- nothing is written. A Subscription deleted since the caller read it gets
-- no delivery. Returns the stored records.
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then
  return {}
end
local items = cjson.decode(ARGV[4])
local out = {}
for i, it in ipairs(items) do
  local sk = KEYS[3 + i]
  if redis.call('EXISTS', sk) == 1 and redis.call('HEXISTS', KEYS[2], it.id) == 0 then
    if it.type == 'event-notification' then
      it.n = redis.call('HINCRBY', sk, 'ev', 1)
    end
    local rec = cjson.encode(it)
    redis.call('HSET', KEYS[2], it.id, rec)
    redis.call('ZADD', KEYS[3], ARGV[3], it.id)
    out[#out + 1] = rec
  end
end
return out

-- claim.lua: claim the deliveries that are due, for one retry run.
--
-- KEYS[1]  the due sorted set
-- KEYS[2]  the deliveries hash
-- KEYS[3]  the fencing-token counter of the retry job's lock
-- ARGV[1]  now (unix ms)
-- ARGV[2]  end of the claim (unix ms): the new due score
-- ARGV[3]  at most this many
-- ARGV[4]  the caller's fencing token
-- ARGV[5]  claim token prefix
--
-- A caller whose token is no longer the latest (its lock expired and
-- another run took it) is refused with STALEFENCE and claims nothing.
-- Each claimed record gets a fresh claim token; only its holder can
-- settle it (settle.lua).
if tonumber(redis.call('GET', KEYS[3]) or '0') ~= tonumber(ARGV[4]) then
  return redis.error_reply('STALEFENCE a newer run holds the retry lock')
end
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for i, id in ipairs(ids) do
  local raw = redis.call('HGET', KEYS[2], id)
  if not raw then
    redis.call('ZREM', KEYS[1], id)
  else
    local rec = cjson.decode(raw)
    rec.claim = ARGV[5] .. ':' .. i
    raw = cjson.encode(rec)
    redis.call('HSET', KEYS[2], id, raw)
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    out[#out + 1] = raw
  end
end
return out

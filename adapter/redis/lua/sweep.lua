-- sweep.lua: return a queue's expired leases to the queue (the same first
-- step as claim.lua), for the lease-sweep job. Same KEYS and ARGV[1], ARGV[5]
-- as claim.lua. Returns how many referrals went back.
local now = tonumber(ARGV[1])
local n = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do
  local key = ARGV[5] .. id
  local h = redis.call('HMGET', key, 'st', 'qs', 'pbs', 'v')
  redis.call('ZREM', KEYS[2], id)
  if h[1] == 'requested' then
    redis.call('ZADD', KEYS[1], h[2] or 0, id)
    redis.call('HDEL', key, 'clm', 'clmn', 'lse')
    redis.call('HSET', key, 'bs', h[3] or 'routed', 'mod', now, 'v', (tonumber(h[4]) or 0) + 1)
    redis.call('ZADD', ARGV[6], now, id)
    n = n + 1
  end
end
return n

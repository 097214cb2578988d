-- lease_lib.lua: shared by claim.lua and sweep_leases.lua (scripts.go prepends it).
-- lease_return puts every lease of a queue that expired by now back in the
-- queue at its old place (score kept in the Task's qs field), restores the
-- business status the claim replaced, and returns how many went back. At
-- most limit are returned per call, so a claim never does unbounded work.
local function lease_return(queue, leases, now, prefix, tmod, limit)
  local n = 0
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', leases, '-inf', now, 'LIMIT', 0, limit)) do
    local key = prefix .. id
    local h = redis.call('HMGET', key, 'st', 'qs', 'pbs', 'v')
    redis.call('ZREM', leases, id)
    if h[1] == 'requested' then
      redis.call('ZADD', queue, h[2] or 0, id)
      redis.call('HDEL', key, 'clm', 'clmn', 'clmt', 'lse')
      redis.call('HSET', key, 'bs', h[3] or 'routed', 'mod', now, 'v', (tonumber(h[4]) or 0) + 1)
      redis.call('ZADD', tmod, now, id)
      n = n + 1
    end
  end
  return n
end

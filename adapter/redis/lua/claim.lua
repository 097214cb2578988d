-- claim.lua: give the caller the next referral of a queue, under a lease.
--
-- KEYS[1] the service's queue (sorted set: priority rank, then due time)
-- KEYS[2] the service's leases (sorted set: lease expiry, unix ms)
-- ARGV[1] now (unix ms)   ARGV[2] lease expiry (unix ms)
-- ARGV[3] claimant (token subject)   ARGV[4] claimant's display name
-- ARGV[5] Task key prefix (keys.go task(""))   ARGV[6] the Task index (taskIndex)
-- ARGV[7] claimant's role (job title)
-- ARGV[8] the request's audit record (audit_lib.lua; "" for none), written
--         with the claim, its entity the Task claimed
--
-- The claimant becomes the named contact (issue 9): clmt its title; when
-- it is not the latest named contact (lclm, kept when a lease lapses), ncs
-- is set to now and, if there was an earlier one, hov (handed over) too.
--
-- First expired leases of this queue (up to 100) go back to the queue at its
-- old place (so expiry works even when no sweep job runs); then the best
-- waiting Task is taken off the queue, leased and marked claimed. Returns
-- the Task id, or false when the queue is empty.
local now = tonumber(ARGV[1])
local prefix = ARGV[5]

lease_return(KEYS[1], KEYS[2], now, prefix, ARGV[6], 100)

while true do
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  if #first == 0 then return false end
  local id, score = first[1], first[2]
  local key = prefix .. id
  local h = redis.call('HMGET', key, 'st', 'bs', 'v')
  -- A Task that left 'requested' meanwhile is not claimable: drop it. The
  -- one claimed leaves the queue only after its audit record is written.
  if h[1] ~= 'requested' then
    redis.call('ZREM', KEYS[1], id)
  else
    audit_add(audit_arg(ARGV[8]), 'Task/' .. id .. '/claim')
    redis.call('ZREM', KEYS[1], id)
    redis.call('HSET', key, 'clm', ARGV[3], 'clmn', ARGV[4], 'lse', ARGV[2], 'pbs', h[2] or 'routed',
      'bs', 'claimed', 'qs', score, 'mod', now, 'v', (tonumber(h[3]) or 0) + 1)
    if ARGV[7] ~= '' then redis.call('HSET', key, 'clmt', ARGV[7]) else redis.call('HDEL', key, 'clmt') end
    local last = redis.call('HGET', key, 'lclm')
    if last ~= ARGV[3] then
      redis.call('HSET', key, 'lclm', ARGV[3], 'ncs', now)
      if last then redis.call('HSET', key, 'hov', now) end
    end
    redis.call('ZADD', KEYS[2], ARGV[2], id)
    redis.call('ZADD', ARGV[6], now, id)
    return id
  end
end

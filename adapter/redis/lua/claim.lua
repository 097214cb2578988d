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
-- ARGV[9] ids the claimant must not be given, space-separated (issue 17: the
--         patient's consent denies them this referral); each stays in the
--         queue at its place
--
-- The claimant becomes the named contact (issue 9): clmt its title; when
-- it is not the latest named contact (lclm, kept when a lease lapses), ncs
-- is set to now and, if there was an earlier one, hov (handed over) too.
-- What these fields held before is kept in undo ("lclm ncs hov", each "-"
-- when absent), so that unclaim.lua can give a claim back as if it had not
-- been made.
--
-- First expired leases of this queue (up to 100) go back to the queue at its
-- old place (so expiry works even when no sweep job runs); then the best
-- waiting Task not passed by is taken off the queue, leased and marked
-- claimed. Returns the Task id, or false when there is none.
local now = tonumber(ARGV[1])
local prefix = ARGV[5]

lease_return(KEYS[1], KEYS[2], now, prefix, ARGV[6], 100)

local excluded = {}
for id in string.gmatch(ARGV[9] or '', '%S+') do excluded[id] = true end

local offset = 0
while true do
  local first = redis.call('ZRANGE', KEYS[1], offset, offset, 'WITHSCORES')
  if #first == 0 then return false end
  local id, score = first[1], first[2]
  local key = prefix .. id
  if excluded[id] then
    offset = offset + 1
  else
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
      local before = redis.call('HMGET', key, 'lclm', 'ncs', 'hov')
      redis.call('HSET', key, 'undo', (before[1] or '-') .. ' ' .. (before[2] or '-') .. ' ' .. (before[3] or '-'))
      if before[1] ~= ARGV[3] then
        redis.call('HSET', key, 'lclm', ARGV[3], 'ncs', now)
        if before[1] then redis.call('HSET', key, 'hov', now) end
      end
      redis.call('ZADD', KEYS[2], ARGV[2], id)
      redis.call('ZADD', ARGV[6], now, id)
      return id
    end
  end
end

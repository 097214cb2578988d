-- unclaim.lua: give back a claim that must not stand (issue 17: the
-- patient's consent does not let the claimant have this referral), as if
-- it had not been made: the Task returns to its queue at its old place, its
-- lease ends, its business status and named-contact fields are what they
-- were before the claim (claim.lua kept them in undo).
--
-- KEYS[1] the service's queue   KEYS[2] the service's leases
-- KEYS[3] the Task              KEYS[4] the Task index (taskIndex)
-- ARGV[1] the Task id   ARGV[2] the claimant (token subject)   ARGV[3] now (unix ms)
-- ARGV[4] the request's audit record (audit_lib.lua; "" for none)
--
-- Returns 1 when the claim was given back, 0 when the claimant no longer
-- holds it (the lease lapsed and someone else took it, or it moved on).
local h = redis.call('HMGET', KEYS[3], 'st', 'clm', 'qs', 'pbs', 'v', 'undo')
if h[1] ~= 'requested' or h[2] ~= ARGV[2] then return 0 end
audit_add(audit_arg(ARGV[4]))
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[1], h[3] or 0, ARGV[1])
redis.call('HDEL', KEYS[3], 'clm', 'clmn', 'clmt', 'lse', 'undo')
redis.call('HSET', KEYS[3], 'bs', h[4] or 'routed', 'mod', ARGV[3], 'v', (tonumber(h[5]) or 0) + 1)
local fields = {'lclm', 'ncs', 'hov'}
local i = 1
for v in string.gmatch(h[6] or '- - -', '%S+') do
  if v == '-' then redis.call('HDEL', KEYS[3], fields[i]) else redis.call('HSET', KEYS[3], fields[i], v) end
  i = i + 1
end
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])
return 1

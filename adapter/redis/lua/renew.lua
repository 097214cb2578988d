-- renew.lua: extend a lease, only for its current holder and only while it
-- has not expired. KEYS[1] leases, KEYS[2] Task key; ARGV[1] Task id,
-- ARGV[2] claimant, ARGV[3] new expiry (unix ms), ARGV[4] now, ARGV[5] the
-- request's audit record (audit_lib.lua; "" for none), written with the
-- renewal.
-- Returns 1, or 0 when the caller does not hold a live lease.
local exp = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]))
if not exp or exp <= tonumber(ARGV[4]) then return 0 end
if redis.call('HGET', KEYS[2], 'clm') ~= ARGV[2] then return 0 end
audit_add(audit_arg(ARGV[5]))
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('HSET', KEYS[2], 'lse', ARGV[3])
return 1

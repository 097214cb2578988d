-- sweep_leases.lua: return a queue's expired leases to the queue (the same first
-- step as claim.lua, from lease_lib.lua), for the lease-sweep job. Same KEYS
-- and ARGV[1], ARGV[5], ARGV[6] as claim.lua. Returns how many went back
-- (at most 10,000 per queue per run; the next run takes the rest).
return lease_return(KEYS[1], KEYS[2], tonumber(ARGV[1]), ARGV[5], ARGV[6], 10000)

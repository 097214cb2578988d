-- seed_capacity.lua: give services their capacity from the mappings at start-up,
-- only where none is recorded yet: live values are never overwritten.
--
-- KEYS[1]  the capacity change stream
-- ARGV[1]  JSON: {"now": ms, "items": [{"key": "<capacity key>", "svc": "<id>", "max": n}]}
--
-- Each seeded service is open, verified now, and the change is logged as
-- made by the mappings. Returns the number of services seeded.
local p = cjson.decode(ARGV[1])
local n = 0
for _, it in ipairs(p.items) do
  if redis.call('HEXISTS', it.key, 'status') == 0 then
    redis.call('HSET', it.key, 'status', 'open', 'max', it.max, 'verified', p.now)
    redis.call('HSETNX', it.key, 'reserved', 0)
    redis.call('XADD', KEYS[1], '*', 'svc', it.svc, 'status', 'open', 'max', it.max, 'weekly', 0,
      'by', 'mappings', 'role', 'system', 'at', p.now)
    n = n + 1
  end
end
return n

-- intake.lua: create every resource of one intake request atomically.
--
-- KEYS[1]  the idempotency hash
-- ARGV[1]  JSON: {"items":[{
--             "id": "...", "idem": "<field>" | "", "existing": bool,
--             "cmds": [["SET", "<key>", "<json>"], ["HSET", "<key>", "f", "v"], ...],
--             "task": {"key": "<task key>", "fields": ["f","v",...], "score": n,
--                      "candidates": [{"svc": "<id>", "queue": "<key>"}], "queued": bool}
--          }]}
--
-- Phase 1 checks every idempotency field: if one now exists that the caller
-- did not know about (a concurrent create won the race), nothing is written
-- and {"retry":true} is returned so the caller can look up and re-plan.
-- Phase 2 writes. Keys are computed by the caller (keys.go); all share one
-- hash tag, so the script touches a single hash slot.
local p = cjson.decode(ARGV[1])
for _, it in ipairs(p.items) do
  if it.idem ~= "" and not it.existing then
    if redis.call('HEXISTS', KEYS[1], it.idem) == 1 then
      return cjson.encode({retry = true})
    end
  end
end

local owners = {}
for i, it in ipairs(p.items) do
  owners[i] = ""
  if not it.existing then
    for _, c in ipairs(it.cmds) do
      redis.call(unpack(c))
    end
    local t = it.task
    if t then
      local owner, queue = "", ""
      if #t.candidates > 0 then
        owner = t.candidates[1].svc
        queue = t.candidates[1].queue
      end
      redis.call('HSET', t.key, unpack(t.fields))
      if owner ~= "" then
        redis.call('HSET', t.key, 'own', owner)
        if t.queued then
          redis.call('ZADD', queue, t.score, it.id)
        end
      end
      owners[i] = owner
    end
    if it.idem ~= "" then
      redis.call('HSET', KEYS[1], it.idem, it.id)
    end
  end
end
return cjson.encode({owners = owners})

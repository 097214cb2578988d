-- intake.lua: create every resource of one intake request atomically.
--
-- KEYS[1]  the idempotency hash
-- ARGV[1]  JSON: {"items":[{
--             "id": "...", "idems": ["<field>", ...] (optional), "existing": bool,
--             "blobkey": "<key>", "blob": n,   (optional: SET key ARGV[n],
--             "blobfield": "<field>",            or HSET key field ARGV[n])
--             "refs": {"prefix", "ref", "args"},   (Consent: its patient's referral
--                                                 sets, under both references the
--                                                 patient goes by: patient_alias_lib.lua)
--             "byvalues": [{"key", "field", "set"}, ...], (ServiceRequest, one per
--                                                 identifier: HSETNX key field id, or SADD
--                                                 set id when the field names another
--                                                 referral)
--             "cmds": [["SET", "<key>", "<json>"], ["HSET", "<key>", "f", "v"], ...],
--             "stats": {"keys": [...], "pkey": "<key>",           (optional: see below)
--                       "incs": [{"m", "s", "r", "n", "p", "own", "pl", "nopl", "out", "skip"}]},
--             "task": {"key": "<task key>", "fields": ["f","v",...], "score": n,
--                      "candidates": [{"svc": "<id>", "queue": "<key>"}], "queued": bool,
--                      "steps": [<capacity.lua step>, ...]},         (optional)
--             "tell": [<task_write_lib.lua change>, ...]             (optional: Patient)
--          }],
--          "routing": <capacity.lua cfg>,                               (optional)
--          "events": "<stream key>", "evmax": n,
--          "audit": {"key": "<audit stream>", "recs": [[field, value, ...], ...]}}  (optional)
-- ARGV[2..] the resources' bytes, which the items name by "blob" (a
--          compressed ServiceRequest is binary, and the JSON payload
--          carries text only)
--
-- An item's "ev" (field, value, ...) is its new Task's notification
-- trigger, added to the events stream in the same step as the Task.
--
-- With "routing" and a task's "steps", the Task is placed by live capacity
-- (cap_place in capacity.lua, which scripts.go prepends to this script):
-- a slot is reserved, or it is waitlisted, or redirected to the link
-- workers. Without them the Task goes to its first candidate, as before.
--
-- Phase 1 checks every idempotency field: if one now exists that the caller
-- did not know about (a concurrent create won the race), or a Task an item
-- tells of a change ("tell": a new Patient's contact details, on its live
-- referrals) is no longer at the version the caller read, nothing is
-- written and {"retry":true} is returned so the caller can look up and
-- re-plan. (task_write_lib.lua, which scripts.go prepends.)
-- Phase 2 writes, the request's audit records first: if they cannot be
-- written (the script stops at the failed call), nothing else is, and an
-- intake is never stored without its record. Keys are computed by the caller (keys.go); all share one
-- hash tag, so the script touches a single hash slot. The result is
-- {"owners": [...], "placements": [...], "refs": [...]}, one of each per
-- item ("" and {"own": ""} for items without a Task, or without routing;
-- never an empty table, which cjson implementations encode differently);
-- refs is the size of a Consent's "refs" sets after the whole batch is
-- written (0 for other items).
local p = cjson.decode(ARGV[1])
for _, it in ipairs(p.items) do
  if it.idems and not it.existing then
    for _, f in ipairs(it.idems) do
      if redis.call('HEXISTS', KEYS[1], f) == 1 then
        return cjson.encode({retry = true})
      end
    end
  end
  if it.tell and not it.existing then
    for _, w in ipairs(it.tell) do
      if not task_write_ok(w) then return cjson.encode({retry = true}) end
    end
  end
end

audit_add(p.audit)

local owners, placements = {}, {}
for i, it in ipairs(p.items) do
  owners[i], placements[i] = "", {own = ""}
  if not it.existing then
    if it.blob and it.blobfield then
      redis.call('HSET', it.blobkey, it.blobfield, ARGV[it.blob])
    elseif it.blob then
      redis.call('SET', it.blobkey, ARGV[it.blob])
    end
    for _, c in ipairs(it.cmds) do
      redis.call(unpack(c))
    end
    for _, bv in ipairs(it.byvalues or {}) do
      if redis.call('HSETNX', bv.key, bv.field, it.id) == 0 and redis.call('HGET', bv.key, bv.field) ~= it.id then
        redis.call('SADD', bv.set, it.id)
      end
    end
    local t = it.task
    if t and p.routing and t.steps then
      redis.call('HSET', t.key, unpack(t.fields))
      placements[i] = cap_place(p.routing, {key = t.key, id = it.id, score = t.score, queued = t.queued}, t.steps)
      owners[i] = placements[i].own
    elseif t then
      local owner, queue = "", ""
      if #t.candidates > 0 then
        owner = t.candidates[1].svc
        queue = t.candidates[1].queue
      end
      redis.call('HSET', t.key, unpack(t.fields))
      if p.tmod then redis.call('ZADD', p.tmod, t.mod, it.id) end
      if owner ~= "" then
        redis.call('HSET', t.key, 'own', owner)
        if t.queued then
          redis.call('ZADD', queue, t.score, it.id)
        end
      end
      owners[i] = owner
    end
    if it.ev and p.events ~= "" then
      redis.call('XADD', p.events, 'MAXLEN', '~', p.evmax, '*', unpack(it.ev))
    end
    for _, f in ipairs(it.idems or {}) do
      redis.call('HSET', KEYS[1], f, it.id)
    end
    if it.tell then
      for _, w in ipairs(it.tell) do task_write(w, p.tmod, p.events, p.evmax) end
    end
  end
end
-- The new referrals' report counters, now that each is placed
-- (intake_stats_lib.lua).
for i, it in ipairs(p.items) do
  if it.stats and not it.existing then count_intake_stats(it.stats, placements[i], owners[i]) end
end

local refs = {}
for i, it in ipairs(p.items) do
  refs[i] = 0
  if it.refs and not it.existing then
    refs[i] = #patient_set_union(it.refs.prefix, it.refs.ref, it.refs.args)
  end
end
return cjson.encode({owners = owners, placements = placements, refs = refs})

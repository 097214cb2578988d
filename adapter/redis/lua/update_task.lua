-- update_task.lua: write a Task change decided in Go, if nobody changed the
-- Task meanwhile (compare-and-set on its version). scripts.go prepends
-- capacity.lua for cap_release, and task_write_lib.lua.
--
-- ARGV[1] JSON: {id, key, expect, set: [f, v, ...], del: [f, ...], hist,
--                entry, now, ev (the Task's own change, task_write_lib.lua),
--                leases, queue, wl, cap, rsv, terminal, tmod,
--                child: {key, set, queue, score, idx, cap, svc, created, at, ev} (optional),
--                events, evmax, due: {key, idx, json} (optional),
--                incs: [key, field, n, ...],
--                parent: {id, key, expect, set, del, hist, entry, now, ev} (optional),
--                audit: {key, recs} (optional)}
-- The Task leaves its lease and queue whenever it leaves 'requested'; when
-- it ends it leaves the waitlist and gives back its capacity slot. The
-- history entry is appended. A child Task (onward referral) is created in
-- the same step, reserving a slot at its service first: if the service has
-- none, nothing is written. "audit" (optional, audit_lib.lua) is the
-- request's audit record, written once the checks pass and before
-- anything else. The change is announced on the notification stream
-- "events" (ev: the Task event's fields, and the child's) in the same step,
-- so no change goes untold. "due" is the closure summary an ending owes
-- the practice, kept until it is sent (the outbox of adapter.ClosureDue);
-- "incs" are the change's report counters, counted with it. "parent" is
-- the change of the Task this one is part of (told of an onward referral
-- declined), written with it if that Task is still at the version read.
-- Returns "ok", "conflict" or "full".
local p = cjson.decode(ARGV[1])
if not task_write_ok(p) or not task_write_ok(p.parent) then return 'conflict' end
if p.child then
  local cap = redis.call('HMGET', p.child.cap, 'status', 'max', 'reserved')
  local status, max, reserved = cap[1] or 'open', tonumber(cap[2]) or 0, tonumber(cap[3]) or 0
  if status ~= 'open' or (max > 0 and reserved >= max) then return 'full' end
end
audit_add(p.audit)
if p.child then
  local c = p.child
  redis.call('HINCRBY', c.cap, 'reserved', 1)
  redis.call('HSET', c.key, unpack(c.set))
  redis.call('HSET', c.key, 'rsv', c.svc)
  redis.call('ZADD', c.queue, c.score, c.id)
  redis.call('SADD', c.idx, c.id)
  redis.call('ZADD', p.tmod, p.now, c.id)
  redis.call('ZADD', c.created, c.at, c.id)
end
task_write(p, p.tmod, p.events, p.evmax)
if p.leave then
  redis.call('ZREM', p.leases, p.id)
  redis.call('ZREM', p.queue, p.id)
end
if p.terminal then
  redis.call('ZREM', p.wl, p.id)
  if p.activeField ~= '' and redis.call('HGET', p.active, p.activeField) == p.id then
    redis.call('HDEL', p.active, p.activeField)
  end
  if p.rsv ~= '' then cap_release(p.key, p.cap, p.rsv) end
end
if p.due then
  redis.call('SET', p.due.key, p.due.json)
  redis.call('ZADD', p.due.idx, p.now, p.id)
end
add_incs(p.incs)
if p.child then redis.call('XADD', p.events, 'MAXLEN', '~', p.evmax, '*', unpack(p.child.ev)) end
task_write(p.parent, p.tmod, p.events, p.evmax)
return 'ok'

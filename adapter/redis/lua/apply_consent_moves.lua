-- apply_consent_moves.lua: write consent moves (issue 4) and clinician sign-off
-- moves (issue 11) decided in Go, all or none, if no Task changed since it was read (compare-and-set on each
-- Task's version). scripts.go prepends capacity.lua for cap_place and
-- cap_release.
--
-- ARGV[1] JSON: {"routing": <capacity.lua cfg> (optional), "tmod": "<key>", "now": ms,
--                "moves": [{"id", "key", "expect": version, "set": [f, v, ...], "del": [f, ...],
--                           "zrem": ["<zset key>", ...], "zadd": [{"key", "score"}, ...],
--                           "place": [<capacity.lua step>, ...] (optional), "score": n,
--                           "release": {"cap", "svc"} (optional), "active": "<key>", "activeField": "<f>" (optional),
--                           "hist": "<key>", "entry": "<json>", "ev": [f, v, ...],
--                           "stats": <intake.go intakeStats> (optional), "owner": "<service>"}],
--                "events": "<stream key>", "evmax": n,
--                "audit": {key, recs} (optional, audit_lib.lua)}
--
-- Each move sets and clears the Task's fields, leaves or joins the sorted
-- sets named (queue, leases, waitlist, the consent and sign-off holds), places a
-- released referral by capacity when given steps (cap_place, which also
-- queues it), gives back the capacity slot of a cancelled one and frees its
-- entry in the duplicate-check index, appends its history entry, and
-- announces the change on the notification stream (ev) in the same step.
-- A released referral that waited from the start has its placing counted
-- (stats, count_intake_stats) once placed: at the placement's owner, or
-- at owner when not placed by capacity.
-- Returns {"conflict": "<id>"} when a Task changed meanwhile (nothing
-- written), else {"placements": [...]}, one per move ({"own": ""} when not
-- placed; never an empty table).
local p = cjson.decode(ARGV[1])
for _, m in ipairs(p.moves) do
  if tonumber(redis.call('HGET', m.key, 'v')) ~= m.expect then
    return cjson.encode({conflict = m.id})
  end
end
-- The request's audit record, once the checks pass and before anything
-- else is written: the moves are stored with it or not at all.
audit_add(p.audit)
local placements = {}
for i, m in ipairs(p.moves) do
  redis.call('HSET', m.key, unpack(m.set))
  if #m.del > 0 then redis.call('HDEL', m.key, unpack(m.del)) end
  for _, k in ipairs(m.zrem) do redis.call('ZREM', k, m.id) end
  for _, z in ipairs(m.zadd) do redis.call('ZADD', z.key, z.score, m.id) end
  if m.release then cap_release(m.key, m.release.cap, m.release.svc) end
  if m.activeField and m.activeField ~= '' and redis.call('HGET', m.active, m.activeField) == m.id then
    redis.call('HDEL', m.active, m.activeField)
  end
  placements[i] = {own = ""}
  if m.place then
    placements[i] = cap_place(p.routing, {key = m.key, id = m.id, score = m.score, queued = true}, m.place)
  end
  if m.stats then
    local owner = placements[i].own
    if owner == '' then owner = m.owner end
    count_intake_stats(m.stats, placements[i], owner)
  end
  redis.call('RPUSH', m.hist, m.entry)
  redis.call('ZADD', p.tmod, p.now, m.id)
  redis.call('XADD', p.events, 'MAXLEN', '~', p.evmax, '*', unpack(m.ev))
end
return cjson.encode({placements = placements})

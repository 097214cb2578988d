-- reroute.lua: re-route the referrals waiting at a service that closed (in
-- its queue and not yet claimed, or on its waitlist) by the same rules as at
-- intake. scripts.go prepends capacity.lua.
--
-- ARGV[1]  JSON: {"routing": <capacity.lua cfg>,
--                 "from": {"svc", "queue", "cap", "wl"},
--                 "holds": the consent holds (keys.go consentHolds),
--                 "tasks": [{"id", "key", "score", "steps": [<step>, ...], "hold"}, ...]}
--
-- The steps are the Task's route without the closed service. A Task is
-- re-routed only while it is still waiting there: owned by the service, in
-- its queue or on its waitlist, and requested or on-hold. It leaves the
-- queue and waitlist, gives back its slot, is placed again (cap_place), and
-- its statusReason says the service closed; its version goes up by one. A
-- Task marked hold (the patient's consent covers no service it could go to
-- now: issue 17) is put on hold awaiting consent instead, as a withdrawal
-- of consent does (adapter.Task.PauseForConsent), and joins the holds.
-- Returns {"results": [placement + {"id"} | {"id", "gone": true}]}.
local p = cjson.decode(ARGV[1])
local cfg, from = p.routing, p.from
local results = {}
for i, t in ipairs(p.tasks) do
  local h = redis.call('HMGET', t.key, 'st', 'own', 'v')
  local queued = redis.call('ZSCORE', from.queue, t.id)
  local listed = redis.call('ZSCORE', from.wl, t.id)
  if h[2] == from.svc and (queued or listed) and (h[1] == 'requested' or h[1] == 'on-hold') then
    redis.call('ZREM', from.queue, t.id)
    redis.call('ZREM', from.wl, t.id)
    cap_release(t.key, from.cap, from.svc)
    local res
    if t.hold then
      res = {own = from.svc, out = 'routed', bs = 'awaiting-consent', held = true,
             rsn = string.format(CAP_TEXT.rerouted, cap_name(cfg, from.svc), CAP_TEXT.heldNoConsent)}
      redis.call('HSET', t.key, 'st', 'on-hold', 'bs', res.bs, 'hsn', cfg.now, 'hfr', h[1], 'hbs', 'routed')
      redis.call('HDEL', t.key, 'clm', 'clmn', 'clmt', 'lse')
      redis.call('ZADD', p.holds, cfg.now, t.id)
      if cfg.tmod and cfg.tmod ~= '' then redis.call('ZADD', cfg.tmod, cfg.now, t.id) end
    else
      res = cap_place(cfg, {key = t.key, id = t.id, score = t.score, queued = h[1] == 'requested'}, t.steps)
      res.rsn = string.format(CAP_TEXT.rerouted, cap_name(cfg, from.svc), res.rsn)
    end
    redis.call('HSET', t.key, 'rsn', res.rsn, 'mod', cfg.now, 'v', (tonumber(h[3]) or 0) + 1)
    res.id = t.id
    results[i] = res
  else
    results[i] = {id = t.id, gone = true}
  end
end
return cjson.encode({results = results})

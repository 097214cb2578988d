-- promote_waitlist.lua: move referrals from the head of a service's waitlist into
-- its queue while it can take them, reserving a slot for each. scripts.go
-- prepends capacity.lua.
--
-- ARGV[1]  JSON: {"routing": <capacity.lua cfg>,
--                 "svc": {"svc", "queue", "cap", "wl"},
--                 "tasks": [{"id", "key", "score"}, ...]}   (waitlist order)
--
-- A listed Task still on the waitlist is promoted when it is still owned by
-- the service, waitlisted and not ended; an entry that is none of these is
-- dropped from the waitlist. Promotion stops as soon as the service cannot
-- take one more referral (full, paused, closed, stale or waitlist-only).
-- Returns {"n": count, "promoted": [ids], "dropped": [ids]}, each list
-- left out when empty.
local p = cjson.decode(ARGV[1])
local cfg, s = p.routing, p.svc
local promoted, dropped = {}, {}
for _, t in ipairs(p.tasks) do
  if cap_skip(cap_read(s.cap), cfg) then break end
  if redis.call('ZSCORE', s.wl, t.id) then
    redis.call('ZREM', s.wl, t.id)
    local h = redis.call('HMGET', t.key, 'st', 'own', 'bs', 'v')
    if h[1] and not cap_terminal[h[1]] and h[2] == s.svc and h[3] == 'waitlisted' then
      cap_reserve(t.key, s)
      redis.call('HSET', t.key, 'bs', 'routed', 'rsn', string.format(CAP_TEXT.promoted, cap_name(cfg, s.svc)),
        'mod', cfg.now, 'v', (tonumber(h[4]) or 0) + 1)
      if h[1] == 'requested' then
        redis.call('ZADD', s.queue, t.score, t.id)
      end
      promoted[#promoted + 1] = t.id
    else
      dropped[#dropped + 1] = t.id
    end
  end
end
local res = {n = #promoted} -- never an empty table: cjson implementations differ on those
if #promoted > 0 then res.promoted = promoted end
if #dropped > 0 then res.dropped = dropped end
return cjson.encode(res)

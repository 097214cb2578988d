-- capacity.lua: capacity-aware placement, shared by every script that
-- places, moves or ends a referral. scripts.go prepends this file to those
-- scripts (intake.lua, promote_waitlist.lua, reroute.lua, release_slot.lua), so the
-- functions below are locals of each. A script that ends a referral (a
-- terminal Task transition) is built the same way (withCapacity in
-- scripts.go) and calls cap_release(task key, capacity key of the Task's
-- rsv service, that service id); a waitlisted Task holds no slot, and its
-- leftover waitlist entry is dropped at the next promotion (or remove it
-- there with ZREM on the owner's waitlist key).
--
-- A capacity hash (keys.go capacity) holds status (open|waitlist|paused|
-- closed), max (0 = unlimited), reserved, verified (unix ms) and weekly
-- (weekly intake, 0 = not stated). A service without one is unknown: open,
-- unlimited and never stale. A Task holding a slot names the service in its
-- field rsv.
--
-- cfg, from the caller (adapter.Routing):
--   now      unix ms
--   stale    ms after the last verification when a capacity is stale (0 = never)
--   lw       {svc, queue, cap}: the network's link workers, the last resort
--   names    {[svc] = display name} (at least of the services it may name)
-- and, from scripts.go (constants of package adapter, written ahead of this
-- file):
--   CAP_PHRASES  {[skip reason] = words finishing "<name> ..."}
--   CAP_TEXT     the sentences of adapter.ReasonFormats
-- A step is {svc, queue, cap, wl, skip} (skip: the patient is not eligible,
-- or their consent does not cover the service, decided by the caller),
-- {waitlist = true}, or {svc, queue, cap, wl, lr = true}: the last resort
-- when the patient's consent does not cover the link workers.

local function cap_read(key)
  local v = redis.call('HMGET', key, 'status', 'max', 'reserved', 'verified', 'weekly')
  return {status = v[1] or 'open', max = tonumber(v[2]) or 0, reserved = tonumber(v[3]) or 0,
          verified = tonumber(v[4]) or 0, weekly = tonumber(v[5]) or 0}
end

-- cap_skip returns why the service cannot take one more referral now, or
-- nil when it can (adapter.Capacity.Skip says the same in Go, for reads;
-- placement_rule_test.go runs one table of cases through both).
local function cap_skip(c, cfg)
  if c.status == 'paused' or c.status == 'closed' then return c.status end
  if cfg.stale > 0 and c.verified > 0 and cfg.now - c.verified > cfg.stale then return 'stale' end
  if c.status == 'waitlist' then return 'waitlist' end
  if c.max > 0 and c.reserved >= c.max then return 'at-capacity' end
  return nil
end

-- cap_reserve takes one slot at the step's service for the Task.
local function cap_reserve(task_key, step)
  redis.call('HINCRBY', step.cap, 'reserved', 1)
  redis.call('HSET', task_key, 'rsv', step.svc)
end

-- cap_release gives back the slot the Task holds at svc, if it holds one
-- there: reserved goes down by one (never below 0) and rsv is cleared.
-- Returns 1 when a slot was released, 0 otherwise.
local function cap_release(task_key, cap_key, svc)
  if redis.call('HGET', task_key, 'rsv') ~= svc then return 0 end
  if (tonumber(redis.call('HGET', cap_key, 'reserved')) or 0) > 0 then
    redis.call('HINCRBY', cap_key, 'reserved', -1)
  end
  redis.call('HDEL', task_key, 'rsv')
  return 1
end

local function cap_name(cfg, svc) return cfg.names[svc] or svc end
local function cap_phrase(why) return CAP_PHRASES[why] or why end

-- cap_choose walks the steps: the first service that can take the referral
-- wins ('reserve'); a waitlist step waitlists at the first earlier service
-- that keeps a waitlist (status waitlist, or open but full); after the last
-- step, the first service with status waitlist; else the link workers
-- ('fallback'), unless a last-resort step ({lr = true}: the patient's
-- consent does not cover the link workers) names the service whose
-- waitlist the referral waits on instead. Returns the step, how, and the
-- services passed by.
local function cap_choose(cfg, steps)
  local skipped, keeper, waiter, last = {}, nil, nil, nil
  for _, st in ipairs(steps or {}) do
    if st.lr then
      last = last or st
    elseif st.waitlist then
      if keeper then return keeper, 'waitlist', skipped end
    elseif st.skip and st.skip ~= '' then
      skipped[#skipped + 1] = {svc = st.svc, why = st.skip}
    else
      local why = cap_skip(cap_read(st.cap), cfg)
      if not why then return st, 'reserve', skipped end
      skipped[#skipped + 1] = {svc = st.svc, why = why}
      if why == 'waitlist' or why == 'at-capacity' then keeper = keeper or st end
      if why == 'waitlist' then waiter = waiter or st end
    end
  end
  if waiter then return waiter, 'waitlist', skipped end
  if last then return last, 'waitlist', skipped end
  return cfg.lw, 'fallback', skipped
end

-- cap_waitlist puts the Task on the service's waitlist and says where.
local function cap_waitlist(cfg, t, st, res)
  if not redis.call('ZSCORE', st.wl, t.id) then
    -- Join strictly after the last to join, so referrals waitlisted in the
    -- same millisecond keep their arrival order (scores never tie).
    local score = tonumber(cfg.now)
    local last = redis.call('ZREVRANGE', st.wl, 0, 0, 'WITHSCORES')
    if last[2] and tonumber(last[2]) >= score then score = tonumber(last[2]) + 1 end
    redis.call('ZADD', st.wl, score, t.id)
  end
  res.pos = redis.call('ZRANK', st.wl, t.id) + 1
  res.out, res.bs = 'waitlisted', 'waitlisted'
  local weekly = cap_read(st.cap).weekly
  if weekly > 0 then
    res.wait = math.ceil(res.pos * 7 / weekly)
    res.rsn = string.format(CAP_TEXT.waitlisted, cap_name(cfg, st.svc), res.pos, res.wait)
  else
    res.rsn = string.format(CAP_TEXT.waitlistedNE, cap_name(cfg, st.svc), res.pos)
  end
end

-- cap_take queues the Task at the service, with a slot when it has one; the
-- link workers take a referral even without one (flagged over-capacity).
-- cap_for_capacity reports whether any skip was for lack of capacity, as
-- opposed to the patient not being eligible (adapter.SkipReason.Capacity).
local function cap_for_capacity(skipped)
  for _, s in ipairs(skipped) do
    if s.why ~= 'ineligible-age' and s.why ~= 'ineligible-area' and s.why ~= 'no-consent' then return true end
  end
  return false
end

-- cap_passed is why routing passed svc by, when it did: the last resort
-- may take a referral although it was passed by (adapter.Placement.Reason).
local function cap_passed(skipped, svc)
  for _, s in ipairs(skipped) do
    if s.svc == svc then return s.why end
  end
  return nil
end

local function cap_take(cfg, t, st, how, skipped, res)
  if how == 'fallback' then
    res.over = cap_skip(cap_read(st.cap), cfg)
  end
  if cap_for_capacity(skipped) and (how == 'fallback' or st.svc == cfg.lw.svc) then
    res.out, res.bs = 'redirected-capacity', 'redirected-capacity'
  end
  local T = CAP_TEXT
  if res.over then
    res.bs = 'over-capacity'
    res.rsn = string.format(T.overCapacity, cap_name(cfg, st.svc), cap_phrase(res.over))
  else
    cap_reserve(t.key, st)
    res.rsv = st.svc
    if #skipped == 0 then
      res.rsn = string.format(T.routed, cap_name(cfg, st.svc))
    elseif res.out == 'redirected-capacity' then
      res.rsn = string.format(T.redirected, cap_name(cfg, skipped[1].svc), cap_phrase(skipped[1].why))
    elseif cap_passed(skipped, st.svc) then
      res.rsn = string.format(T.routedAnyway, cap_name(cfg, st.svc), cap_phrase(cap_passed(skipped, st.svc)))
    else
      res.rsn = string.format(T.routedAfter, cap_name(cfg, st.svc), cap_name(cfg, skipped[1].svc),
        cap_phrase(skipped[1].why))
    end
  end
  if t.queued then
    redis.call('ZADD', st.queue, t.score, t.id)
  end
end

-- cap_place places the Task t = {key, id, score, queued} by its steps:
-- reserve, waitlist or redirect. It writes own, bs and rsn (and rsv when a
-- slot is held) and returns the placement: {own, out, bs, rsn, skip, rsv,
-- over, pos, wait}.
local function cap_place(cfg, t, steps)
  local st, how, skipped = cap_choose(cfg, steps)
  local res = {own = st.svc, out = 'routed', bs = 'routed'}
  if #skipped > 0 then res.skip = skipped end
  if how == 'waitlist' then
    cap_waitlist(cfg, t, st, res)
  else
    cap_take(cfg, t, st, how, skipped, res)
  end
  redis.call('HSET', t.key, 'own', st.svc, 'bs', res.bs, 'rsn', res.rsn)
  if cfg.tmod and cfg.tmod ~= '' then redis.call('ZADD', cfg.tmod, cfg.now, t.id) end
  return res
end

local cap_terminal = {rejected = true, cancelled = true, completed = true, failed = true,
                      ['entered-in-error'] = true}


-- intake_stats_lib.lua: a new referral's report counters, counted once it
-- is placed: by intake.lua, and by apply_consent_moves.lua for a referral
-- that waited for consent or sign-off from the start and is placed when
-- released. redis/intake.go intakeStats builds ss; capacity.lua's
-- cap_for_capacity must be defined before this.

-- count_intake_stats adds ss's increments for a referral placed as pl
-- (cap_place's answer; pl.own is "" when it was not placed by capacity)
-- and owned by owner: each inc adds n to field m|s|r of every hash of
-- ss.keys and, with p, to field m of ss.pkey (the practice's day); "own"
-- takes the owner's id as the service, "pl" / "nopl" count only when the
-- referral was / was not placed by capacity, "out" is waitlisted or placed
-- at the placement's owner, and "skip" counts once per service passed by
-- for lack of capacity (adapter.ExpandIntakeStats says the same in Go).
local function count_intake_stats(ss, pl, owner)
  local placed = pl.own ~= ""
  for _, st in ipairs(ss.incs) do
    if not ((st.pl and not placed) or (st.nopl and placed)) then
      local m, svcs = st.m, {st.s}
      if st.own then svcs = {owner} end
      if st.out then
        svcs = {pl.own}
        if pl.out == 'waitlisted' then m = 'waitlisted' else m = 'placed' end
      end
      if st.skip then
        svcs = {}
        for _, sk in ipairs(pl.skip or {}) do
          if cap_for_capacity({sk}) then svcs[#svcs + 1] = sk.svc end
        end
      end
      for _, svc in ipairs(svcs) do
        local f = m .. '|' .. svc .. '|' .. st.r
        for _, k in ipairs(ss.keys) do redis.call('HINCRBY', k, f, st.n) end
        if st.p then redis.call('HINCRBY', ss.pkey, m, st.n) end
      end
    end
  end
end

-- stats_lib.lua: add_incs, prepended (scripts.go) to the scripts that count
-- report counters in the same step as their change.

-- add_incs adds the increments incs (stats.go incArgs: key, field, n, ...).
local function add_incs(incs)
  for i = 1, #incs, 3 do redis.call('HINCRBY', incs[i], incs[i + 1], incs[i + 2]) end
end

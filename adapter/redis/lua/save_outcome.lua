-- save_outcome.lua: store an outcome and link it to its Task and, when it
-- records a wellbeing score (issue 20), keep the referral's first and
-- latest score of that measure by the Observation's own date and move the
-- anonymous wellbeing counters from the referral's old pair to its new
-- one, all in one step: a score arriving late, or out of order, leaves the
-- counters as if the scores had come in date order.
--
-- KEYS[1] the outcome hash   KEYS[2] the Task's set of outcome ids
-- KEYS[3] the Task hash (taskcodec.go fields "ref" and "own")
-- ARGV[1] outcome id   ARGV[2] the request's audit records (audit.go
-- scriptAudit JSON; "" for none), written first   ARGV[3] the Task's
-- change that records the outcome ({w: task_write_lib.lua's, tmod,
-- events, evmax}; "" for none): the outcome is stored only while the Task
-- is at the version it was read at, and the Task changes with it
-- ARGV[4] n, the number of hash arguments   ARGV[5 .. 4+n] the outcome
-- hash's fields and values
-- For a score (absent otherwise), from a = 5+n:
-- ARGV[a]   measure (report key)        ARGV[a+1] value, in hundredths of a point
-- ARGV[a+2] the Observation's time (unix ms)   ARGV[a+3] its day (YYYY-MM-DD, Europe/London)
-- ARGV[a+4] a meaningful change, in hundredths   ARGV[a+5] 1 when higher is better, -1 when lower is
-- ARGV[a+6] prefix of the referrals' pair hashes (keys.go wellbeingPairs)
-- ARGV[a+7] prefix of the Task hashes (the referral's own Task has its area)
-- ARGV[a+8] prefix of the dated counter hashes (keys.go datedStats)
--
-- A pair hash holds, per measure, "first ms|first value|latest ms|latest
-- value|scores|latest's day|service|area": service is the owner of the
-- Task the latest score was recorded on, area the referral's.
-- Returns 1 when the referral's pair of the measure was formed or changed,
-- 0 when not, -1 when the Task changed since it was read (nothing written).
local tw = {}
if ARGV[3] ~= '' then tw = cjson.decode(ARGV[3]) end
if not task_write_ok(tw.w) then return -1 end
audit_add(audit_arg(ARGV[2]))
local n = tonumber(ARGV[4])
redis.call('HSET', KEYS[1], unpack(ARGV, 5, 4 + n))
redis.call('SADD', KEYS[2], ARGV[1])
task_write(tw.w, tw.tmod, tw.events, tw.evmax)
local a = 5 + n
if #ARGV < a then return 0 end
local measure, value, at, day = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
local meaningful, dir = tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5])
local ref, own = unpack(redis.call('HMGET', KEYS[3], 'ref', 'own'))
if not ref then return 0 end
own = own or ''
local area = redis.call('HGET', ARGV[a + 7] .. ref, 'area') or ''
local pair = ARGV[a + 6] .. ref

-- count adds sign times one pair (first, latest) to the counters of its
-- day and month, under its service and area.
local function count(d, service, ar, first, latest, sign)
  local change = latest - first
  local suffix = ':' .. measure .. '|' .. service .. '|' .. ar .. '|'
  for _, bucket in ipairs({d, string.sub(d, 1, 7)}) do
    local k = ARGV[a + 8] .. bucket
    redis.call('HINCRBY', k, '~v', 1) -- the bucket's version: readers keep it parsed until it changes
    redis.call('HINCRBY', k, 'wb:paired' .. suffix, sign)
    if change ~= 0 then redis.call('HINCRBY', k, 'wb:change' .. suffix, sign * change) end
    if first ~= 0 then redis.call('HINCRBY', k, 'wb:base' .. suffix, sign * first) end
    if change * dir >= meaningful then
      redis.call('HINCRBY', k, 'wb:improved' .. suffix, sign)
    elseif change * dir <= -meaningful then
      redis.call('HINCRBY', k, 'wb:worsened' .. suffix, sign)
    end
  end
end

local old = redis.call('HGET', pair, measure)
if not old then
  redis.call('HSET', pair, measure, table.concat({at, value, at, value, '1', day, own, area}, '|'))
  return 0
end
local f_ms, f_v, l_ms, l_v, scores, l_day, service, o_area =
  string.match(old, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)$')
scores = tonumber(scores)
local changed = false
local nf_ms, nf_v, nl_ms, nl_v, n_day, n_service = f_ms, f_v, l_ms, l_v, l_day, service
if tonumber(at) < tonumber(f_ms) then
  nf_ms, nf_v, changed = at, value, true
elseif tonumber(at) >= tonumber(l_ms) then
  nl_ms, nl_v, n_day, n_service, changed = at, value, day, own, true
end -- a score dated between the first and the latest changes no pair
if changed then
  if scores >= 2 then count(l_day, service, o_area, tonumber(f_v), tonumber(l_v), -1) end
  count(n_day, n_service, area, tonumber(nf_v), tonumber(nl_v), 1)
end
redis.call('HSET', pair, measure, table.concat({nf_ms, nf_v, nl_ms, nl_v, tostring(scores + 1), n_day, n_service, area}, '|'))
if changed then return 1 end
return 0

-- task_write_lib.lua: a Task change written with another change (queue.go
-- taskWriteJSON: {id, key, expect, set, del, hist, entry, now, ev}), only
-- while the Task is at the version it was read at.

-- task_write_ok reports whether the Task of w is still at the version read
-- (true when there is no w).
local function task_write_ok(w)
  return not w or tonumber(redis.call('HGET', w.key, 'v')) == w.expect
end

-- task_write writes w (if any): its fields, its history entry, its place
-- in the modification index tmod, and its Task event on the notification
-- stream events (trimmed to about evmax).
local function task_write(w, tmod, events, evmax)
  if not w then return end
  redis.call('HSET', w.key, unpack(w.set))
  if #w.del > 0 then redis.call('HDEL', w.key, unpack(w.del)) end
  redis.call('RPUSH', w.hist, w.entry)
  redis.call('ZADD', tmod, w.now, w.id)
  redis.call('XADD', events, 'MAXLEN', '~', evmax, '*', unpack(w.ev))
end

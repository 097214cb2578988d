-- audit_lib.lua: prepended (scripts.go) to the scripts that write a
-- request's audit record in the same step as its change.
--
-- audit_add writes the records of a (audit.go scriptAudit, decoded: {key,
-- recs: [[field, value, ...], ...]}; nil: none) to the audit stream. ent,
-- when given, is each record's entity (what the script alone knows, such
-- as the Task a claim took). A script calls it after its checks and before
-- its first write, so that a record that cannot be written stops the
-- script with nothing written.
local function audit_add(a, ent)
  if not a then return end
  for _, rec in ipairs(a.recs) do
    if ent then
      for i = 1, #rec - 1, 2 do
        if rec[i] == 'ent' then rec[i + 1] = ent end
      end
    end
    redis.call('XADD', a.key, '*', unpack(rec))
  end
end

-- audit_arg decodes a script argument carrying scriptAudit JSON ("" for
-- none).
local function audit_arg(arg)
  if arg == nil or arg == '' then return nil end
  return cjson.decode(arg)
end

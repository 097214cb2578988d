-- patient_alias_lib.lua: the other reference a practice's patient goes by.
-- A practice names one patient either by NHS number
-- ("Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|<n>") or by the
-- Patient it sent here ("Patient/<id>"); the indexes are kept under the
-- reference each resource used, and every read of a patient's Consents or
-- referrals reads both, so a Consent sent one way governs referrals sent
-- the other (a deny by NHS number protects a referral sent by Patient/id).
--
-- a = {practice = "<ODS>", pprefix = "<Patient hash key prefix>",
--      idem = "<idempotency hash key>"} (keys.go patientAliasArgs).
-- Returns the alias, or nil when the practice sent no Patient for it.
local PA_NHS = 'https://fhir.nhs.uk/Id/nhs-number'

local function patient_alias(ref, a)
  if not a or not ref or ref == '' then return nil end
  local ident = string.match(ref, '^Patient%?identifier=(.+)$')
  if ident then
    local id = redis.call('HGET', a.idem, a.practice .. '\031Patient\031' .. ident)
    if id and redis.call('HGET', a.pprefix .. id, 'prac') == a.practice then
      return 'Patient/' .. id
    end
    return nil
  end
  local id = string.match(ref, '^Patient/([A-Za-z0-9%-%.]+)$')
  if not id then return nil end
  local v = redis.call('HMGET', a.pprefix .. id, 'json', 'prac')
  if not v[1] or v[2] ~= a.practice then return nil end
  local ok, p = pcall(cjson.decode, v[1])
  if not ok or type(p) ~= 'table' or type(p.identifier) ~= 'table' then return nil end
  for _, i in ipairs(p.identifier) do
    if type(i) == 'table' and i.system == PA_NHS and type(i.value) == 'string' then
      return 'Patient?identifier=' .. PA_NHS .. '|' .. i.value
    end
  end
  return nil
end

-- patient_set_union: the members of the sets prefix..ref and
-- prefix..alias(ref), each once.
local function patient_set_union(prefix, ref, a)
  local out, seen = {}, {}
  local refs = {ref}
  local alias = patient_alias(ref, a)
  if alias then refs[2] = alias end
  for _, r in ipairs(refs) do
    for _, m in ipairs(redis.call('SMEMBERS', prefix .. r)) do
      if not seen[m] then
        seen[m] = true
        out[#out + 1] = m
      end
    end
  end
  return out
end

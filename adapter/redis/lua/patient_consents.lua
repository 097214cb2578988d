-- patient_consents.lua: the Consents one practice sent for one patient, in
-- one round trip instead of a set read and then a read per Consent. The
-- patient is read under both references it goes by (patient_alias_lib.lua,
-- which scripts.go prepends).
--
-- KEYS[1]  the patient's Consent id set (keys.go patientConsents)
-- ARGV[1]  the Consent hash key prefix (keys.go consentPrefix)
-- ARGV[2]  the practice ODS code
-- ARGV[3]  the patient's reference
-- ARGV[4]  the Consent id set key prefix (keys.go patientConsents(""))
-- ARGV[5]  JSON: patient_alias_lib.lua's arguments
--
-- Returns the stored json field of each of the practice's Consents in the
-- sets (Consents another practice sent for the same patient are left out),
-- in set order: compressed (codec.go), or plain JSON when stored before
-- compression. The caller decompresses (consent.go unpackConsents).
local out = {}
for _, id in ipairs(patient_set_union(ARGV[4], ARGV[3], cjson.decode(ARGV[5]))) do
  local v = redis.call('HMGET', ARGV[1] .. id, 'json', 'prac')
  if v[1] and v[1] ~= '' and v[2] == ARGV[2] then
    out[#out + 1] = v[1]
  end
end
return out

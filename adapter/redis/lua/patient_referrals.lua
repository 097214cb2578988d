-- patient_referrals.lua: the ids of the referrals one practice sent for one
-- patient, under both references the patient goes by
-- (patient_alias_lib.lua, which scripts.go prepends).
--
-- KEYS[1]  the patient's referral set (keys.go patientReferrals)
-- ARGV[1]  the referral set key prefix for the practice
--          (keys.go patientReferrals(practice, ""))
-- ARGV[2]  the patient's reference
-- ARGV[3]  JSON: patient_alias_lib.lua's arguments
return patient_set_union(ARGV[1], ARGV[2], cjson.decode(ARGV[3]))

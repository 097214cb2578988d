-- release_slot.lua: give back the capacity slot a Task holds, for a referral
-- that ended or moved on. scripts.go prepends capacity.lua.
--
-- KEYS[1]  the Task hash
-- KEYS[2]  the capacity hash of the service named in the Task's rsv field
-- ARGV[1]  that service id, as the caller read it
--
-- Returns 1 when the slot was released, 0 when the Task holds no slot at
-- that service (none at all, or rsv changed since the caller read it).
return cap_release(KEYS[1], KEYS[2], ARGV[1])

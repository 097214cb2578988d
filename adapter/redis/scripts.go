package redis

import (
	_ "embed"

	goredis "github.com/redis/go-redis/v9"
)

// Lua scripts. Each runs atomically on the server; go-redis sends EVALSHA
// and falls back to EVAL when the script is not cached.
var (
	//go:embed lua/intake.lua
	intakeLua    string
	intakeScript = goredis.NewScript(intakeLua)
)

// Notification scripts (issue 6).
var (
	//go:embed lua/fanout.lua
	fanoutLua    string
	fanoutScript = goredis.NewScript(fanoutLua)
	//go:embed lua/claim.lua
	claimLua    string
	claimScript = goredis.NewScript(claimLua)
	//go:embed lua/settle.lua
	settleLua    string
	settleScript = goredis.NewScript(settleLua)
)

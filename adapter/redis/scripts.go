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

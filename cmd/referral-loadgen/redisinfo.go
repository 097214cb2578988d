package main

import (
	"bufio"
	"context"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// redisCounters are the server-wide counters of Redis INFO stats that a
// run's Redis cost is read from.
type redisCounters struct {
	reads    int64   // total_reads_processed: one per request or pipeline a client sends and waits for
	commands int64   // total_commands_processed: includes commands run by scripts and inside MULTI
	cpu      float64 // used_cpu_user + used_cpu_sys (INFO cpu), seconds
}

// readRedisCounters reads INFO stats; ok is false when Redis cannot be
// asked (the figures are then left out).
func readRedisCounters(ctx context.Context, url string) (redisCounters, bool) {
	if url == "" {
		return redisCounters{}, false
	}
	opts, err := goredis.ParseURL(url)
	if err != nil {
		return redisCounters{}, false
	}
	rdb := goredis.NewClient(opts)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	info, err := rdb.Info(ctx, "stats", "cpu").Result()
	if err != nil {
		return redisCounters{}, false
	}
	return parseRedisCounters(info)
}

func parseRedisCounters(info string) (redisCounters, bool) {
	var c redisCounters
	seen := 0
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		if !ok {
			continue
		}
		if k == "used_cpu_user" || k == "used_cpu_sys" {
			f, _ := strconv.ParseFloat(v, 64)
			c.cpu += f
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "total_reads_processed":
			c.reads, seen = n, seen+1
		case "total_commands_processed":
			c.commands, seen = n, seen+1
		}
	}
	return c, seen == 2
}

// redisCost is what a run cost Redis: CPU seconds, round trips (read events: a single
// command, a pipeline or a MULTI/EXEC block the client waits for counts
// once, a script once however many commands it runs) and commands, less
// the one INFO that read the second figures. Redis is shared by whatever
// else talks to it during the run (the adapter's background jobs, which
// belong in the figure).
func redisCost(before, after redisCounters) redisCounters {
	return redisCounters{reads: after.reads - before.reads - 1, commands: after.commands - before.commands - 1, cpu: after.cpu - before.cpu}
}

// Package redis is the adapter's store: referrals, Tasks, queues and the
// indexes over them, kept in Redis through go-redis v9's UniversalClient so
// that a standalone, Sentinel or Cluster deployment works unchanged. Every
// key of one deployment shares one hash tag ({namespace}), so every Lua
// script touches a single hash slot and is atomic under Cluster too. All
// key names are built in keys.go.
//
// There is one store for each aggregate (store.go lists them: referrals,
// consent, patients, lifecycle and queues, capacity, notifications, audit,
// guards, dialogue, outcomes, stats, retention), all sharing one
// connection; Store bundles them. A Lua script lives in lua/, named after
// the Go method that runs it (scripts.go). When no Redis is configured the
// service runs on Embedded, an in-process Redis-compatible server
// (miniredis); the contract tests run against both (internal/redistest).
package redis

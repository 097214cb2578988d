// Package redis is the adapter's store: referrals, Tasks, queues and the
// indexes over them, kept in Redis through go-redis v9's UniversalClient so
// that a standalone, Sentinel or Cluster deployment works unchanged. Every
// key of one deployment shares one hash tag ({namespace}), so every Lua
// script touches a single hash slot and is atomic under Cluster too. All
// key names are built in keys.go.
package redis

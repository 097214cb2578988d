package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// A Redis that loses its data while the adapter runs (restarted without
// persistence, flushed) gets its services' capacity records back from the
// mappings: without them every service would be taken as open and
// unlimited, its caseload limit ignored.
func TestCapacityRecordsLostFromRedisAreSeededAgain(t *testing.T) {
	h := newHarness(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := h.app.store.Client()
	capKey := strings.TrimSuffix(h.app.store.KeyPattern(), "*") + "cap:money-advice"
	if n, err := c.Exists(ctx, capKey).Result(); err != nil || n != 1 {
		t.Fatalf("money-advice's capacity record before: %d %v", n, err)
	}
	if err := c.Del(ctx, capKey).Err(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(h.logs, nil))
	go keepSeeded(ctx, h.app.caps, log, 10*time.Millisecond)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if n, _ := c.Exists(ctx, capKey).Result(); n == 1 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if max, err := c.HGet(ctx, capKey, "max").Result(); err != nil || max == "" || max == "0" {
		t.Fatalf("money-advice's capacity record after: max %q %v", max, err)
	}
	cancel()
	if !strings.Contains(h.logs.String(), "capacity records were missing") {
		t.Error("the re-seeding was not logged")
	}
}

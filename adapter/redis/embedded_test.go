package redis

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"
)

// The embedded store listens on a loopback port any local process can
// reach: only this process, holding the run's password, gets in.
func TestEmbeddedStoreAdmitsOnlyThisProcess(t *testing.T) {
	c, stop, err := Embedded(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	ctx := context.Background()
	if err := c.Set(ctx, "k", "patient data", 0).Err(); err != nil {
		t.Fatalf("the adapter's own client: %v", err)
	}
	addr := c.(*goredis.Client).Options().Addr
	for _, pw := range []string{"", "guess"} {
		other := goredis.NewClient(&goredis.Options{Addr: addr, Password: pw})
		_, err := other.Get(ctx, "k").Result()
		other.Close()
		if err == nil || !strings.Contains(err.Error(), "NOAUTH") && !strings.Contains(err.Error(), "WRONGPASS") {
			t.Errorf("a client with password %q read the store: %v", pw, err)
		}
	}
}

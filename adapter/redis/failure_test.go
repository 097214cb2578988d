package redis

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/internal/redistest"
)

// Redis refusing writes (out of memory, a read-only replica) is the store
// being unavailable, 503 with Retry-After, not an internal error (500):
// for a script (intake) and for a MULTI/EXEC transaction (a capacity
// change, which Redis aborts with EXECABORT); and the readiness probe
// says so, though Redis still answers a ping.
func TestRedisRefusingWritesIsUnavailable(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a private redis-server")
	}
	srv := redistest.NewServer(t, "--maxmemory-policy", "noeviction")
	c, stop, err := Open(Config{URL: srv.URL(), Namespace: "fail", DialTimeout: time.Second, OpTimeout: time.Second}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	ctx := context.Background()
	st := New(c, "fail")
	now := time.Now()
	sub := func(id string) *adapter.IntakeBatch {
		return &adapter.IntakeBatch{Practice: "A81001", Items: []*adapter.Submission{{Kind: adapter.KindServiceRequest, ID: id,
			JSON: []byte(`{"resourceType":"ServiceRequest"}`), Candidates: []string{"lw"},
			Task: &adapter.Task{ID: id, ReferralID: id, Practice: "A81001", Patient: "Patient/p", Status: adapter.TaskRequested,
				AuthoredOn: now, LastModified: now, Version: 1}}}}
	}
	if err := st.Intake(ctx, sub("before")); err != nil {
		t.Fatal(err)
	}
	if err := st.Writable(ctx); err != nil {
		t.Fatalf("readiness: %v", err)
	}
	for _, refuse := range [][]any{{"CONFIG", "SET", "maxmemory", "1"}, {"REPLICAOF", "127.0.0.1", "1"}} {
		if err := c.Do(ctx, refuse...).Err(); err != nil {
			t.Fatal(err)
		}
		if err := st.Writable(ctx); adapter.ErrorCode(err) != adapter.EUNAVAILABLE {
			t.Errorf("readiness with Redis refusing writes (%v): %v, want unavailable", refuse, err)
		}
		err := st.Intake(ctx, sub("refused"))
		if adapter.ErrorCode(err) != adapter.EUNAVAILABLE {
			t.Errorf("intake with Redis refusing writes (%v): %v, want unavailable", refuse, err)
		}
		_, err = st.UpdateCapacity(ctx, "lw", adapter.Capacity{Status: adapter.CapacityOpen, MaxOpen: 5}, adapter.CapacityChange{At: time.Now()},
			func(*adapter.Capacity) error { return nil })
		if adapter.ErrorCode(err) != adapter.EUNAVAILABLE {
			t.Errorf("a capacity change with Redis refusing writes (%v): %v, want unavailable", refuse, err)
		}
		_ = c.Do(ctx, "CONFIG", "SET", "maxmemory", "0").Err()
		_ = c.Do(ctx, "REPLICAOF", "NO", "ONE").Err()
	}
}

// A write whose connection drops after Redis ran it is not sent again:
// the adapter's scripts are not idempotent (a contact attempt would be
// recorded twice). A proxy in front of Redis forwards the first INCR and
// closes the connection before its reply; the caller gets an error, and
// the counter was incremented once.
func TestALostReplyIsNotRetried(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a private redis-server")
	}
	srv := redistest.NewServer(t)
	proxy := dropFirstReply(t, srv.Addr, []byte("INCR"))
	c, stop, err := Open(Config{URL: "redis://" + proxy, Namespace: "retry", DialTimeout: time.Second, OpTimeout: time.Second}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	ctx := context.Background()
	if v, err := c.Incr(ctx, "n").Result(); err == nil {
		t.Fatalf("the INCR whose reply was lost succeeded: %d", v)
	}
	if n, err := c.Get(ctx, "n").Int(); err != nil || n != 1 {
		t.Errorf("n = %d (%v): the INCR ran %d times, want once", n, err, n)
	}
}

// dropFirstReply listens on a loopback port and forwards to addr. On the
// first connection whose client sends marker, it forwards those bytes,
// waits for Redis to run them, and closes both sides without a reply.
func dropFirstReply(t *testing.T, addr string, marker []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	var once sync.Once
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", addr)
			if err != nil {
				_ = client.Close()
				continue
			}
			go func() { _, _ = io.Copy(client, server); _ = client.Close() }()
			go func() {
				defer server.Close()
				buf := make([]byte, 64<<10)
				for {
					n, err := client.Read(buf)
					if err != nil {
						return
					}
					drop := false
					if bytes.Contains(bytes.ToLower(buf[:n]), bytes.ToLower(marker)) {
						once.Do(func() { drop = true })
					}
					if drop {
						_ = client.Close() // first: Redis's reply has nowhere to go
					}
					if _, err := server.Write(buf[:n]); err != nil || drop {
						time.Sleep(50 * time.Millisecond) // Redis runs the command
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

package redistest

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"
)

// Backend is one store implementation the contract tests run against: a
// real Redis server, or miniredis, the embedded in-process store the
// service runs on when no REDIS_URL is set (redis.Embedded), whose Lua must
// behave the same.
type Backend struct {
	Name string
	// Open returns a client and a fresh key namespace on the backend; the
	// client is closed when the test ends.
	Open func(t testing.TB) (goredis.UniversalClient, string)
	// Own returns a client on a server only this test uses, and functions
	// that stop and restart that server, for tests of an outage.
	Own func(t testing.TB) (c goredis.UniversalClient, ns string, stop, start func())
}

// Backends lists every store backend, for contract tests to run each case
// against all of them:
//
//	for _, b := range redistest.Backends() {
//		t.Run(b.Name, func(t *testing.T) { testX(t, redis.New(b.Open(t))) })
//	}
func Backends() []Backend {
	return []Backend{
		{
			Name: "real Redis",
			Open: func(t testing.TB) (goredis.UniversalClient, string) { return Client(t), Namespace(t) },
			Own: func(t testing.TB) (goredis.UniversalClient, string, func(), func()) {
				srv := NewServer(t)
				start := func() {
					if err := srv.Start(); err != nil {
						t.Fatal(err)
					}
				}
				return ShortTimeouts(t, srv.Addr), "down", srv.Stop, start
			},
		},
		{
			Name: "miniredis",
			Open: func(t testing.TB) (goredis.UniversalClient, string) {
				return ShortTimeouts(t, miniredis.RunT(t).Addr()), "mini"
			},
			Own: func(t testing.TB) (goredis.UniversalClient, string, func(), func()) {
				m := miniredis.RunT(t)
				start := func() {
					if err := m.Restart(); err != nil {
						t.Fatal(err)
					}
				}
				return ShortTimeouts(t, m.Addr()), "mini", m.Close, start
			},
		},
	}
}

// ShortTimeouts is a client on addr configured as the service configures
// one, with short timeouts and retry backoffs so an outage is noticed
// quickly. It is closed when the test ends.
func ShortTimeouts(t testing.TB, addr string) goredis.UniversalClient {
	c := goredis.NewClient(&goredis.Options{Addr: addr, DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second,
		MinRetryBackoff: time.Millisecond, MaxRetryBackoff: 10 * time.Millisecond, DialerRetries: 1, DialerRetryTimeout: time.Millisecond})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// RunContract runs every case of a contract suite on every backend, each
// case on a store that open makes over a fresh client and namespace
// (redis.New), in the order of the cases' names.
func RunContract[S any](t *testing.T, open func(goredis.UniversalClient, string) S, cases map[string]func(*testing.T, S)) {
	t.Helper()
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) {
			for _, name := range slices.Sorted(maps.Keys(cases)) {
				t.Run(name, func(t *testing.T) { cases[name](t, open(b.Open(t))) })
			}
		})
	}
}

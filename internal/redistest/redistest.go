// Package redistest gives tests a real Redis server over a real TCP
// connection. When REDIS_URL is set it is used; otherwise a private
// redis-server is started on a free port for the test binary and killed when
// the binary exits. Every caller gets its own key namespace, so packages that
// run in parallel against one server never see each other's keys.
// Backends lists every store backend (real Redis and miniredis, the
// embedded store) so that one contract suite runs against each.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Server is a private redis-server process owned by a test.
type Server struct {
	Addr string
	dir  string
	args []string
	cmd  *exec.Cmd
	mu   sync.Mutex
}

var (
	sharedOnce sync.Once
	sharedURL  string
	sharedErr  error
)

// URL returns a redis:// URL for a real Redis server: REDIS_URL when set,
// otherwise a private server shared by the whole test binary.
func URL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	sharedOnce.Do(func() {
		dir, err := os.MkdirTemp("", "redistest-")
		if err != nil {
			sharedErr = err
			return
		}
		s := &Server{dir: dir}
		if err := s.Start(); err != nil {
			sharedErr = err
			return
		}
		sharedURL = "redis://" + s.Addr
	})
	if sharedErr != nil {
		t.Fatalf("redistest: %v", sharedErr)
	}
	return sharedURL
}

// Client returns a client connected to a real Redis server. It is closed when
// the test ends.
func Client(t testing.TB) goredis.UniversalClient {
	t.Helper()
	opts, err := goredis.ParseURL(URL(t))
	if err != nil {
		t.Fatalf("redistest: parse url: %v", err)
	}
	c := goredis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("redistest: ping: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Namespace returns a fresh random key namespace for one test.
func Namespace(t testing.TB) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "t" + hex.EncodeToString(b[:])
}

// NewServer starts a private redis-server that only this test uses, for
// tests that stop and restart Redis. It is killed when the test ends.
func NewServer(t testing.TB, extraArgs ...string) *Server {
	t.Helper()
	s := &Server{dir: t.TempDir(), args: extraArgs}
	if err := s.start(); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// URL is the redis:// URL of the server.
func (s *Server) URL() string { return "redis://" + s.Addr }

// Start starts (or restarts, on the same address, directory and
// arguments: an AOF written before a crash is replayed) the server.
func (s *Server) Start() error { return s.start() }

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return fmt.Errorf("redis-server not found on PATH: run ./scripts/test (it installs Debian's redis-server when run as root) or install it yourself (apt-get install redis-server), or set REDIS_URL")
	}
	if s.Addr == "" {
		port, err := freePort()
		if err != nil {
			return err
		}
		s.Addr = "127.0.0.1:" + strconv.Itoa(port)
	}
	_, port, _ := net.SplitHostPort(s.Addr)
	args := append([]string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--hash-max-listpack-value", "256", // as deploy/redis.conf recommends
		"--dir", s.dir, "--logfile", filepath.Join(s.dir, "redis.log")}, s.args...)
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	s.cmd = cmd
	return waitReady(s.Addr, 10*time.Second)
}

// Stop kills the server. The address is kept so Start can bring it back.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitReady(addr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	c := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("redis-server on %s not ready after %s", addr, within)
}

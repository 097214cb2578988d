package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/internal/redistest"
)

// The placement rule is written twice: in Lua (capacity.lua cap_skip,
// cap_for_capacity), which places referrals atomically in the store, and
// in Go (adapter.Capacity.Skip, adapter.SkipReason.Capacity), which the
// directory's capacity status and notes, the promotion trigger and the
// reports read. These tables run every case through both, on every store
// backend, so the two cannot drift apart.

// skipRuleScript runs cap_skip on the capacity hash at KEYS[1] with
// cfg = ARGV[1]; the empty string when the service can take one more
// referral.
var skipRuleScript = withCapacity(`return cap_skip(cap_read(KEYS[1]), cjson.decode(ARGV[1])) or ''`)

// forCapacityScript runs cap_for_capacity on one skip with reason ARGV[1].
var forCapacityScript = withCapacity(`if cap_for_capacity({{svc = 'x', why = ARGV[1]}}) then return 1 end return 0`)

func TestPlacementRuleGoAndLuaAgree(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	week := 7 * 24 * time.Hour
	type hash map[string]any // the capacity hash as stored; nil: none recorded
	cases := []struct {
		name  string
		h     hash
		stale time.Duration
		want  adapter.SkipReason
	}{
		{"no capacity recorded: open and unlimited", nil, week, ""},
		{"open, unlimited", hash{cStatus: "open", cMax: 0, cReserved: 40}, week, ""},
		{"open with room", hash{cStatus: "open", cMax: 3, cReserved: 2}, week, ""},
		{"open, last slot taken", hash{cStatus: "open", cMax: 3, cReserved: 3}, week, adapter.SkipAtCapacity},
		{"open, over its limit", hash{cStatus: "open", cMax: 3, cReserved: 5}, week, adapter.SkipAtCapacity},
		{"waitlist with room", hash{cStatus: "waitlist", cMax: 3, cReserved: 0}, week, adapter.SkipWaitlistOnly},
		{"waitlist and full", hash{cStatus: "waitlist", cMax: 1, cReserved: 1}, week, adapter.SkipWaitlistOnly},
		{"paused", hash{cStatus: "paused", cMax: 3}, week, adapter.SkipPaused},
		{"closed", hash{cStatus: "closed"}, week, adapter.SkipClosed},
		{"paused and stale: paused first", hash{cStatus: "paused", cVerified: now.Add(-30 * 24 * time.Hour).UnixMilli()}, week, adapter.SkipPaused},
		{"closed and stale: closed first", hash{cStatus: "closed", cVerified: now.Add(-30 * 24 * time.Hour).UnixMilli()}, week, adapter.SkipClosed},
		{"open, verified a day ago", hash{cStatus: "open", cMax: 3, cVerified: now.Add(-24 * time.Hour).UnixMilli()}, week, ""},
		{"open, verified exactly the period ago", hash{cStatus: "open", cVerified: now.Add(-week).UnixMilli()}, week, ""},
		{"open, verified a millisecond beyond the period", hash{cStatus: "open", cVerified: now.Add(-week - time.Millisecond).UnixMilli()}, week, adapter.SkipStale},
		{"stale and full: stale first", hash{cStatus: "open", cMax: 1, cReserved: 1, cVerified: now.Add(-30 * 24 * time.Hour).UnixMilli()}, week, adapter.SkipStale},
		{"stale waitlist: stale first", hash{cStatus: "waitlist", cVerified: now.Add(-30 * 24 * time.Hour).UnixMilli()}, week, adapter.SkipStale},
		{"never verified is never stale", hash{cStatus: "open", cMax: 2, cReserved: 1}, week, ""},
		{"staleness off", hash{cStatus: "open", cVerified: now.Add(-365 * 24 * time.Hour).UnixMilli()}, 0, ""},
		{"staleness off, full", hash{cStatus: "open", cMax: 2, cReserved: 2, cVerified: 1}, 0, adapter.SkipAtCapacity},
	}
	for _, b := range redistest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := New(b.Open(t))
			for i, tc := range cases {
				id := fmt.Sprintf("svc%d", i)
				if tc.h != nil {
					if err := s.c.HSet(ctx, s.k.capacity(id), map[string]any(tc.h)).Err(); err != nil {
						t.Fatal(err)
					}
				}
				// Go: the capacity as the store reads it, then Skip.
				c, err := s.Capacity(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				goSkip := c.Skip(now, tc.stale)
				// Lua: cap_skip on the same hash, with the routing cfg the store sends.
				cfg, _ := json.Marshal(map[string]int64{"now": now.UnixMilli(), "stale": tc.stale.Milliseconds()})
				luaSkip, err := skipRuleScript.Run(ctx, s.c, []string{s.k.capacity(id)}, cfg).Text()
				if err != nil {
					t.Fatal(err)
				}
				if goSkip != tc.want || adapter.SkipReason(luaSkip) != tc.want {
					t.Errorf("%s: Go Skip %q, Lua cap_skip %q, want %q", tc.name, goSkip, luaSkip, tc.want)
				}
			}
			reasons := slices.Sorted(func(yield func(adapter.SkipReason) bool) {
				for r := range adapter.SkipPhrases() {
					if !yield(r) {
						return
					}
				}
			})
			for _, r := range reasons {
				n, err := forCapacityScript.Run(ctx, s.c, []string{s.k.capacity("x")}, string(r)).Int()
				if err != nil {
					t.Fatal(err)
				}
				if lua := n == 1; lua != r.Capacity() {
					t.Errorf("skip %q: Go SkipReason.Capacity %v, Lua cap_for_capacity %v", r, r.Capacity(), lua)
				}
			}
		})
	}
}

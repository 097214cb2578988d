package redis

import (
	"context"
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/internal/redistest"
)

// Strings written into a script as Lua literals come back from Redis's
// Lua exactly as they were, whatever bytes they hold.
func TestLuaStringRoundTrip(t *testing.T) {
	c := redistest.Client(t)
	for _, s := range []string{"", "Routed to %s", `say "no"`, `back\slash`, "line\nbreak\ttab", "Café £5 — ok", "nul\x00byte", "\x7f\xff"} {
		got, err := c.Eval(context.Background(), "return "+luaString(s), nil).Text()
		if err != nil || got != s {
			t.Errorf("luaString(%q) evaluates to %q, %v", s, got, err)
		}
	}
}

// The reason constants hold every skip phrase and sentence, as Lua reads
// them.
func TestReasonConstants(t *testing.T) {
	c := redistest.Client(t)
	src := reasonConstants() + "return {CAP_PHRASES[ARGV[1]], CAP_TEXT.routedAfter, CAP_TEXT.rerouted}"
	got, err := c.Eval(context.Background(), src, nil, string(adapter.SkipAtCapacity)).StringSlice()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{adapter.SkipPhrases()[adapter.SkipAtCapacity], adapter.ReasonFormats.RoutedAfter, adapter.ReasonFormats.Rerouted}
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("constants read back as %q, want %q", got, want)
	}
}

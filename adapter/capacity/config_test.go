package capacity_test

import (
	"context"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/capacity"
)

func TestStaleAfterFromTheEnvironment(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 7 * 24 * time.Hour, "14d": 14 * 24 * time.Hour, "36h": 36 * time.Hour, "0": 0} {
		env := map[string]string{}
		if in != "" {
			env["CAPACITY_STALE_AFTER"] = in
		}
		var c capacity.Config
		if err := envconfig.ProcessWith(context.Background(), &envconfig.Config{Target: &c, Lookuper: envconfig.MapLookuper(env)}); err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if c.StaleAfter.Duration() != want || len(c.Validate()) != 0 {
			t.Errorf("%q = %v, want %v", in, c.StaleAfter.Duration(), want)
		}
	}
	for _, bad := range []string{"a week", "7 days", "d"} {
		var c capacity.Config
		err := envconfig.ProcessWith(context.Background(), &envconfig.Config{Target: &c,
			Lookuper: envconfig.MapLookuper(map[string]string{"CAPACITY_STALE_AFTER": bad})})
		if err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if c := (capacity.Config{StaleAfter: -1}); len(c.Validate()) == 0 {
		t.Error("a negative period validated")
	}
}

func TestUpdateValidate(t *testing.T) {
	ok := capacity.Update{Status: adapter.CapacityOpen, MaxOpen: 10, WeeklyIntake: 2}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	err := capacity.Update{Status: "full", MaxOpen: -1, WeeklyIntake: 1e6}.Validate()
	e, isDomain := err.(*adapter.Error)
	if !isDomain || len(e.Issues) != 2 {
		t.Fatalf("want three problems at once, got %v", err)
	}
	got := []string{e.Expression[0], e.Issues[0].Expression[0], e.Issues[1].Expression[0]}
	if got[0] != "status" || got[1] != "maxOpen" || got[2] != "weeklyIntake" {
		t.Errorf("problems at %v", got)
	}
}

package redis_test

import (
	"strings"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/redis"
)

// The wellbeing pair contract (issue 20), on real Redis and on miniredis:
// a referral's first and latest score of a measure by the Observation's
// own date form its pair, counted on the latest's day under the service
// that recorded it and the referral's area; a later score moves the pair,
// an earlier one recorded late replaces the first, one dated in between
// changes nothing, and the counters of every day add up to the final
// pair alone.
func testWellbeingPairs(t *testing.T, s *redis.Store) {
	sub := referral("wb-1", "WB-1", "money-advice")
	sub.Task.Area, sub.Task.Owner = "LS6", "money-advice"
	child := referral("wb-1-c", "WB-1-C", "befriending")
	child.Task.ReferralID, child.Task.PartOf, child.Task.Owner, child.Task.Area = "wb-1", "wb-1", "befriending", ""
	intake(t, s, sub, child)

	n := 0
	score := func(task, measure string, v float64, at string) {
		t.Helper()
		n++
		when, err := time.Parse(time.RFC3339, at)
		if err != nil {
			t.Fatal(err)
		}
		o := adapter.OutcomeRecord{ID: "o" + string(rune('a'+n)), TaskID: task, Type: "Observation", Practice: prac, Recorded: now,
			Score: &adapter.WellbeingScore{Measure: measure, Value: v, At: when}}
		if err := s.SaveOutcome(ctx, o, []byte(`{"resourceType":"Observation"}`)); err != nil {
			t.Fatal(err)
		}
	}
	counts := func(from, to, service string) map[string]int64 {
		t.Helper()
		f, _ := time.Parse(time.DateOnly, from)
		l, _ := time.Parse(time.DateOnly, to)
		var days []string
		for d := f; !d.After(l); d = d.AddDate(0, 0, 1) {
			days = append(days, d.Format(time.DateOnly))
		}
		st, err := s.WellbeingStats(ctx, days)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int64{}
		for k, v := range st {
			if k.Area != "LS6" || (service != "" && k.Service != service) || k.Need != "" {
				if v != 0 {
					t.Errorf("counter %+v = %d: not in LS6 under %s", k, v, service)
				}
				continue
			}
			if v != 0 {
				out[k.Metric] += v
			}
		}
		return out
	}
	same := func(what string, got, want map[string]int64) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: %v, want %v", what, got, want)
			return
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %v, want %v", what, got, want)
				return
			}
		}
	}

	score("wb-1", "swemwbs", 17, "2026-09-01T10:00:00Z")
	same("one score", counts("2026-01-01", "2026-12-31", ""), map[string]int64{})
	score("wb-1", "swemwbs", 23, "2026-10-15T10:00:00+01:00")
	pair := map[string]int64{"wb:paired:swemwbs": 1, "wb:change:swemwbs": 600, "wb:base:swemwbs": 1700, "wb:improved:swemwbs": 1}
	same("baseline 17, follow-up 23, on 15 October", counts("2026-10-15", "2026-10-15", "money-advice"), pair)
	same("October's roll-up", counts("2026-10-01", "2026-10-31", "money-advice"), pair)
	same("the year", counts("2026-01-01", "2026-12-31", ""), pair)

	// A later score, recorded at the onward referral: the pair moves to
	// its day and service; 15 October holds nothing any more.
	score("wb-1-c", "swemwbs", 20, "2026-11-02T09:00:00Z")
	same("15 October after a later score", counts("2026-10-15", "2026-10-15", ""), map[string]int64{})
	moved := map[string]int64{"wb:paired:swemwbs": 1, "wb:change:swemwbs": 300, "wb:base:swemwbs": 1700, "wb:improved:swemwbs": 1}
	same("2 November", counts("2026-11-02", "2026-11-02", "befriending"), moved)
	same("the year after a later score", counts("2026-01-01", "2026-12-31", ""), moved)

	// A score dated before the first, recorded late: the new first. From
	// 26 to 20 is a meaningful fall.
	score("wb-1", "swemwbs", 26, "2026-08-20T12:00:00Z")
	worse := map[string]int64{"wb:paired:swemwbs": 1, "wb:change:swemwbs": -600, "wb:base:swemwbs": 2600, "wb:worsened:swemwbs": 1}
	same("an earlier first recorded late", counts("2026-01-01", "2026-12-31", "befriending"), worse)
	// One dated between the first and the latest changes nothing.
	score("wb-1", "swemwbs", 35, "2026-09-15T12:00:00Z")
	same("a score in between", counts("2026-01-01", "2026-12-31", ""), worse)

	// ONS4 anxiety: lower is better; a change under a point is no change.
	score("wb-1", "ons4-anxiety", 8, "2026-09-01T10:00:00Z")
	score("wb-1", "ons4-anxiety", 5, "2026-11-20T10:00:00Z")
	got := counts("2026-11-20", "2026-11-20", "money-advice")
	if got["wb:paired:ons4-anxiety"] != 1 || got["wb:improved:ons4-anxiety"] != 1 || got["wb:change:ons4-anxiety"] != -300 {
		t.Errorf("anxiety 8 then 5: %v", got)
	}
	score("wb-1", "ons4-life-satisfaction", 6, "2026-09-01T10:00:00Z")
	score("wb-1", "ons4-life-satisfaction", 6.5, "2026-11-21T10:00:00Z")
	got = counts("2026-11-21", "2026-11-21", "money-advice")
	if got["wb:paired:ons4-life-satisfaction"] != 1 || got["wb:change:ons4-life-satisfaction"] != 50 ||
		got["wb:improved:ons4-life-satisfaction"] != 0 || got["wb:worsened:ons4-life-satisfaction"] != 0 {
		t.Errorf("life satisfaction 6 then 6.5: %v", got)
	}
	// Another replica keeps what it read until a bucket changes: it sees a
	// score recorded through this one at once.
	ns := strings.TrimSuffix(strings.TrimPrefix(s.KeyPattern(), "sp:{"), "}:*")
	other := redis.New(s.Client(), ns)
	year := func(st *redis.Store) int64 {
		t.Helper()
		var days []string
		for d := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == 2026; d = d.AddDate(0, 0, 1) {
			days = append(days, d.Format(time.DateOnly))
		}
		m, err := st.WellbeingStats(ctx, days)
		if err != nil {
			t.Fatal(err)
		}
		var paired int64
		for k, v := range m {
			if strings.HasPrefix(k.Metric, "wb:paired:") {
				paired += v
			}
		}
		return paired
	}
	if got := year(other); got != 3 {
		t.Errorf("the other replica reads %d pairs, want 3", got)
	}
	sub2 := referral("wb-2", "WB-2", "money-advice")
	sub2.Task.Area = "LS6"
	intake(t, s, sub2)
	score("wb-2", "swemwbs", 20, "2026-03-01T10:00:00Z")
	score("wb-2", "swemwbs", 30, "2026-04-01T10:00:00Z")
	if got := year(other); got != 4 {
		t.Errorf("the other replica reads %d pairs after a new one, want 4", got)
	}
	if got := year(other); got != 4 {
		t.Errorf("read again: %d pairs, want 4", got)
	}
	// Every outcome is stored and linked as before.
	outs, err := s.Outcomes(ctx, "wb-1")
	if err != nil || len(outs) != 8 {
		t.Errorf("outcomes on the referral's Task: %d, %v", len(outs), err)
	}
	if outs, _ := s.Outcomes(ctx, "wb-1-c"); len(outs) != 1 {
		t.Errorf("outcomes on the onward Task: %d", len(outs))
	}
}

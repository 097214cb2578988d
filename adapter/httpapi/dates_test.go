package httpapi

import (
	"slices"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// _lastUpdated as FHIR's date search reads it (search.html#date): each
// prefix over a day (in Europe/London) and over an instant, whose range is
// the precision it is given to (a second, or a millisecond), checked by
// which of a few moments it lets through.
func TestLastUpdatedRange(t *testing.T) {
	london := adapter.London()
	at := func(s string) time.Time { tm, _ := time.Parse(time.RFC3339Nano, s); return tm }
	// 2026-07-01 in London is 2026-06-30T23:00Z to 2026-07-01T23:00Z.
	moments := map[string]time.Time{
		"before the day":   at("2026-06-30T22:59:59.999Z"),
		"start of the day": time.Date(2026, 7, 1, 0, 0, 0, 0, london),
		"noon":             at("2026-07-01T12:00:00Z"),
		"noon and a bit":   at("2026-07-01T12:00:00.500Z"),
		"end of the day":   at("2026-07-01T22:59:59.999Z"),
		"the next day":     at("2026-07-01T23:00:00Z"),
	}
	cases := map[string][]string{ // value → the moments it lets through
		"2026-07-01":                 {"start of the day", "noon", "noon and a bit", "end of the day"},
		"eq2026-07-01":               {"start of the day", "noon", "noon and a bit", "end of the day"},
		"gt2026-07-01":               {"the next day"},
		"ge2026-07-01":               {"start of the day", "noon", "noon and a bit", "end of the day", "the next day"},
		"lt2026-07-01":               {"before the day"},
		"le2026-07-01":               {"before the day", "start of the day", "noon", "noon and a bit", "end of the day"},
		"gt2026-07-01T12:00:00Z":     {"end of the day", "the next day"}, // beyond that second
		"ge2026-07-01T12:00:00Z":     {"noon", "noon and a bit", "end of the day", "the next day"},
		"lt2026-07-01T12:00:00Z":     {"before the day", "start of the day"},
		"le2026-07-01T12:00:00Z":     {"before the day", "start of the day", "noon", "noon and a bit"},
		"gt2026-07-01T12:00:00.000Z": {"noon and a bit", "end of the day", "the next day"}, // given to the millisecond
		"2026-07-01T12:00:00.5Z":     {"noon and a bit"},                                   // a tenth of a second: [.5, .6)
		"le2026-07-01T12:00:00.4Z":   {"before the day", "start of the day", "noon"},
		"gt2026-07-01T12:00:00.4Z":   {"noon and a bit", "end of the day", "the next day"},
		"2026-07-01T12:00:00Z":       {"noon", "noon and a bit"},
		"2026-07-01T13:00:00+01:00":  {"noon", "noon and a bit"},
	}
	for v, want := range cases {
		after, before, err := lastUpdatedRange(v)
		if err != nil {
			t.Errorf("%s: %v", v, err)
			continue
		}
		for name, m := range moments {
			in := (after.IsZero() || m.After(after)) && (before.IsZero() || m.Before(before))
			if in != slices.Contains(want, name) {
				t.Errorf("%s lets %s (%s) through: %v", v, name, m.Format(time.RFC3339Nano), in)
			}
		}
	}
	for _, bad := range []string{"yesterday", "gt", "xx2026-07-01", "2026-07-01T12:00:00", "2026-13-01", "ne2026-07-01", "sa2026-07-01"} {
		if _, _, err := lastUpdatedRange(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

package redis

import (
	"slices"
	"testing"
	"time"
)

func TestMonthsAndDays(t *testing.T) {
	var days []string
	for d := time.Date(2026, 1, 30, 0, 0, 0, 0, time.UTC); !d.After(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)); d = d.AddDate(0, 0, 1) {
		days = append(days, d.Format(time.DateOnly))
	}
	got := monthsAndDays(days)
	want := []string{"2026-01-30", "2026-01-31", "2026-02", "2026-03-01", "2026-03-02"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

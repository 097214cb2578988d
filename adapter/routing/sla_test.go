package routing_test

import (
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/routing"
)

func TestParseSLA(t *testing.T) {
	good := []struct {
		in   string
		want routing.SLA
		str  string
	}{
		{"", routing.SLA{}, "0s"},
		{"48h", routing.SLA{Duration: 48 * time.Hour}, "48h0m0s"},
		{"30m", routing.SLA{Duration: 30 * time.Minute}, "30m0s"},
		{"1h30m", routing.SLA{Duration: 90 * time.Minute}, "1h30m0s"},
		{"14d", routing.SLA{Days: 14}, "14d"},
		{"2wd", routing.SLA{WorkingDays: 2}, "2wd"},
	}
	for _, c := range good {
		got, err := routing.ParseSLA(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseSLA(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
		if got.String() != c.str {
			t.Errorf("%q renders as %q, want %q", c.in, got.String(), c.str)
		}
	}
	if !(routing.SLA{}).IsZero() || (routing.SLA{Days: 1}).IsZero() || (routing.SLA{WorkingDays: 1}).IsZero() {
		t.Error("IsZero")
	}
	for _, bad := range []string{"soon", "0wd", "-2wd", "1.5wd", "wd", "0d", "-1d", "d", "0h", "-30m", "2 days", "2w"} {
		if got, err := routing.ParseSLA(bad); err == nil {
			t.Errorf("ParseSLA(%q) = %+v, want an error", bad, got)
		}
	}
}

// Deadlines are counted in the network's time zone: working days skip the
// weekend and keep the clock time, across the end of British Summer Time
// too; calendar days keep the clock time; durations are exact.
func TestSLADue(t *testing.T) {
	london := adapter.London()
	if london == time.UTC {
		t.Skip("no time zone data")
	}
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.ParseInLocation("2006-01-02 15:04", s, london)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		sla      routing.SLA
		from, to string
	}{
		{routing.SLA{WorkingDays: 2}, "2026-11-18 10:00", "2026-11-20 10:00"}, // Wednesday → Friday
		{routing.SLA{WorkingDays: 2}, "2026-11-19 16:30", "2026-11-23 16:30"}, // Thursday → Monday
		{routing.SLA{WorkingDays: 1}, "2026-11-20 09:00", "2026-11-23 09:00"}, // Friday → Monday
		{routing.SLA{WorkingDays: 1}, "2026-11-21 11:00", "2026-11-23 11:00"}, // Saturday → Monday
		{routing.SLA{WorkingDays: 1}, "2026-11-22 11:00", "2026-11-23 11:00"}, // Sunday → Monday
		{routing.SLA{WorkingDays: 5}, "2026-11-20 09:00", "2026-11-27 09:00"}, // a week
		{routing.SLA{WorkingDays: 10}, "2026-11-16 09:00", "2026-11-30 09:00"},
		// The clocks go back on Sunday 25 October 2026: still 16:00 on Tuesday.
		{routing.SLA{WorkingDays: 2}, "2026-10-23 16:00", "2026-10-27 16:00"},
		{routing.SLA{Days: 14}, "2026-10-20 10:00", "2026-11-03 10:00"},
		{routing.SLA{Days: 1}, "2026-03-28 10:00", "2026-03-29 10:00"}, // clocks go forward
		{routing.SLA{Duration: 48 * time.Hour}, "2026-11-20 10:00", "2026-11-22 10:00"},
		{routing.SLA{}, "2026-11-20 10:00", "2026-11-20 10:00"},
	}
	for _, c := range cases {
		got := c.sla.Due(at(c.from))
		if want := at(c.to); !got.Equal(want) {
			t.Errorf("%s from %s: due %s, want %s", c.sla, c.from, got.In(london), want)
		}
	}
	// Over the change of the clocks a 24-hour duration is not a day.
	if got := (routing.SLA{Duration: 24 * time.Hour}).Due(at("2026-10-24 10:00")); !got.Equal(at("2026-10-25 09:00")) {
		t.Errorf("24h over the end of BST: %s", got.In(london))
	}
}

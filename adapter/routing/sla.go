package routing

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SLA is a first-contact deadline: a plain duration, a number of calendar
// days, or a number of working days (Monday to Friday; bank holidays are
// not modelled).
type SLA struct {
	Duration    time.Duration
	Days        int // calendar days: the same clock time, whatever the clocks do
	WorkingDays int
}

// IsZero reports whether no deadline applies.
func (s SLA) IsZero() bool { return s.Duration == 0 && s.Days == 0 && s.WorkingDays == 0 }

// String renders the SLA as it is written in mappings.
func (s SLA) String() string {
	switch {
	case s.WorkingDays > 0:
		return strconv.Itoa(s.WorkingDays) + "wd"
	case s.Days > 0:
		return strconv.Itoa(s.Days) + "d"
	}
	return s.Duration.String()
}

// ParseSLA parses "48h", "30m", "14d" (calendar days) or "2wd" (working days).
func ParseSLA(v string) (SLA, error) {
	switch {
	case v == "":
		return SLA{}, nil
	case strings.HasSuffix(v, "wd"):
		n, err := strconv.Atoi(strings.TrimSuffix(v, "wd"))
		if err != nil || n <= 0 {
			return SLA{}, fmt.Errorf("invalid working-day deadline %q (want e.g. 2wd)", v)
		}
		return SLA{WorkingDays: n}, nil
	case strings.HasSuffix(v, "d"):
		n, err := strconv.Atoi(strings.TrimSuffix(v, "d"))
		if err != nil || n <= 0 {
			return SLA{}, fmt.Errorf("invalid day deadline %q (want e.g. 14d)", v)
		}
		return SLA{Days: n}, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return SLA{}, fmt.Errorf("invalid deadline %q (want e.g. 48h, 14d or 2wd)", v)
	}
	return SLA{Duration: d}, nil
}

// Due returns the deadline counted from t. Days and working days are
// counted in t's location: the deadline falls at the same clock time n
// (working) days later, across a change of the clocks too.
func (s SLA) Due(t time.Time) time.Time {
	if s.Days > 0 {
		return t.AddDate(0, 0, s.Days)
	}
	if s.WorkingDays == 0 {
		return t.Add(s.Duration)
	}
	d := t
	for n := 0; n < s.WorkingDays; {
		d = d.AddDate(0, 0, 1)
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n++
		}
	}
	return d
}

package adapter_test

import (
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
)

func TestPostcodeDistrict(t *testing.T) {
	for in, want := range map[string]string{
		"LS6 1AA": "LS6", "ls6 1aa": "LS6", " LS6  1AA ": "LS6", "LS61AA": "LS6", "SW1A 1AA": "SW1A",
		"SW1A1AA": "SW1A", "M1 1AE": "M1", "M11AE": "M1", "": "", "12345": "", "LS-6 1AA": "", "not a postcode": "",
	} {
		if got := adapter.PostcodeDistrict(in); got != want {
			t.Errorf("PostcodeDistrict(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAgeOn(t *testing.T) {
	born := time.Date(2008, 3, 14, 0, 0, 0, 0, time.UTC)
	for on, want := range map[string]int{"2026-03-13": 17, "2026-03-14": 18, "2026-12-31": 18} {
		d, _ := time.Parse(time.DateOnly, on)
		if got := adapter.AgeOn(born, d); got != want {
			t.Errorf("age on %s = %d, want %d", on, got, want)
		}
	}
}

func TestIneligible(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	svc := &adapter.Service{Areas: []string{"LS6", "ls7"}, Eligibility: adapter.Eligibility{MinAge: 18, MaxAge: 66}}
	cases := []struct {
		name string
		f    adapter.PatientFacts
		want adapter.SkipReason
	}{
		{"unknown", adapter.PatientFacts{}, ""},
		{"17", adapter.PatientFacts{BornEarliest: day("2008-06-02"), BornLatest: day("2008-06-02")}, adapter.SkipIneligibleAge},
		{"18 today", adapter.PatientFacts{BornEarliest: day("2008-06-01"), BornLatest: day("2008-06-01")}, ""},
		{"born in 2008: maybe 18", adapter.PatientFacts{BornEarliest: day("2008-01-01"), BornLatest: day("2008-12-31")}, ""},
		{"born in 2009: under 18", adapter.PatientFacts{BornEarliest: day("2009-01-01"), BornLatest: day("2009-12-31")}, adapter.SkipIneligibleAge},
		{"67", adapter.PatientFacts{BornEarliest: day("1959-01-01"), BornLatest: day("1959-05-31")}, adapter.SkipIneligibleAge},
		{"66", adapter.PatientFacts{BornEarliest: day("1959-06-02"), BornLatest: day("1959-06-02")}, ""},
		{"in the area", adapter.PatientFacts{District: "LS7"}, ""},
		{"outside the area", adapter.PatientFacts{District: "LS9"}, adapter.SkipIneligibleArea},
	}
	for _, c := range cases {
		if got := svc.Ineligible(c.f, now); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	anyone := &adapter.Service{}
	if got := anyone.Ineligible(adapter.PatientFacts{District: "ZZ1", BornEarliest: day("2025-01-01"), BornLatest: day("2025-01-01")}, now); got != "" {
		t.Errorf("a service with no limits excluded someone: %q", got)
	}
}

package adapter_test

import (
	"slices"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// The age band at referral: exact when the birth date is, unknown when a
// year-only birth date straddles two bands, or nothing is known.
func TestAgeBand(t *testing.T) {
	at := day(2026, 11, 23)
	cases := []struct {
		earliest, latest time.Time
		want             string
	}{
		{day(1958, 3, 14), day(1958, 3, 14), "65-74"},   // 68
		{day(2008, 11, 23), day(2008, 11, 23), "18-24"}, // 18 today
		{day(2008, 11, 24), day(2008, 11, 24), "0-17"},  // 18 tomorrow
		{day(1941, 1, 1), day(1941, 1, 1), "85+"},
		{day(1990, 1, 1), day(1990, 12, 31), "35-44"}, // a year, 35 or 36 on the day
		{day(1991, 1, 1), day(1991, 12, 31), ""},      // 34 or 35: band in doubt
		{time.Time{}, time.Time{}, ""},                // no birth date
		{day(2027, 1, 1), day(2027, 1, 1), ""},        // born after the referral: nonsense
	}
	for _, c := range cases {
		if got := adapter.AgeBand(adapter.PatientFacts{BornEarliest: c.earliest, BornLatest: c.latest}, at); got != c.want {
			t.Errorf("born %s..%s: band %q, want %q", c.earliest.Format(time.DateOnly), c.latest.Format(time.DateOnly), got, c.want)
		}
	}
	if got := adapter.AgeBands(); len(got) != 10 || got[0] != "0-17" || got[2] != "25-34" || got[9] != "unknown" {
		t.Errorf("bands %v", got)
	}
	for g, want := range map[string]string{"female": "female", "male": "male", "other": "other", "unknown": "", "": ""} {
		if got := adapter.SexOf(g); got != want {
			t.Errorf("SexOf(%q) = %q", g, got)
		}
	}
}

// Reach counters: one per dimension in the referral's area, unknown for
// what no Patient told; feedback per practice only; none on an onward
// referral's Task; a practice cancelling its own referral is no feedback.
func TestReachCounters(t *testing.T) {
	now := day(2026, 11, 23)
	task := &adapter.Task{ID: "t1", ReferralID: "t1", Owner: "lw", Practice: "A81001", Source: adapter.SourceNurse,
		Area: "LS6", Need: "debt", AgeBand: "45-54", AuthoredOn: now, Status: adapter.TaskAccepted}
	keys := adapter.ReachKeys(task, adapter.StageReferred)
	var metrics []string
	for _, k := range keys {
		if k.Area != "LS6" || k.Service != "" || k.Need != "" {
			t.Errorf("reach key %+v: area only", k)
		}
		metrics = append(metrics, k.Metric)
	}
	want := []string{"reach:referred:source:nurse", "reach:referred:practice:A81001", "reach:referred:age:45-54", "reach:referred:sex:unknown"}
	if !slices.Equal(metrics, want) {
		t.Errorf("metrics %v, want %v", metrics, want)
	}
	if fb := adapter.EngageKey(task, adapter.EngageFeedback); fb.Metric != "engage:feedback:2026-11:A81001" || fb.Area != "LS6" {
		t.Errorf("feedback key %+v", fb)
	}
	// Received late on 31 October in London (British Summer Time has ended):
	// October's, and so its feedback months later.
	late := *task
	late.AuthoredOn = time.Date(2026, 10, 31, 23, 30, 0, 0, time.UTC)
	if k := adapter.EngageKey(&late, adapter.EngageReferred); k.Metric != "engage:referred:2026-10:A81001" {
		t.Errorf("received month %s", k.Metric)
	}
	late.AuthoredOn = time.Date(2026, 5, 31, 23, 30, 0, 0, time.UTC) // 00:30 on 1 June in London
	if k := adapter.EngageKey(&late, adapter.EngageReferred); k.Metric != "engage:referred:2026-06:A81001" {
		t.Errorf("received month in summer time %s", k.Metric)
	}
	if kind, month, prac, ok := adapter.SplitEngageMetric("feedback:2026-11:A81001"); !ok || kind != "feedback" || month != "2026-11" || prac != "A81001" {
		t.Errorf("split engage %q %q %q %v", kind, month, prac, ok)
	}
	stage, dim, value, ok := adapter.SplitReachMetric("contacted:age:85+")
	if !ok || stage != "contacted" || dim != "age" || value != "85+" {
		t.Errorf("split %q %q %q %v", stage, dim, value, ok)
	}
	if _, _, _, ok := adapter.SplitReachMetric("contacted"); ok {
		t.Error("a malformed reach metric splits")
	}

	has := func(keys []adapter.StatKey, metric string) bool {
		return slices.ContainsFunc(keys, func(k adapter.StatKey) bool { return k.Metric == metric })
	}
	lw := adapter.Actor{Role: "link-worker"}
	accept := adapter.HistoryEntry{At: now, By: lw, From: "requested", To: "accepted"}
	got := adapter.TransitionStats(task, accept, false, false)
	if !has(got, "engage:feedback:2026-11:A81001") || has(got, "reach:contacted:source:nurse") {
		t.Errorf("accept: %v", got)
	}
	contact := adapter.HistoryEntry{At: now, By: lw, From: "accepted", To: "accepted", BusinessStatus: "contacted"}
	got = adapter.TransitionStats(task, contact, true, false)
	if !has(got, "reach:contacted:source:nurse") || !has(got, "reach:contacted:sex:unknown") || has(got, "engage:feedback:2026-11:A81001") {
		t.Errorf("contact: %v", got)
	}
	done := adapter.HistoryEntry{At: now, By: lw, From: "in-progress", To: "completed"}
	if got = adapter.TransitionStats(task, done, false, false); !has(got, "reach:completed:age:45-54") || !has(got, adapter.MCompleted) {
		t.Errorf("complete: %v", got)
	}
	cancel := adapter.HistoryEntry{At: now, By: adapter.Actor{Role: "practice"}, From: "requested", To: "cancelled"}
	if got = adapter.TransitionStats(task, cancel, false, false); has(got, "engage:feedback:2026-11:A81001") {
		t.Errorf("the practice's own cancellation counted as feedback: %v", got)
	}
	child := *task
	child.ID, child.PartOf = "c1", "t1"
	if got = adapter.TransitionStats(&child, contact, true, true); slices.ContainsFunc(got, func(k adapter.StatKey) bool { return !k.PracticeCounted() }) {
		t.Errorf("an onward referral's Task counted reach again: %v", got)
	}
	if !adapter.ArrivalMetric("reach:referred:sex:male") || !adapter.ArrivalMetric(adapter.MReceived) || adapter.ArrivalMetric("reach:contacted:sex:male") ||
		!adapter.ArrivalMetric("engage:referred:2026-11:A81001") || adapter.ArrivalMetric("engage:feedback:2026-11:A81001") {
		t.Error("ArrivalMetric")
	}
}

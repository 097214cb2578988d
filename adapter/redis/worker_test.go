package redis_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/redis"
	"github.com/social-prescribing/referral-adapter/internal/redistest"
)

// The store's part of the link worker's side (issue 19), on a real Redis
// server and on miniredis, which must behave the same.
func TestWorkerStore(t *testing.T) {
	redistest.RunContract(t, redis.New, map[string]func(*testing.T, *redis.Store){
		"PatientOf finds the practice's Patient by id or by the identifier it was created under": testPatientOf,
		"contact attempts are kept in order, bounded, and the first success is told once":        testContactAttempts,
		"retention takes the contact attempts and the Patient with the last referral":            testRetentionTakesAttemptsAndPatient,
	})
}

const nhsRef = "Patient?identifier=" + adapter.SystemNHSNumber + "|9000000009"

func testPatientOf(t *testing.T, s *redis.Store) {
	intake(t, s, patient("p1", "9000000009"))
	for _, ref := range []string{"Patient/p1", nhsRef} {
		id, body, err := s.PatientOf(ctx, prac, ref)
		if err != nil || id != "p1" || string(body) != `{"resourceType":"Patient","id":"p1"}` {
			t.Errorf("%s: %q %s %v", ref, id, body, err)
		}
	}
	for name, q := range map[string][2]string{
		"another practice, by id":         {"B82002", "Patient/p1"},
		"another practice, by NHS":        {"B82002", nhsRef},
		"another NHS number":              {prac, "Patient?identifier=" + adapter.SystemNHSNumber + "|9000000017"},
		"an id never stored":              {prac, "Patient/p2"},
		"not a Patient reference":         {prac, "Organization/p1"},
		"an absolute or nested reference": {prac, "Patient/p1/_history/1"},
		"nothing":                         {prac, ""},
	} {
		if _, _, err := s.PatientOf(ctx, q[0], q[1]); adapter.ErrorCode(err) != adapter.ENOTFOUND {
			t.Errorf("%s: %v, want not found", name, err)
		}
	}
}

func attempt(task string, r adapter.ContactResult, at time.Time) adapter.ContactAttempt {
	return adapter.ContactAttempt{ID: fmt.Sprintf("a-%d", at.UnixNano()), TaskID: task, Result: r, Channel: adapter.ChannelPhone,
		Note: "rang the mobile", At: at, By: "lw-sam", Name: "Sam Okafor", Org: "U00001"}
}

func testContactAttempts(t *testing.T, s *redis.Store) {
	if got, err := s.ContactAttempts(ctx, "t1"); err != nil || len(got) != 0 {
		t.Fatalf("no attempts: %v %v", got, err)
	}
	want := []adapter.ContactAttempt{attempt("t1", adapter.ContactNoAnswer, now), attempt("t1", adapter.ContactReached, now.Add(time.Hour)),
		attempt("t1", adapter.ContactReached, now.Add(2*time.Hour))}
	firsts := []bool{false, true, false}
	// Each attempt's report counters are counted with it: every one's, the
	// Task's first's, and its first successful one's once each.
	key := func(m string) adapter.StatKey {
		return adapter.StatKey{Metric: m, Service: "money-advice", Need: "debt"}
	}
	inc := func(m string) []adapter.StatInc { return []adapter.StatInc{{Day: "2026-11-20", Key: key(m), N: 1}} }
	stats := adapter.AttemptStats{Every: inc("every"), First: inc("first"), Reached: inc("reached")}
	for i, a := range want {
		n, first, err := s.AddContactAttempt(ctx, a, stats)
		if err != nil || n != i+1 || first != firsts[i] {
			t.Errorf("attempt %d: n %d first %v %v", i, n, first, err)
		}
	}
	got, err := s.ContactAttempts(ctx, "t1")
	if err != nil || !slices.EqualFunc(got, want, func(a, b adapter.ContactAttempt) bool {
		return a.ID == b.ID && a.Result == b.Result && a.Note == b.Note && a.At.Equal(b.At) && a.Org == b.Org && a.Name == b.Name
	}) {
		t.Errorf("attempts %+v %v", got, err)
	}
	if other, _ := s.ContactAttempts(ctx, "t2"); len(other) != 0 {
		t.Errorf("another Task's attempts: %v", other)
	}
	// Bounded: past the limit nothing is written.
	for i := len(want); i < redis.MaxContactAttempts; i++ {
		if _, _, err := s.AddContactAttempt(ctx, attempt("t1", adapter.ContactNoAnswer, now.Add(time.Duration(i)*time.Minute)), adapter.AttemptStats{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.AddContactAttempt(ctx, attempt("t1", adapter.ContactReached, now.Add(time.Hour*99)), stats); adapter.ErrorCode(err) != adapter.EBUSINESSRULE {
		t.Errorf("past the limit: %v", err)
	}
	counted, err := s.DayStats(ctx, []string{"2026-11-20"})
	if err != nil || counted[key("every")] != 3 || counted[key("first")] != 1 || counted[key("reached")] != 1 {
		t.Errorf("counted every %d, first %d, reached %d (want 3, 1, 1): %v",
			counted[key("every")], counted[key("first")], counted[key("reached")], err)
	}
	if got, _ := s.ContactAttempts(ctx, "t1"); len(got) != redis.MaxContactAttempts {
		t.Errorf("%d attempts kept", len(got))
	}
}

func testRetentionTakesAttemptsAndPatient(t *testing.T, s *redis.Store) {
	ctx := context.Background()
	old := time.Now().Add(-9 * 365 * 24 * time.Hour)
	// Two referrals for the same patient, one naming them by NHS number and
	// one by the transaction's Patient/{id}; and the Patient.
	sub := func(id, pat string) *adapter.Submission {
		return &adapter.Submission{Kind: adapter.KindServiceRequest, ID: id, JSON: []byte(`{"resourceType":"ServiceRequest"}`),
			Candidates: []string{"lw"}, Task: &adapter.Task{ID: id, ReferralID: id, Practice: prac, Patient: pat,
				Status: adapter.TaskRequested, AuthoredOn: old, LastModified: old, Version: 1}}
	}
	p := patient("p1", "9000000009")
	p.JSON = []byte(`{"resourceType":"Patient","id":"p1","identifier":[{"system":"` + adapter.SystemNHSNumber + `","value":"9000000009"}]}`)
	intake(t, s, p, sub("byNHS", nhsRef), sub("byID", "Patient/p1"))
	if _, _, err := s.AddContactAttempt(ctx, attempt("byNHS", adapter.ContactNoAnswer, old), adapter.AttemptStats{}); err != nil {
		t.Fatal(err)
	}
	closeLongAgoAndPurge(t, s, "byNHS", old)
	if got, _ := s.ContactAttempts(ctx, "byNHS"); len(got) != 0 {
		t.Errorf("attempts kept after retention: %v", got)
	}
	if _, _, err := s.PatientOf(ctx, prac, "Patient/p1"); err != nil {
		t.Errorf("the Patient went while a referral still names it: %v", err)
	}
	closeLongAgoAndPurge(t, s, "byID", old)
	for _, ref := range []string{"Patient/p1", nhsRef} {
		if _, _, err := s.PatientOf(ctx, prac, ref); adapter.ErrorCode(err) != adapter.ENOTFOUND {
			t.Errorf("the Patient is kept after its last referral (%s): %v", ref, err)
		}
	}
	if ids := find(t, s, prac, adapter.IdemKey{Kind: adapter.KindPatient, Identifier: adapter.Identifier{System: adapter.SystemNHSNumber, Value: "9000000009"}}); ids[0] != "" {
		t.Errorf("the Patient's idempotency entry is kept: %v", ids)
	}
}

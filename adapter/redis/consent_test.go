package redis

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/internal/redistest"
)

// The consent-hold contract (issue 4), against a real Redis server and
// miniredis.
func TestConsentHoldContract(t *testing.T) {
	redistest.RunContract(t, New, map[string]func(*testing.T, *Store){
		"a held referral is indexed, not queued":         testHeldIndexed,
		"a release places the referral by capacity":      testReleasePlaces,
		"moves are written all or none":                  testMovesAllOrNone,
		"a pause leaves queue and lease, keeps the slot": testPauseKeepsSlot,
		"an expiry cancels and gives back the slot":      testExpireReleasesSlot,
		"holds no longer waiting drop out of the index":  testStaleHolds,
		"a patient's consents are their practice's only": testPatientConsents,
	})
}

const testPatient = "Patient/p1"

// intakeHeld writes a new referral that waits for consent, meant for the
// first of steps.
func intakeHeld(t *testing.T, s *Store, id string, steps ...adapter.RouteStep) *adapter.Task {
	t.Helper()
	task := &adapter.Task{ID: id, ReferralID: id, Practice: "A81001", Patient: testPatient, Status: adapter.TaskRequested,
		Priority: adapter.PriorityRoutine, AuthoredOn: t0, LastModified: t0, Version: 1, Route: steps}
	task.AwaitConsent(t0)
	sub := &adapter.Submission{Kind: adapter.KindServiceRequest, ID: id, JSON: []byte(`{}`), Task: task,
		Candidates: []string{steps[0].Service}}
	if err := s.Intake(context.Background(), &adapter.IntakeBatch{Practice: "A81001", Now: t0, Routing: testRouting(t0),
		Items: []*adapter.Submission{sub}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Task(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func holds(t *testing.T, s *Store) []string {
	t.Helper()
	ids, err := s.c.ZRange(context.Background(), s.k.consentHolds(), 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func releaseMove(t *adapter.Task, at time.Time) adapter.ConsentMove {
	after := *t
	h := after.ReleaseConsentHold(at)
	return adapter.ConsentMove{Kind: adapter.MoveRelease, Before: *t, After: &after, History: h}
}

func testHeldIndexed(t *testing.T, s *Store) {
	task := intakeHeld(t, s, "t1", svc("a"), svc("lw"))
	if !task.ConsentHeld() || task.Owner != "a" || task.Reserved != "" || !task.HeldSince.Equal(t0) || task.HeldFrom != adapter.TaskRequested {
		t.Fatalf("held Task %+v", task)
	}
	if q := queued(t, s, "a"); len(q) > 0 || reserved(t, s, "a") != 0 {
		t.Fatalf("held referral queued %v or holding a slot", q)
	}
	if h := holds(t, s); !slices.Equal(h, []string{"t1"}) {
		t.Fatalf("consent holds %v", h)
	}
	refs, err := s.PatientReferrals(context.Background(), "A81001", testPatient)
	if err != nil || len(refs) != 1 || refs[0].ID != "t1" {
		t.Fatalf("patient referrals %v %v", refs, err)
	}
	if other, _ := s.PatientReferrals(context.Background(), "B82002", testPatient); len(other) != 0 {
		t.Fatalf("another practice sees the patient's referrals: %v", other)
	}
}

func testReleasePlaces(t *testing.T, s *Store) {
	setCap(t, s, "a", adapter.CapacityOpen, 1, 0, t0)
	task := intakeHeld(t, s, "t1", svc("a"), svc("lw"))
	moves := []adapter.ConsentMove{releaseMove(task, t0.Add(time.Hour))}
	if err := s.ApplyConsentMoves(context.Background(), testRouting(t0.Add(time.Hour)), moves); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Task(context.Background(), "t1")
	m := moves[0]
	if got.Status != adapter.TaskRequested || got.ConsentHeld() || got.Reserved != "a" || m.Placement == nil || m.Placement.Owner != "a" ||
		m.After.Reserved != "a" || m.After.StatusReason != got.StatusReason {
		t.Fatalf("released Task %+v, move %+v", got, m)
	}
	if q := queued(t, s, "a"); !slices.Equal(q, []string{"t1"}) || reserved(t, s, "a") != 1 || len(holds(t, s)) != 0 {
		t.Fatalf("queued %v, reserved %d, holds %v", q, reserved(t, s, "a"), holds(t, s))
	}
	hist, _ := s.History(context.Background(), "t1")
	if len(hist) != 1 || hist[0].To != "requested" {
		t.Fatalf("history %+v", hist)
	}
	// Full now: the next released referral goes on to the link workers.
	next := intakeHeld(t, s, "t2", svc("a"), svc("lw"))
	if err := s.ApplyConsentMoves(context.Background(), testRouting(t0.Add(time.Hour)), []adapter.ConsentMove{releaseMove(next, t0.Add(time.Hour))}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Task(context.Background(), "t2"); got.Owner != "lw" || !slices.Contains(queued(t, s, "lw"), "t2") {
		t.Fatalf("second release: %+v", got)
	}
}

func testMovesAllOrNone(t *testing.T, s *Store) {
	a := intakeHeld(t, s, "t1", svc("a"))
	b := intakeHeld(t, s, "t2", svc("a"))
	if err := s.c.HIncrBy(context.Background(), s.k.task("t2"), fVersion, 1).Err(); err != nil { // someone changed t2
		t.Fatal(err)
	}
	err := s.ApplyConsentMoves(context.Background(), testRouting(t0), []adapter.ConsentMove{releaseMove(a, t0), releaseMove(b, t0)})
	if !errors.Is(err, adapter.ErrStaleConsentMove) {
		t.Fatalf("stale move: %v", err)
	}
	for _, id := range []string{"t1", "t2"} {
		if got, _ := s.Task(context.Background(), id); !got.ConsentHeld() {
			t.Errorf("%s changed although the batch was refused: %+v", id, got)
		}
	}
	if q := queued(t, s, "a"); len(q) > 0 || len(holds(t, s)) != 2 {
		t.Fatalf("queued %v, holds %v", q, holds(t, s))
	}
}

// placeAndClaim writes a referral placed at "a" (with a slot) and claims it.
func placeAndClaim(t *testing.T, s *Store) *adapter.Task {
	t.Helper()
	sub := place(t, s, testRouting(t0), "t1", svc("a"), svc("lw"))
	sub.Task.Patient = testPatient
	if _, err := s.Claim(context.Background(), "a", "lw1", "Sam", "Link worker", t0, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Task(context.Background(), "t1")
	if got.Claimant != "lw1" || got.Reserved != "a" {
		t.Fatalf("claimed Task %+v", got)
	}
	return got
}

func pause(t *testing.T, s *Store, task *adapter.Task, at time.Time) *adapter.Task {
	t.Helper()
	after := *task
	h := after.PauseForConsent(at)
	if err := s.ApplyConsentMoves(context.Background(), nil, []adapter.ConsentMove{{Kind: adapter.MovePause, Before: *task, After: &after, History: h}}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Task(context.Background(), task.ID)
	return got
}

func testPauseKeepsSlot(t *testing.T, s *Store) {
	task := placeAndClaim(t, s)
	got := pause(t, s, task, t0.Add(time.Minute))
	if !got.ConsentHeld() || got.Claimant != "" || !got.LeaseUntil.IsZero() || got.Reserved != "a" || got.HeldFrom != adapter.TaskRequested {
		t.Fatalf("paused Task %+v", got)
	}
	leases, _ := s.c.ZRange(context.Background(), s.k.leases("a"), 0, -1).Result()
	if q := queued(t, s, "a"); len(q) > 0 || len(leases) > 0 || reserved(t, s, "a") != 1 || !slices.Equal(holds(t, s), []string{"t1"}) {
		t.Fatalf("queued %v, leases %v, reserved %d, holds %v", q, leases, reserved(t, s, "a"), holds(t, s))
	}
	// Released: back in its queue with the slot it kept, not a second one.
	m := releaseMove(got, t0.Add(time.Hour))
	if err := s.ApplyConsentMoves(context.Background(), testRouting(t0.Add(time.Hour)), []adapter.ConsentMove{m}); err != nil {
		t.Fatal(err)
	}
	if q := queued(t, s, "a"); !slices.Equal(q, []string{"t1"}) || reserved(t, s, "a") != 1 {
		t.Fatalf("resumed: queued %v, reserved %d", q, reserved(t, s, "a"))
	}
}

func testExpireReleasesSlot(t *testing.T, s *Store) {
	got := pause(t, s, placeAndClaim(t, s), t0.Add(time.Minute))
	after := *got
	h := after.ExpireConsentHold(30*24*time.Hour, t0.Add(31*24*time.Hour))
	if err := s.ApplyConsentMoves(context.Background(), nil, []adapter.ConsentMove{{Kind: adapter.MoveExpire, Before: *got, After: &after, History: h}}); err != nil {
		t.Fatal(err)
	}
	final, _ := s.Task(context.Background(), "t1")
	if final.Status != adapter.TaskCancelled || final.Reserved != "" || final.ConsentHeld() || reserved(t, s, "a") != 0 || len(holds(t, s)) != 0 {
		t.Fatalf("expired Task %+v, reserved %d, holds %v", final, reserved(t, s, "a"), holds(t, s))
	}
}

func testStaleHolds(t *testing.T, s *Store) {
	intakeHeld(t, s, "t1", svc("a"))
	intakeHeld(t, s, "t2", svc("a"))
	if _, err := s.UpdateTask(context.Background(), "t1", func(task *adapter.Task) (adapter.TaskChange, error) {
		h, err := task.Apply(adapter.Transition{To: adapter.TaskCancelled, Reason: "patient moved away", At: t0})
		return adapter.TaskChange{History: h}, err
	}); err != nil {
		t.Fatal(err)
	}
	got, err := s.ConsentHolds(context.Background(), t0, 10)
	if err != nil || len(got) != 1 || got[0].ID != "t2" {
		t.Fatalf("holds %v %v", got, err)
	}
	if h := holds(t, s); !slices.Equal(h, []string{"t2"}) {
		t.Fatalf("index keeps a referral no longer waiting: %v", h)
	}
	if none, _ := s.ConsentHolds(context.Background(), t0.Add(-time.Second), 10); len(none) != 0 {
		t.Fatalf("holds begun after the cutoff: %v", none)
	}
}

func testPatientConsents(t *testing.T, s *Store) {
	for i, practice := range []string{"A81001", "B82002"} {
		id := []string{"c1", "c2"}[i]
		sub := &adapter.Submission{Kind: adapter.KindConsent, ID: id, JSON: []byte(`{"id":"` + id + `"}`), Patient: testPatient}
		if err := s.Intake(context.Background(), &adapter.IntakeBatch{Practice: practice, Now: t0, Items: []*adapter.Submission{sub}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.PatientConsents(context.Background(), "A81001", testPatient)
	if err != nil || len(got) != 1 || string(got[0]) != `{"id":"c1"}` {
		t.Fatalf("consents %q %v", got, err)
	}
}

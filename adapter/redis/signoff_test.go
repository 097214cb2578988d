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

// The clinician sign-off hold contract (issue 11), against a real Redis
// server and miniredis.
func TestSignOffHoldContract(t *testing.T) {
	redistest.RunContract(t, New, map[string]func(*testing.T, *Store){
		"a referral held for sign-off is indexed, not queued, holds no place": testSignOffHeldIndexed,
		"a sign-off release places the referral by capacity":                  testSignOffReleasePlaces,
		"a sign-off without consent moves it to the consent holds":            testSignOffAwaitsConsent,
		"a stale sign-off writes nothing":                                     testSignOffStale,
		"an expired sign-off hold is cancelled and leaves the index":          testSignOffExpire,
		"sign-off holds no longer waiting drop out of the index":              testSignOffStaleHolds,
		"a sign-off carries the request's audit record, or is not made":       testSignOffAudited,
	})
}

var clinician = adapter.Actor{Subject: "dr.a@A81001", Role: "practice", Org: "A81001"}

// intakeSignOffHeld writes a new referral that waits for sign-off, meant
// for the first of steps.
func intakeSignOffHeld(t *testing.T, s *Store, id string, steps ...adapter.RouteStep) *adapter.Task {
	t.Helper()
	task := &adapter.Task{ID: id, ReferralID: id, Practice: "A81001", Patient: testPatient, Status: adapter.TaskRequested,
		Priority: adapter.PriorityRoutine, AuthoredOn: t0, LastModified: t0, Version: 1, Route: steps,
		Source: adapter.SourceCareNavigator}
	task.AwaitSignOff(t0)
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

func signOffHolds(t *testing.T, s *Store) []string {
	t.Helper()
	ids, err := s.c.ZRange(context.Background(), s.k.signOffHolds(), 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func signOffMove(task *adapter.Task, consented bool, at time.Time) adapter.ConsentMove {
	after := *task
	h := after.SignOff(clinician, adapter.SourceGP, consented, at)
	kind := adapter.MoveRelease
	if !consented {
		kind = adapter.MoveAwaitConsent
	}
	return adapter.ConsentMove{Kind: kind, Before: *task, After: &after, History: h}
}

func testSignOffHeldIndexed(t *testing.T, s *Store) {
	setCap(t, s, "a", adapter.CapacityOpen, 1, 0, t0)
	task := intakeSignOffHeld(t, s, "t1", svc("a"), svc("lw"))
	if !task.SignOffHeld() || task.ConsentHeld() || task.Owner != "a" || task.Reserved != "" || !task.SignOffSince.Equal(t0) ||
		task.BusinessStatus.Code != adapter.BSAwaitingSignOff || task.Source != adapter.SourceCareNavigator {
		t.Fatalf("held Task %+v", task)
	}
	if q := queued(t, s, "a"); len(q) > 0 || reserved(t, s, "a") != 0 {
		t.Fatalf("held referral queued %v or holding a place (%d)", q, reserved(t, s, "a"))
	}
	if h := signOffHolds(t, s); !slices.Equal(h, []string{"t1"}) || len(holds(t, s)) != 0 {
		t.Fatalf("sign-off holds %v, consent holds %v", h, holds(t, s))
	}
	if got, err := s.SignOffHolds(context.Background(), t0, 10); err != nil || len(got) != 1 || got[0].ID != "t1" {
		t.Fatalf("SignOffHolds %v %v", got, err)
	}
	if got, _ := s.ConsentHolds(context.Background(), t0, 10); len(got) != 0 {
		t.Fatalf("a sign-off hold among the consent holds: %v", got)
	}
}

func testSignOffReleasePlaces(t *testing.T, s *Store) {
	setCap(t, s, "a", adapter.CapacityOpen, 1, 0, t0)
	task := intakeSignOffHeld(t, s, "t1", svc("a"), svc("lw"))
	at := t0.Add(time.Hour)
	moves := []adapter.ConsentMove{signOffMove(task, true, at)}
	if err := s.ApplyConsentMoves(context.Background(), testRouting(at), moves); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Task(context.Background(), "t1")
	if got.Status != adapter.TaskRequested || got.Held() || got.Reserved != "a" || !got.SignOffSince.IsZero() ||
		moves[0].Placement == nil || moves[0].Placement.Owner != "a" || !got.LastModified.Equal(at) {
		t.Fatalf("released Task %+v, move %+v", got, moves[0])
	}
	if q := queued(t, s, "a"); !slices.Equal(q, []string{"t1"}) || reserved(t, s, "a") != 1 || len(signOffHolds(t, s)) != 0 {
		t.Fatalf("queued %v, reserved %d, sign-off holds %v", q, reserved(t, s, "a"), signOffHolds(t, s))
	}
	hist, _ := s.History(context.Background(), "t1")
	if len(hist) != 1 || hist[0].By != clinician || hist[0].To != "requested" || !hist[0].At.Equal(at) ||
		hist[0].Reason != "signed off by a clinician (gp)" {
		t.Fatalf("history %+v", hist)
	}
	// Full now: the next signed-off referral is placed by capacity at that
	// moment: on to the link workers.
	next := intakeSignOffHeld(t, s, "t2", svc("a"), svc("lw"))
	if err := s.ApplyConsentMoves(context.Background(), testRouting(at), []adapter.ConsentMove{signOffMove(next, true, at)}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Task(context.Background(), "t2"); got.Owner != "lw" || !slices.Contains(queued(t, s, "lw"), "t2") {
		t.Fatalf("second release: %+v", got)
	}
}

func testSignOffAwaitsConsent(t *testing.T, s *Store) {
	task := intakeSignOffHeld(t, s, "t1", svc("a"), svc("lw"))
	at := t0.Add(time.Hour)
	if err := s.ApplyConsentMoves(context.Background(), nil, []adapter.ConsentMove{signOffMove(task, false, at)}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Task(context.Background(), "t1")
	if !got.ConsentHeld() || got.SignOffHeld() || got.BusinessStatus.Code != adapter.BSAwaitingConsent || !got.HeldSince.Equal(at) {
		t.Fatalf("signed off without consent: %+v", got)
	}
	if q := queued(t, s, "a"); len(q) > 0 || len(signOffHolds(t, s)) != 0 || !slices.Equal(holds(t, s), []string{"t1"}) {
		t.Fatalf("queued %v, sign-off holds %v, consent holds %v", q, signOffHolds(t, s), holds(t, s))
	}
	// Consent then releases it as any consent hold.
	if err := s.ApplyConsentMoves(context.Background(), testRouting(at), []adapter.ConsentMove{releaseMove(got, at.Add(time.Hour))}); err != nil {
		t.Fatal(err)
	}
	if q := queued(t, s, "a"); !slices.Equal(q, []string{"t1"}) || reserved(t, s, "a") != 1 || len(holds(t, s)) != 0 {
		t.Fatalf("after consent: queued %v, reserved %d, holds %v", q, reserved(t, s, "a"), holds(t, s))
	}
}

func testSignOffStale(t *testing.T, s *Store) {
	task := intakeSignOffHeld(t, s, "t1", svc("a"))
	m := signOffMove(task, true, t0)
	if _, err := s.UpdateTask(context.Background(), "t1", func(tk *adapter.Task) (adapter.TaskChange, error) {
		h, err := tk.Apply(adapter.Transition{To: adapter.TaskCancelled, Reason: "sent in error", At: t0})
		return adapter.TaskChange{History: h}, err
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.ApplyConsentMoves(context.Background(), testRouting(t0), []adapter.ConsentMove{m}); !errors.Is(err, adapter.ErrStaleConsentMove) {
		t.Fatalf("sign-off of a cancelled referral: %v", err)
	}
	if got, _ := s.Task(context.Background(), "t1"); got.Status != adapter.TaskCancelled || len(queued(t, s, "a")) != 0 || reserved(t, s, "a") != 0 {
		t.Fatalf("a stale sign-off wrote: %+v", got)
	}
}

func testSignOffExpire(t *testing.T, s *Store) {
	task := intakeSignOffHeld(t, s, "t1", svc("a"))
	after := *task
	h := after.ExpireSignOffHold(14*24*time.Hour, t0.Add(15*24*time.Hour))
	if err := s.ApplyConsentMoves(context.Background(), nil, []adapter.ConsentMove{{Kind: adapter.MoveExpire, Before: *task, After: &after, History: h}}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Task(context.Background(), "t1")
	if got.Status != adapter.TaskCancelled || got.BusinessStatus.Code != adapter.BSSignOffExpired || got.Held() ||
		len(signOffHolds(t, s)) != 0 || reserved(t, s, "a") != 0 {
		t.Fatalf("expired Task %+v, holds %v", got, signOffHolds(t, s))
	}
}

func testSignOffStaleHolds(t *testing.T, s *Store) {
	intakeSignOffHeld(t, s, "t1", svc("a"))
	intakeSignOffHeld(t, s, "t2", svc("a"))
	if _, err := s.UpdateTask(context.Background(), "t1", func(task *adapter.Task) (adapter.TaskChange, error) {
		h, err := task.Apply(adapter.Transition{To: adapter.TaskCancelled, Reason: "sent in error", At: t0})
		return adapter.TaskChange{History: h}, err
	}); err != nil {
		t.Fatal(err)
	}
	got, err := s.SignOffHolds(context.Background(), t0, 10)
	if err != nil || len(got) != 1 || got[0].ID != "t2" {
		t.Fatalf("holds %v %v", got, err)
	}
	if h := signOffHolds(t, s); !slices.Equal(h, []string{"t2"}) {
		t.Fatalf("index keeps a referral no longer waiting: %v", h)
	}
	if none, _ := s.SignOffHolds(context.Background(), t0.Add(-time.Second), 10); len(none) != 0 {
		t.Fatalf("holds begun after the cutoff: %v", none)
	}
}

func testSignOffAudited(t *testing.T, s *Store) {
	ctx := context.Background()
	task := intakeSignOffHeld(t, s, "t1", svc("a"))
	slot := &adapter.AuditSlot{Base: adapter.AuditRecord{Time: t0, Subject: clinician.Subject, Role: clinician.Role, Org: clinician.Org,
		Kind: "rest", Action: adapter.AuditExecute, Entity: "Task/t1/sign-off"}}
	actx := adapter.WithAuditSlot(ctx, slot)
	// With the audit stream broken the sign-off is not made.
	auditKey := s.k.audit()
	if err := s.c.Set(ctx, auditKey, "not a stream", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.ApplyConsentMoves(actx, testRouting(t0), []adapter.ConsentMove{signOffMove(task, true, t0)}); err == nil {
		t.Fatal("a sign-off with the audit stream broken answered no error")
	}
	if got, _ := s.Task(ctx, "t1"); !got.SignOffHeld() || len(queued(t, s, "a")) != 0 || len(slot.Written()) != 0 {
		t.Fatalf("the sign-off was made without its record: %+v, queued %v", got, queued(t, s, "a"))
	}
	if err := s.c.Del(ctx, auditKey).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.ApplyConsentMoves(actx, testRouting(t0), []adapter.ConsentMove{signOffMove(task, true, t0)}); err != nil {
		t.Fatal(err)
	}
	recs, err := s.AuditRecords(ctx, adapter.AuditQuery{Limit: 10})
	if err != nil || len(recs) != 1 || recs[0].Entity != "Task/t1/sign-off" || recs[0].Outcome != 200 || len(slot.Written()) != 1 {
		t.Errorf("audit after the sign-off: %+v %v (slot %d)", recs, err, len(slot.Written()))
	}
}

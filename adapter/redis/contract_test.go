package redis_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/redis"
	"github.com/social-prescribing/referral-adapter/internal/redistest"
)

// The store contract: what intake and the read paths rely on. It runs
// against a real Redis server over a real connection, and against
// miniredis, the embedded development store, which must behave the same.
//
// Each case runs on every backend redistest lists; the outage case on a
// server of its own that it stops and restarts.
func TestStoreContract(t *testing.T) {
	redistest.RunContract(t, redis.New, map[string]func(*testing.T, *redis.Store){
		"intake writes the referral, its Task, queue entry and idempotency key":                           testIntakeWritesEverything,
		"intake places by capacity when routing is given":                                                 testIntakeWithRouting,
		"a Task that is not requested is not queued":                                                      testIntakeNotQueued,
		"queues are ordered by priority, then deadline":                                                   testQueueOrder,
		"an identifier taken concurrently writes nothing":                                                 testIdempotencyConflict,
		"existing items are not written again":                                                            testExistingNotRewritten,
		"idempotency is per practice and resource type":                                                   testIdempotencyScope,
		"reads of absent ids are ENOTFOUND":                                                               testAbsent,
		"TasksForReferral lists the referral's Task and its onward referrals":                             testTasksForReferral,
		"IntakeLookups answers as the reads it stands for, with or without cached scripts":                testIntakeLookups,
		"intake says how many referrals a Consent's patient had when it was written":                      testConsentReferrals,
		"a claim passes by the referrals it is told to, leaving them in place":                            testClaimExcluding,
		"an unclaim gives a claim back as if it had not been made":                                        testUnclaim,
		"referrals are found by identifier across practices":                                              testReferralsByIdentifier,
		"intake writes the request's audit records in the same step, or nothing":                          testIntakeAudit,
		"claims, leases, Task changes, messages, outcomes and capacity carry the request's audit record":  testChangesAudited,
		"wellbeing pairs are the first and latest score by their own date, counted anonymously":           testWellbeingPairs,
		"blocks of a window's request budget are handed out until it is spent, never more":                testTakeTokens,
		"a Subscription is created and deleted with the request's audit record":                           testSubscriptionAudited,
		"a Patient is replaced only at the version it was read, by its practice, with its audit record":   testReplacePatient,
		"every Task change is announced by the step that stores it; a refused one is not":                 testChangesAnnounced,
		"the closure summary an ending owes is kept with it until sent, and purged with the referral":     testClosureOutbox,
		"a Task change's report counters are counted by the step that stores it; a refused one's are not": testChangesCounted,
		"an onward referral declined tells its parent Task in the same step, or neither is written":       testParentToldInTheSameStep,
		"an outcome is stored with its Task's change in one step, or neither is":                          testOutcomeWithItsTaskChange,
		"a release from a hold counts its placing in the same step; a refused one counts nothing":         testReleaseCounted,
		"a safeguarding Flag is stored with its disclosure record and counter, or neither":                testFlagWithItsRecords,
		"a Patient is stored with the changes it tells its live referrals' Tasks, or neither":             testPatientTellsInTheSameStep,
		"a Patient's next version is stored with the changes it tells, or neither":                        testReplacePatientTells,
		"a Patient changed between its read and its replacement is not replaced":                          testReplacePatientRace,
		"a Task change decided on a read another change overtook is decided again":                        testUpdateTaskReadsAgain,
	})
	for _, b := range redistest.Backends() {
		t.Run(b.Name+"/Redis down is EUNAVAILABLE, and the store recovers", func(t *testing.T) {
			c, ns, stop, start := b.Own(t)
			testRedisDown(t, redis.New(c, ns), stop, start)
		})
	}
}

var (
	ctx  = context.Background()
	now  = time.Date(2026, 11, 20, 10, 15, 0, 0, time.UTC)
	prac = "A81001"
)

func ident(v string) adapter.Identifier {
	return adapter.Identifier{System: "https://fhir.a81001.example.nhs.uk/Id/social-prescribing-referral", Value: v}
}

// referral is a new ServiceRequest submission with its Task, to be routed
// to the first of candidates.
func referral(id, identifier string, candidates ...string) *adapter.Submission {
	bs, _ := adapter.BusinessStatus(adapter.BSRouted)
	return &adapter.Submission{
		Kind: adapter.KindServiceRequest, ID: id, Identifier: ident(identifier), Candidates: candidates,
		JSON: []byte(fmt.Sprintf(`{"resourceType":"ServiceRequest","id":%q}`, id)),
		Task: &adapter.Task{
			ID: id, ReferralID: id, Practice: prac, Patient: "Patient/p-" + id, Requester: "PractitionerRole/r1",
			Status: adapter.TaskRequested, BusinessStatus: bs, Priority: adapter.PriorityRoutine, Rule: "debt-and-benefits",
			AuthoredOn: now, LastModified: now, Version: 1, FirstContactDue: now.Add(48 * time.Hour),
		},
	}
}

func consent(id, identifier, patient string) *adapter.Submission {
	return &adapter.Submission{Kind: adapter.KindConsent, ID: id, Patient: patient,
		Identifier: adapter.Identifier{System: "https://fhir.a81001.example.nhs.uk/Id/consent", Value: identifier},
		JSON:       []byte(fmt.Sprintf(`{"resourceType":"Consent","id":%q}`, id))}
}

func patient(id, nhs string) *adapter.Submission {
	return &adapter.Submission{Kind: adapter.KindPatient, ID: id,
		Identifier: adapter.Identifier{System: adapter.SystemNHSNumber, Value: nhs},
		JSON:       []byte(fmt.Sprintf(`{"resourceType":"Patient","id":%q}`, id))}
}

func intake(t *testing.T, s *redis.Store, items ...*adapter.Submission) {
	t.Helper()
	if err := s.Intake(ctx, &adapter.IntakeBatch{Practice: prac, Now: now, Items: items}); err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := adapter.ErrorCode(err); got != code {
		t.Errorf("error %v (code %q), want %s", err, got, code)
	}
}

func find(t *testing.T, s *redis.Store, practice string, keys ...adapter.IdemKey) []string {
	t.Helper()
	ids, err := s.FindExisting(ctx, practice, keys)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func queued(t *testing.T, s *redis.Store, svc string) []string {
	t.Helper()
	ids, err := s.QueuedTaskIDs(ctx, svc)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// snapshot reads every key of the store's namespace with its value, so a
// test can tell that an operation wrote nothing.
func snapshot(t *testing.T, s *redis.Store) map[string]string {
	t.Helper()
	c := s.Client()
	keys, err := c.Keys(ctx, s.KeyPattern()).Result()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, k := range keys {
		typ, err := c.Type(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		var v any
		switch typ {
		case "string":
			v, err = c.Get(ctx, k).Result()
		case "hash":
			v, err = c.HGetAll(ctx, k).Result()
		case "set":
			var m []string
			m, err = c.SMembers(ctx, k).Result()
			slices.Sort(m)
			v = m
		case "zset":
			v, err = c.ZRangeWithScores(ctx, k, 0, -1).Result()
		case "list":
			v, err = c.LRange(ctx, k, 0, -1).Result()
		default:
			v = typ
		}
		if err != nil {
			t.Fatal(err)
		}
		out[k] = fmt.Sprintf("%s %v", typ, v)
	}
	return out
}

func testIntakeWritesEverything(t *testing.T, s *redis.Store) {
	sr := referral("sr1", "SP-1", "money-advice", "riverside-link-workers")
	pat := patient("p1", "9000000009")
	con := consent("c1", "CON-1", "Patient/p1")
	intake(t, s, pat, sr, con)

	if sr.Task.Owner != "money-advice" {
		t.Errorf("Task owner %q, want the first candidate", sr.Task.Owner)
	}
	body, err := s.ServiceRequest(ctx, "sr1")
	if err != nil || string(body) != string(sr.JSON) {
		t.Errorf("ServiceRequest = %s, %v", body, err)
	}
	task, err := s.Task(ctx, "sr1")
	if err != nil {
		t.Fatal(err)
	}
	want := *sr.Task
	if task.ID != want.ID || task.ReferralID != "sr1" || task.Practice != prac || task.Patient != want.Patient ||
		task.Requester != want.Requester || task.Owner != "money-advice" || task.Status != adapter.TaskRequested ||
		task.BusinessStatus != want.BusinessStatus || task.Priority != want.Priority || task.Rule != want.Rule ||
		!task.AuthoredOn.Equal(now) || !task.LastModified.Equal(now) || task.Version != 1 || !task.FirstContactDue.Equal(want.FirstContactDue) {
		t.Errorf("stored Task\n%+v\nwant\n%+v", *task, want)
	}
	if q := queued(t, s, "money-advice"); !slices.Equal(q, []string{"sr1"}) {
		t.Errorf("queue %v", q)
	}
	if q := queued(t, s, "riverside-link-workers"); len(q) != 0 {
		t.Errorf("queued at a fallback too: %v", q)
	}
	ids := find(t, s, prac,
		adapter.IdemKey{Kind: adapter.KindServiceRequest, Identifier: ident("SP-1")},
		adapter.IdemKey{Kind: adapter.KindConsent, Identifier: con.Identifier},
		adapter.IdemKey{Kind: adapter.KindPatient, Identifier: pat.Identifier},
		adapter.IdemKey{Kind: adapter.KindServiceRequest, Identifier: ident("SP-2")})
	if !slices.Equal(ids, []string{"sr1", "c1", "p1", ""}) {
		t.Errorf("FindExisting = %q", ids)
	}
	if b, p, err := s.Consent(ctx, "c1"); err != nil || string(b) != string(con.JSON) || p != prac {
		t.Errorf("Consent = %s %q %v", b, p, err)
	}
	if b, p, err := s.Patient(ctx, "p1"); err != nil || string(b) != string(pat.JSON) || p != prac {
		t.Errorf("Patient = %s %q %v", b, p, err)
	}
	if ids := find(t, s, prac); len(ids) != 0 {
		t.Errorf("FindExisting with no keys = %v", ids)
	}
}

func testIntakeWithRouting(t *testing.T, s *redis.Store) {
	sr := referral("sr1", "SP-1", "money-advice", "riverside-link-workers")
	sr.Route = []adapter.RouteStep{{Service: "money-advice", Skip: adapter.SkipIneligibleAge}, {Service: "riverside-link-workers"}}
	routing := &adapter.Routing{Now: now, StaleAfter: time.Hour, LinkWorker: "riverside-link-workers",
		Names: map[string]string{"money-advice": "Money Advice", "riverside-link-workers": "Link Workers"}}
	if err := s.Intake(ctx, &adapter.IntakeBatch{Practice: prac, Now: now, Routing: routing, Items: []*adapter.Submission{sr}}); err != nil {
		t.Fatal(err)
	}
	if sr.Placement == nil || sr.Placement.Owner != "riverside-link-workers" || !sr.Placement.Reserved || sr.Task.Owner != "riverside-link-workers" {
		t.Fatalf("placement %+v, Task owner %q", sr.Placement, sr.Task.Owner)
	}
	task, err := s.Task(ctx, "sr1")
	if err != nil || task.Owner != "riverside-link-workers" || task.Reserved != "riverside-link-workers" || task.StatusReason == "" {
		t.Errorf("stored Task %+v, %v", task, err)
	}
	if q := queued(t, s, "riverside-link-workers"); !slices.Equal(q, []string{"sr1"}) {
		t.Errorf("queue %v", q)
	}
	if ids := find(t, s, prac, adapter.IdemKey{Kind: adapter.KindServiceRequest, Identifier: ident("SP-1")}); ids[0] != "sr1" {
		t.Errorf("idempotency key %q", ids)
	}
}

// A referral stopped at intake (a safety screen) is stored with its Task
// for the record, but owned by no service and in no queue.
func testIntakeNotQueued(t *testing.T, s *redis.Store) {
	sr := referral("sr1", "SP-1")
	sr.Task.Status = adapter.TaskRejected
	intake(t, s, sr)
	task, err := s.Task(ctx, "sr1")
	if err != nil || task.Status != adapter.TaskRejected || task.Owner != "" {
		t.Fatalf("Task %+v, %v", task, err)
	}
	for _, k := range snapshotKeys(t, s) {
		if strings.Contains(k, ":q:") {
			t.Errorf("queue key written: %s", k)
		}
	}
	other := referral("sr2", "SP-2", "money-advice")
	other.Task.Status = adapter.TaskOnHold
	intake(t, s, other)
	if q := queued(t, s, "money-advice"); len(q) != 0 || other.Task.Owner != "money-advice" {
		t.Errorf("an on-hold Task was queued (%v) or not owned (%q)", q, other.Task.Owner)
	}
}

func snapshotKeys(t *testing.T, s *redis.Store) []string {
	t.Helper()
	var out []string
	for k := range snapshot(t, s) {
		out = append(out, k)
	}
	return out
}

func testQueueOrder(t *testing.T, s *redis.Store) {
	late := referral("late", "SP-1", "lw")
	late.Task.FirstContactDue = now.Add(72 * time.Hour)
	early := referral("early", "SP-2", "lw")
	early.Task.FirstContactDue = now.Add(24 * time.Hour)
	urgent := referral("urgent", "SP-3", "lw")
	urgent.Task.Priority, urgent.Task.FirstContactDue = adapter.PriorityUrgent, now.Add(96*time.Hour)
	undated := referral("undated", "SP-4", "lw")
	undated.Task.FirstContactDue = time.Time{}
	intake(t, s, late, early)
	intake(t, s, urgent, undated)
	if q := queued(t, s, "lw"); !slices.Equal(q, []string{"urgent", "undated", "early", "late"}) {
		t.Errorf("queue order %v, want urgent first, then by deadline (authored time when none)", q)
	}
}

// Intake is all or nothing: when an identifier of the batch was taken
// between the caller's lookup and the write, nothing of the batch is
// written and ErrConcurrentCreate tells the caller to look up again.
func testIdempotencyConflict(t *testing.T, s *redis.Store) {
	intake(t, s, referral("first", "SP-1", "money-advice"))
	before := snapshot(t, s)

	pat := patient("p2", "9000000017")
	con := consent("c2", "CON-2", "Patient/p2")
	again := referral("second", "SP-1", "money-advice") // lost the race
	err := s.Intake(ctx, &adapter.IntakeBatch{Practice: prac, Now: now, Items: []*adapter.Submission{pat, con, again}})
	if !errors.Is(err, adapter.ErrConcurrentCreate) {
		t.Fatalf("Intake = %v, want ErrConcurrentCreate", err)
	}
	wantCode(t, err, adapter.ECONFLICT)
	after := snapshot(t, s)
	if len(after) != len(before) {
		t.Errorf("keys before %d, after %d", len(before), len(after))
	}
	for k, v := range after {
		if before[k] != v {
			t.Errorf("%s changed:\n  before %s\n  after  %s", k, before[k], v)
		}
	}
	if ids := find(t, s, prac, adapter.IdemKey{Kind: adapter.KindServiceRequest, Identifier: ident("SP-1")}); ids[0] != "first" {
		t.Errorf("identifier now names %q", ids[0])
	}
	if again.Task.Owner != "" || again.Placement != nil {
		t.Errorf("the refused submission was given an owner %q / placement %+v", again.Task.Owner, again.Placement)
	}
	_, err = s.ServiceRequest(ctx, "second")
	wantCode(t, err, adapter.ENOTFOUND)
}

func testExistingNotRewritten(t *testing.T, s *redis.Store) {
	first := referral("sr1", "SP-1", "money-advice")
	intake(t, s, first)
	before := snapshot(t, s)
	again := referral("sr1", "SP-1", "housing-options")
	again.Existing = "sr1"
	again.JSON = []byte(`{"resourceType":"ServiceRequest","id":"sr1","status":"changed"}`)
	intake(t, s, again)
	after := snapshot(t, s)
	for k, v := range after {
		if before[k] != v {
			t.Errorf("%s changed by an existing item", k)
		}
	}
	if len(after) != len(before) || again.Task.Owner != "" {
		t.Errorf("keys %d → %d; owner %q", len(before), len(after), again.Task.Owner)
	}
}

func testIdempotencyScope(t *testing.T, s *redis.Store) {
	intake(t, s, referral("sr1", "SP-1", "money-advice"))
	sr := adapter.IdemKey{Kind: adapter.KindServiceRequest, Identifier: ident("SP-1")}
	if ids := find(t, s, "B82002", sr); ids[0] != "" {
		t.Errorf("another practice's identifier matched: %q", ids)
	}
	if ids := find(t, s, prac, adapter.IdemKey{Kind: adapter.KindConsent, Identifier: ident("SP-1")}); ids[0] != "" {
		t.Errorf("another resource type's identifier matched: %q", ids)
	}
	if ids := find(t, s, prac, adapter.IdemKey{Kind: adapter.KindServiceRequest}); ids[0] != "" {
		t.Errorf("an empty identifier matched: %q", ids)
	}
	// Another practice may use the same identifier for its own referral.
	other := referral("sr2", "SP-1", "money-advice")
	if err := s.Intake(ctx, &adapter.IntakeBatch{Practice: "B82002", Now: now, Items: []*adapter.Submission{other}}); err != nil {
		t.Fatal(err)
	}
	if a, b := find(t, s, prac, sr), find(t, s, "B82002", sr); a[0] != "sr1" || b[0] != "sr2" {
		t.Errorf("per-practice identifiers: %q %q", a, b)
	}
	// A submission without an identifier writes no idempotency key.
	anon := referral("sr3", "", "money-advice")
	anon.Identifier = adapter.Identifier{}
	intake(t, s, anon)
	if _, err := s.ServiceRequest(ctx, "sr3"); err != nil {
		t.Error(err)
	}
}

func testAbsent(t *testing.T, s *redis.Store) {
	_, err := s.ServiceRequest(ctx, "nope")
	wantCode(t, err, adapter.ENOTFOUND)
	_, _, err = s.Consent(ctx, "nope")
	wantCode(t, err, adapter.ENOTFOUND)
	_, _, err = s.Patient(ctx, "nope")
	wantCode(t, err, adapter.ENOTFOUND)
	_, err = s.Task(ctx, "nope")
	wantCode(t, err, adapter.ENOTFOUND)
	tasks, err := s.TasksForReferral(ctx, "nope")
	if err != nil || len(tasks) != 0 {
		t.Errorf("TasksForReferral(absent) = %v, %v", tasks, err)
	}
	// A Task id is not a ServiceRequest id of another kind of resource.
	intake(t, s, consent("c1", "CON-1", "Patient/p1"))
	_, err = s.ServiceRequest(ctx, "c1")
	wantCode(t, err, adapter.ENOTFOUND)
	_, _, err = s.Patient(ctx, "c1")
	wantCode(t, err, adapter.ENOTFOUND)
}

func testTasksForReferral(t *testing.T, s *redis.Store) {
	intake(t, s, referral("sr1", "SP-1", "riverside-link-workers"), referral("sr2", "SP-2", "money-advice"))
	tasks, err := s.TasksForReferral(ctx, "sr1")
	if err != nil || len(tasks) != 1 || tasks[0].ID != "sr1" {
		t.Fatalf("TasksForReferral = %v, %v", tasks, err)
	}
	// A link worker refers on: the onward Task is listed after the
	// referral's own.
	_, err = s.UpdateTask(ctx, "sr1", func(task *adapter.Task) (adapter.TaskChange, error) {
		task.Status, task.Version, task.LastModified = adapter.TaskAccepted, task.Version+1, now.Add(time.Hour)
		child := *task
		child.ID, child.PartOf, child.Owner, child.Status, child.Version = "child1", "sr1", "befriending", adapter.TaskRequested, 1
		return adapter.TaskChange{History: adapter.HistoryEntry{At: now.Add(time.Hour)}, Child: &child}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tasks, err = s.TasksForReferral(ctx, "sr1")
	if err != nil || len(tasks) != 2 || tasks[0].ID != "sr1" || tasks[1].ID != "child1" || tasks[1].PartOf != "sr1" {
		t.Errorf("TasksForReferral after referring on = %+v, %v", tasks, err)
	}
	if other, _ := s.TasksForReferral(ctx, "sr2"); len(other) != 1 || other[0].ID != "sr2" {
		t.Errorf("another referral's Tasks: %+v", other)
	}
}

// With Redis unreachable every operation fails with EUNAVAILABLE (the
// caller answers 503), never an internal error, never a hang.
func testRedisDown(t *testing.T, s *redis.Store, stop, start func()) {
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("before the outage: %v", err)
	}
	stop()
	c, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	sr := referral("sr1", "SP-1", "money-advice")
	ops := map[string]func() error{
		"Ping": func() error { return s.Ping(c) },
		"FindExisting": func() error {
			_, err := s.FindExisting(c, prac, []adapter.IdemKey{{Kind: adapter.KindServiceRequest, Identifier: ident("SP-1")}})
			return err
		},
		"IntakeLookups": func() error {
			_, err := s.IntakeLookups(c, adapter.IntakeLookup{Practice: prac, Keys: []adapter.IdemKey{{Kind: adapter.KindServiceRequest, Identifier: ident("SP-1")}},
				Patients: []string{"Patient/p1"}, Active: []string{adapter.ActiveKey(prac, "Patient/p1", "debt")}})
			return err
		},
		"Intake": func() error {
			return s.Intake(c, &adapter.IntakeBatch{Practice: prac, Now: now, Items: []*adapter.Submission{sr}})
		},
		"ServiceRequest":   func() error { _, err := s.ServiceRequest(c, "sr1"); return err },
		"Consent":          func() error { _, _, err := s.Consent(c, "c1"); return err },
		"Patient":          func() error { _, _, err := s.Patient(c, "p1"); return err },
		"Task":             func() error { _, err := s.Task(c, "sr1"); return err },
		"TasksForReferral": func() error { _, err := s.TasksForReferral(c, "sr1"); return err },
		"QueuedTaskIDs":    func() error { _, err := s.QueuedTaskIDs(c, "money-advice"); return err },
	}
	for name, op := range ops {
		err := op()
		if code := adapter.ErrorCode(err); code != adapter.EUNAVAILABLE {
			t.Errorf("%s with Redis down: %v (code %q), want %s", name, err, code, adapter.EUNAVAILABLE)
		}
		if m := adapter.ErrorMessage(err); strings.Contains(m, "127.0.0.1") || strings.Contains(m, "refused") {
			t.Errorf("%s: the caller's message leaks the connection error: %q", name, m)
		}
	}
	// Once Redis is back the client reconnects by itself (go-redis retries
	// a failed pool in the background, about once a second).
	start()
	var err error
	for range 100 {
		if err = s.Ping(ctx); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("the store did not recover after Redis came back: %v", err)
	}
	intake(t, s, referral("sr9", "SP-9", "money-advice"))
}

// IntakeLookups reads in one go what FindExisting, PatientConsents and
// ActiveReferrals read one by one, and answers the same; after the server
// lost its cached scripts too.
func testIntakeLookups(t *testing.T, s *redis.Store) {
	live, ended := referral("sr1", "SP-1", "money-advice"), referral("sr2", "SP-2", "money-advice")
	live.Task.Need, ended.Task.Need = "debt", "housing"
	live.Active = adapter.ActiveKey(prac, live.Task.Patient, "debt")
	ended.Active = adapter.ActiveKey(prac, ended.Task.Patient, "housing")
	nhs := adapter.Identifier{System: adapter.SystemNHSNumber, Value: "9000000009"}
	pat := &adapter.Submission{Kind: adapter.KindPatient, ID: "p1", Identifier: nhs, JSON: []byte(`{"resourceType":"Patient","id":"p1"}`)}
	intake(t, s, live, ended, consent("c1", "CON-1", live.Task.Patient), pat)
	if _, err := s.UpdateTask(ctx, "sr2", func(task *adapter.Task) (adapter.TaskChange, error) {
		task.Status, task.Version, task.LastModified = adapter.TaskCancelled, task.Version+1, now.Add(time.Hour)
		return adapter.TaskChange{History: adapter.HistoryEntry{At: now.Add(time.Hour)}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	q := adapter.IntakeLookup{Practice: prac,
		Keys:     []adapter.IdemKey{{Kind: adapter.KindServiceRequest, Identifier: ident("SP-1")}, {Kind: adapter.KindServiceRequest, Identifier: ident("SP-9")}},
		Patients: []string{live.Task.Patient, "Patient/nobody"},
		Active:   []string{live.Active, ended.Active, adapter.ActiveKey(prac, "Patient/nobody", "debt")},
		Records:  []string{"Patient?identifier=" + nhs.String(), "Patient/p1", "Patient/nobody", "Patient?identifier=x|y"},
	}
	wantConsents, err := s.PatientConsents(ctx, prac, live.Task.Patient)
	if err != nil || len(wantConsents) != 1 {
		t.Fatalf("PatientConsents = %q, %v", wantConsents, err)
	}
	check := func(when string) {
		t.Helper()
		got, err := s.IntakeLookups(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		if !slices.Equal(got.Existing, []string{"sr1", ""}) {
			t.Errorf("%s: Existing = %q", when, got.Existing)
		}
		if cs := got.Consents[live.Task.Patient]; len(cs) != 1 || string(cs[0]) != string(wantConsents[0]) {
			t.Errorf("%s: the patient's Consents = %q, want %q", when, cs, wantConsents)
		}
		if cs, ok := got.Consents["Patient/nobody"]; !ok || len(cs) != 0 {
			t.Errorf("%s: a patient without Consents: %q (answered: %v)", when, cs, ok)
		}
		if len(got.Records) != 2 || string(got.Records["Patient/p1"]) != `{"resourceType":"Patient","id":"p1"}` ||
			string(got.Records[q.Records[0]]) != `{"resourceType":"Patient","id":"p1"}` {
			t.Errorf("%s: stored Patients %q", when, got.Records)
		}
		want := map[string]string{q.Active[0]: "sr1", q.Active[1]: "", q.Active[2]: ""}
		if fmt.Sprint(got.Active) != fmt.Sprint(want) {
			t.Errorf("%s: Active = %q, want %q", when, got.Active, want)
		}
	}
	check("scripts cached")
	if err := s.Client().ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	check("scripts flushed")
	check("scripts loaded again")
	if got, err := s.IntakeLookups(ctx, adapter.IntakeLookup{Practice: prac}); err != nil || len(got.Existing) != 0 {
		t.Errorf("an empty lookup = %+v, %v", got, err)
	}
}

// A Consent's Referrals count the practice's referrals for its patient
// once the whole batch is written: none for a first Consent, and a
// referral of the same batch counts whatever its place in the batch.
func testConsentReferrals(t *testing.T, s *redis.Store) {
	first := consent("c1", "CON-1", "Patient/p-new")
	intake(t, s, first)
	if first.Referrals != 0 {
		t.Errorf("a patient without referrals: Referrals = %d", first.Referrals)
	}
	intake(t, s, referral("sr1", "SP-1", "money-advice"))
	later := consent("c2", "CON-2", "Patient/p-sr1")
	intake(t, s, later)
	if later.Referrals != 1 {
		t.Errorf("after one referral: Referrals = %d", later.Referrals)
	}
	same := consent("c3", "CON-3", "Patient/p-sr9")
	intake(t, s, same, referral("sr9", "SP-9", "money-advice"))
	if same.Referrals != 1 {
		t.Errorf("with a referral later in the same batch: Referrals = %d", same.Referrals)
	}
	other := consent("c4", "CON-4", "Patient/p-sr1")
	if err := s.Intake(ctx, &adapter.IntakeBatch{Practice: "B82002", Now: now, Items: []*adapter.Submission{other}}); err != nil {
		t.Fatal(err)
	}
	if other.Referrals != 0 {
		t.Errorf("another practice's referral for the same patient counted: %d", other.Referrals)
	}
}

func testClaimExcluding(t *testing.T, s *redis.Store) {
	for i, id := range []string{"c1", "c2", "c3"} {
		sub := referral(id, "SP-C"+id, "riverside-link-workers")
		sub.Task.FirstContactDue = now.Add(time.Duration(i) * time.Hour)
		if err := s.Intake(ctx, &adapter.IntakeBatch{Practice: prac, Now: now, Items: []*adapter.Submission{sub}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Claim(ctx, "riverside-link-workers", "lw1", "Sam", "", now, now.Add(time.Hour), "c1", "c2")
	if err != nil || got == nil || got.ID != "c3" {
		t.Fatalf("claim passing c1 and c2: %+v %v", got, err)
	}
	if q, _ := s.QueuedTaskIDs(ctx, "riverside-link-workers"); !slices.Equal(q, []string{"c1", "c2"}) {
		t.Errorf("the passed referrals left their place: queue %v", q)
	}
	if got, err := s.Claim(ctx, "riverside-link-workers", "lw1", "Sam", "", now, now.Add(time.Hour), "c1", "c2"); got != nil || err != nil {
		t.Errorf("only passed referrals left: %+v %v", got, err)
	}
	if q, _ := s.QueuedTaskIDs(ctx, "riverside-link-workers"); !slices.Equal(q, []string{"c1", "c2"}) {
		t.Errorf("queue after an empty claim %v", q)
	}
}

func testUnclaim(t *testing.T, s *redis.Store) {
	sub := referral("u1", "SP-U1", "riverside-link-workers")
	if err := s.Intake(ctx, &adapter.IntakeBatch{Practice: prac, Now: now, Items: []*adapter.Submission{sub}}); err != nil {
		t.Fatal(err)
	}
	before, _ := s.Task(ctx, "u1")
	// Alex's claim, then Sam's, must not stand: each is given back.
	first, _ := s.Claim(ctx, "riverside-link-workers", "alex", "Alex", "Link worker", now, now.Add(time.Minute))
	if _, err := s.Unclaim(ctx, first, "alex", now); err != nil {
		t.Fatal(err)
	}
	alexOnly, _ := s.Task(ctx, "u1")
	claimed, err := s.Claim(ctx, "riverside-link-workers", "sam", "Sam", "Link worker", now.Add(time.Second), now.Add(time.Hour))
	if err != nil || claimed == nil || claimed.LastClaimant != "sam" {
		t.Fatalf("claim %+v %v", claimed, err)
	}
	if ok, err := s.Unclaim(ctx, claimed, "someone-else", now); ok || err != nil {
		t.Errorf("an unclaim by another: %v %v", ok, err)
	}
	if ok, err := s.Unclaim(ctx, claimed, "sam", now.Add(2*time.Second)); !ok || err != nil {
		t.Fatalf("unclaim: %v %v", ok, err)
	}
	got, _ := s.Task(ctx, "u1")
	if got.Claimant != "" || !got.LeaseUntil.IsZero() || got.BusinessStatus.Code != before.BusinessStatus.Code ||
		got.LastClaimant != alexOnly.LastClaimant || !got.ContactSince.Equal(alexOnly.ContactSince) || !got.HandedOver.Equal(alexOnly.HandedOver) {
		t.Errorf("after unclaim %+v, want as before the claim %+v", got, alexOnly)
	}
	if q, _ := s.QueuedTaskIDs(ctx, "riverside-link-workers"); !slices.Equal(q, []string{"u1"}) {
		t.Errorf("queue %v", q)
	}
	// A first claim given back leaves no named contact behind either.
	if before.LastClaimant != "" || alexOnly.LastClaimant != "" {
		t.Errorf("a claim given back left a named contact: %q", alexOnly.LastClaimant)
	}
}

func testReferralsByIdentifier(t *testing.T, s *redis.Store) {
	a := referral("i1", "SP-SAME", "riverside-link-workers")
	b := referral("i2", "SP-SAME", "riverside-link-workers")
	b.Task.Practice = "B82002"
	if err := s.Intake(ctx, &adapter.IntakeBatch{Practice: prac, Now: now, Items: []*adapter.Submission{a}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Intake(ctx, &adapter.IntakeBatch{Practice: "B82002", Now: now, Items: []*adapter.Submission{b}}); err != nil {
		t.Fatal(err)
	}
	if ids, err := s.ReferralsByIdentifier(ctx, "SP-SAME"); err != nil || !slices.Equal(ids, []string{"i1", "i2"}) {
		t.Errorf("by identifier: %v %v", ids, err)
	}
	if ids, err := s.ReferralsByIdentifier(ctx, "SP-NONE"); err != nil || len(ids) != 0 {
		t.Errorf("unknown identifier: %v %v", ids, err)
	}
}

// An intake with an audit slot in its context writes one record per
// resource in the intake script itself: created (201), found again (200);
// when the audit stream cannot be written, nothing of the intake is.
func testIntakeAudit(t *testing.T, s *redis.Store) {
	slot := &adapter.AuditSlot{Base: adapter.AuditRecord{Time: now, Subject: "dr.a@A81001", Role: "practice", Org: prac,
		Kind: "rest", RequestID: "req-1"}}
	actx := adapter.WithAuditSlot(ctx, slot)
	sr := referral("sr1", "SP-1", "money-advice")
	con := consent("c1", "CON-1", "Patient/p-sr1")
	if err := s.Intake(actx, &adapter.IntakeBatch{Practice: prac, Now: now, Items: []*adapter.Submission{sr, con}}); err != nil {
		t.Fatal(err)
	}
	again := referral("sr1", "SP-1", "money-advice")
	again.Existing = "sr1"
	if err := s.Intake(actx, &adapter.IntakeBatch{Practice: prac, Now: now, Items: []*adapter.Submission{again}}); err != nil {
		t.Fatal(err)
	}
	recs, err := s.AuditRecords(ctx, adapter.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		if r.Subject != "dr.a@A81001" || r.Org != prac || r.RequestID != "req-1" || r.Kind != "rest" || !r.Time.Equal(now) {
			t.Errorf("record %+v", r)
		}
		got = append(got, fmt.Sprintf("%s %s %d", r.Action, r.Entity, r.Outcome))
	}
	want := []string{"C ServiceRequest/sr1 200", "C Consent/c1 201", "C ServiceRequest/sr1 201"} // newest first
	if !slices.Equal(got, want) {
		t.Errorf("audit records %v, want %v", got, want)
	}
	if w := slot.Written(); len(w) != 3 {
		t.Errorf("the slot was told of %d records, want 3", len(w))
	}
	// Without a slot (background work), intake writes no record.
	intake(t, s, referral("sr2", "SP-2", "money-advice"))
	if recs, _ := s.AuditRecords(ctx, adapter.AuditQuery{}); len(recs) != 3 {
		t.Errorf("%d records after an intake without a slot", len(recs))
	}

	// The audit stream cannot be written: the intake writes nothing.
	auditKey := strings.TrimSuffix(s.KeyPattern(), "*") + "audit"
	if err := s.Client().Del(ctx, auditKey).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Client().Set(ctx, auditKey, "not a stream", 0).Err(); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, s)
	broken := &adapter.AuditSlot{Base: slot.Base}
	err = s.Intake(adapter.WithAuditSlot(ctx, broken), &adapter.IntakeBatch{Practice: prac, Now: now,
		Items: []*adapter.Submission{referral("sr3", "SP-3", "money-advice"), patient("p3", "9000000017")}})
	if err == nil {
		t.Fatal("an intake whose audit record could not be written succeeded")
	}
	if after := snapshot(t, s); !maps.Equal(after, before) {
		t.Errorf("the failed intake wrote: %d keys, were %d", len(after), len(before))
	}
	if len(broken.Written()) != 0 {
		t.Error("the slot was told of records that were not written")
	}
}

// auditSlot is a request's slot as the HTTP layer makes it.
func auditSlot(entity string) (*adapter.AuditSlot, context.Context) {
	slot := &adapter.AuditSlot{Base: adapter.AuditRecord{Time: now, Subject: "lw@U00001", Role: "link-worker", Org: "U00001",
		Kind: "rest", RequestID: "req-" + entity, Action: adapter.AuditExecute, Entity: entity}}
	return slot, adapter.WithAuditSlot(ctx, slot)
}

// auditTrail lists the stream's records as "action entity outcome", oldest
// first.
func auditTrail(t *testing.T, s *redis.Store) []string {
	t.Helper()
	recs, err := s.AuditRecords(ctx, adapter.AuditQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range slices.Backward(recs) {
		out = append(out, fmt.Sprintf("%s %s %d", r.Action, r.Entity, r.Outcome))
	}
	return out
}

// Each change the JSON API and the dialogue make is recorded in its own
// step, once per request; the Lua steps write nothing when their record
// cannot be written.
func testChangesAudited(t *testing.T, s *redis.Store) {
	intake(t, s, referral("sr1", "SP-1", "money-advice"), referral("sr2", "SP-2", "money-advice"))
	wrote := func(slot *adapter.AuditSlot, n int) {
		t.Helper()
		if got := len(slot.Written()); got != n {
			t.Errorf("the slot was told of %d records, want %d", got, n)
		}
	}
	slot, actx := auditSlot("/api/v1/queues/:queue/claim")
	task, err := s.Claim(actx, "money-advice", "lw@U00001", "Sam", "Link worker", now, now.Add(time.Hour))
	if err != nil || task == nil {
		t.Fatalf("claim: %v %v", task, err)
	}
	wrote(slot, 1)
	claimed := task.ID
	slot, actx = auditSlot("Task/" + claimed + "/lease")
	if ok, err := s.Renew(actx, task, "lw@U00001", now, now.Add(2*time.Hour)); !ok || err != nil {
		t.Fatalf("renew: %v %v", ok, err)
	}
	wrote(slot, 1)
	slot, actx = auditSlot("Task/" + claimed + "/transition")
	accept := func(tk *adapter.Task) (adapter.TaskChange, error) {
		h, err := tk.Apply(adapter.Transition{To: adapter.TaskAccepted, At: now})
		return adapter.TaskChange{History: h}, err
	}
	if _, err := s.UpdateTask(actx, claimed, accept); err != nil {
		t.Fatal(err)
	}
	// A second change in the same request is not recorded again.
	if _, err := s.UpdateTask(actx, claimed, func(tk *adapter.Task) (adapter.TaskChange, error) {
		h, err := tk.Apply(adapter.Transition{To: adapter.TaskInProgress, At: now})
		return adapter.TaskChange{History: h}, err
	}); err != nil {
		t.Fatal(err)
	}
	wrote(slot, 1)
	slot, actx = auditSlot("Communication")
	if err := s.SaveMessage(actx, adapter.Message{ID: "m1", ReferralID: "sr1", TaskID: "sr1", Practice: prac, Sent: now}, []byte(`{}`), nil); err != nil {
		t.Fatal(err)
	}
	wrote(slot, 1)
	slot, actx = auditSlot("Flag")
	if err := s.SaveFlag(actx, adapter.SafeguardingFlag{ID: "f1", ReferralID: "sr1", TaskID: "sr1", Practice: prac, Raised: now}, []byte(`{}`), nil, adapter.FlagRecords{}); err != nil {
		t.Fatal(err)
	}
	wrote(slot, 1)
	slot, actx = auditSlot("Task/" + claimed + "/outcomes")
	if err := s.SaveOutcome(actx, adapter.OutcomeRecord{ID: "o1", TaskID: claimed, Type: "Observation", Practice: prac, Recorded: now}, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	wrote(slot, 1)
	slot, actx = auditSlot("Task/" + claimed + "/contact-attempts")
	if _, _, err := s.AddContactAttempt(actx, adapter.ContactAttempt{TaskID: claimed, Result: adapter.ContactReached, At: now}, adapter.AttemptStats{}); err != nil {
		t.Fatal(err)
	}
	wrote(slot, 1)
	slot, actx = auditSlot("/api/v1/services/money-advice/capacity")
	if _, err := s.UpdateCapacity(actx, "money-advice", adapter.Capacity{Service: "money-advice", Status: adapter.CapacityOpen},
		adapter.CapacityChange{By: "admin", At: now}, func(c *adapter.Capacity) error { c.MaxOpen = 9; return nil }); err != nil {
		t.Fatal(err)
	}
	wrote(slot, 1)
	// A claim of an empty queue changes nothing and records nothing.
	slot, actx = auditSlot("/api/v1/queues/:queue/claim")
	if task, err := s.Claim(actx, "befriending", "lw@U00001", "Sam", "", now, now.Add(time.Hour)); task != nil || err != nil {
		t.Fatalf("claim of an empty queue: %v %v", task, err)
	}
	wrote(slot, 0)
	want := []string{"E Task/" + claimed + "/claim 200", "E Task/" + claimed + "/lease 200", "E Task/" + claimed + "/transition 200",
		"E Communication/m1 201", "E Flag/f1 201", "E Observation/o1 201", "E Task/" + claimed + "/contact-attempts 201", "E /api/v1/services/money-advice/capacity 200"}
	if got := auditTrail(t, s); !slices.Equal(got, want) {
		t.Errorf("audit trail\n%v\nwant\n%v", got, want)
	}

	// With the audit stream broken, the scripted steps write nothing.
	auditKey := strings.TrimSuffix(s.KeyPattern(), "*") + "audit"
	if err := s.Client().Del(ctx, auditKey).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Client().Set(ctx, auditKey, "not a stream", 0).Err(); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, s)
	_, actx = auditSlot("/api/v1/queues/:queue/claim")
	if _, err := s.Claim(actx, "money-advice", "lw@U00001", "Sam", "", now, now.Add(time.Hour)); err == nil {
		t.Error("a claim whose record could not be written succeeded")
	}
	_, actx = auditSlot("Task/" + claimed + "/transition")
	if _, err := s.UpdateTask(actx, claimed, func(tk *adapter.Task) (adapter.TaskChange, error) {
		h, err := tk.Apply(adapter.Transition{To: adapter.TaskCompleted, At: now})
		return adapter.TaskChange{History: h}, err
	}); err == nil {
		t.Error("a Task change whose record could not be written succeeded")
	}
	_, actx = auditSlot("Communication")
	if err := s.SaveMessage(actx, adapter.Message{ID: "m2", ReferralID: "sr1", TaskID: "sr1", Practice: prac, Sent: now}, []byte(`{}`), nil); err == nil {
		t.Error("a message whose record could not be written was saved")
	}
	_, actx = auditSlot("Task/" + claimed + "/contact-attempts")
	if _, _, err := s.AddContactAttempt(actx, adapter.ContactAttempt{TaskID: claimed, Result: adapter.ContactNoAnswer, At: now}, adapter.AttemptStats{}); err == nil {
		t.Error("a contact attempt whose record could not be written was saved")
	}
	if after := snapshot(t, s); !maps.Equal(after, before) {
		for k, v := range after {
			if before[k] != v {
				t.Errorf("changed without its record: %s", k)
			}
		}
	}
	if q := queued(t, s, "money-advice"); !slices.Equal(q, []string{"sr2"}) {
		t.Errorf("queue after a refused claim: %v", q)
	}
}

func testTakeTokens(t *testing.T, s *redis.Store) {
	total := 0
	for range 5 {
		got, reset, err := s.TakeTokens(ctx, "practice:p1", 4, 10, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if reset <= 0 || reset > time.Minute {
			t.Errorf("reset %v", reset)
		}
		total += got
	}
	if total != 10 {
		t.Errorf("blocks of 4 from a budget of 10 gave %d tokens", total)
	}
	if got, _, _ := s.TakeTokens(ctx, "practice:p2", 4, 10, time.Minute); got != 4 {
		t.Errorf("another subject's budget: %d", got)
	}
}

func testSubscriptionAudited(t *testing.T, s *redis.Store) {
	sub := &adapter.Subscription{ID: "s1", Practice: prac, Status: adapter.SubscriptionActive, Topic: "Task", Endpoint: "https://ehr.example/hook", Created: now}
	slot, actx := auditSlot("Subscription")
	if err := s.CreateSubscription(actx, sub); err != nil {
		t.Fatal(err)
	}
	if len(slot.Written()) != 1 {
		t.Errorf("create: the slot was told of %d records", len(slot.Written()))
	}
	slot, actx = auditSlot("Subscription/s1")
	if err := s.DeleteSubscription(actx, "B82002", "s1"); adapter.ErrorCode(err) != adapter.ENOTFOUND || len(slot.Written()) != 0 {
		t.Errorf("another practice's delete: %v, %d records", err, len(slot.Written()))
	}
	// With the audit stream broken, a delete changes nothing.
	auditKey := strings.TrimSuffix(s.KeyPattern(), "*") + "audit"
	trail := auditTrail(t, s)
	_ = s.Client().Rename(ctx, auditKey, auditKey+"-kept").Err()
	if err := s.Client().Set(ctx, auditKey, "not a stream", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSubscription(actx, prac, "s1"); err == nil {
		t.Error("a delete with the audit stream broken answered no error")
	}
	if _, err := s.Subscription(ctx, "s1"); err != nil {
		t.Errorf("the Subscription went without its audit record: %v", err)
	}
	if err := s.Client().Rename(ctx, auditKey+"-kept", auditKey).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSubscription(actx, prac, "s1"); err != nil || len(slot.Written()) != 1 {
		t.Fatalf("delete: %v, %d records", err, len(slot.Written()))
	}
	want := append(trail[:len(trail):len(trail)], "E Subscription/s1 204")
	if got := auditTrail(t, s); !slices.Equal(got, want) || !slices.Equal(trail, []string{"E Subscription/s1 201"}) {
		t.Errorf("audit trail %v, want %v", got, want)
	}
}

func testReplacePatient(t *testing.T, s *redis.Store) {
	intake(t, s, &adapter.Submission{Kind: adapter.KindPatient, ID: "p1",
		JSON: []byte(`{"resourceType":"Patient","id":"p1","meta":{"versionId":"1"}}`)})
	v2 := []byte(`{"resourceType":"Patient","id":"p1","meta":{"versionId":"2"},"gender":"female"}`)
	slot, actx := auditSlot("Patient/p1")
	wantCode(t, s.ReplacePatient(actx, "p1", "B82002", 1, v2, nil), adapter.ENOTFOUND)
	wantCode(t, s.ReplacePatient(actx, "p1", prac, 2, v2, nil), adapter.EVERSION)
	wantCode(t, s.ReplacePatient(actx, "nobody", prac, 1, v2, nil), adapter.ENOTFOUND)
	if len(slot.Written()) != 0 {
		t.Errorf("refused replacements wrote %d records", len(slot.Written()))
	}
	if err := s.ReplacePatient(actx, "p1", prac, 1, v2, nil); err != nil {
		t.Fatal(err)
	}
	if body, practice, err := s.Patient(ctx, "p1"); err != nil || string(body) != string(v2) || practice != prac {
		t.Errorf("stored %s %s %v", body, practice, err)
	}
	wantCode(t, s.ReplacePatient(actx, "p1", prac, 1, v2, nil), adapter.EVERSION)
	if got := auditTrail(t, s); !slices.Equal(got, []string{"E Patient/p1 200"}) || len(slot.Written()) != 1 {
		t.Errorf("audit trail %v", got)
	}
}

// A Patient's next version is stored with the change it tells each Task
// of its patient's live referrals (new contact details: a new version, a
// history entry, a Task event), in one step, and only while every such
// Task is at the version read: otherwise nothing is written
// (ErrTaskMoved), and the update reads the Tasks again.
func testReplacePatientTells(t *testing.T, s *redis.Store) {
	if err := s.EnsureNotifyGroup(ctx); err != nil {
		t.Fatal(err)
	}
	intake(t, s, referral("sr1", "SP-1", "money-advice"), &adapter.Submission{Kind: adapter.KindPatient, ID: "p1",
		JSON: []byte(`{"resourceType":"Patient","id":"p1","meta":{"versionId":"1"}}`)})
	v2 := []byte(`{"resourceType":"Patient","id":"p1","meta":{"versionId":"2"},"telecom":[{"system":"phone","value":"01632 960001"}]}`)
	later, why := now.Add(time.Hour), "the patient's contact details were updated"
	tell := func(version func(read int) int) []*adapter.TaskWrite {
		return []*adapter.TaskWrite{noteOn(t, s, "sr1", later, why, version)}
	}
	before := snapshot(t, s)
	if err := s.ReplacePatient(ctx, "p1", prac, 1, v2, tell(func(read int) int { return read - 1 })); err != adapter.ErrTaskMoved {
		t.Fatalf("an update telling a Task that moved on: %v", err)
	}
	if after := snapshot(t, s); !maps.Equal(before, after) {
		t.Fatal("something was written although the Task moved on")
	}
	if err := s.ReplacePatient(ctx, "p1", prac, 1, v2, tell(func(read int) int { return read })); err != nil {
		t.Fatal(err)
	}
	if body, _, err := s.Patient(ctx, "p1"); err != nil || string(body) != string(v2) {
		t.Errorf("stored %s %v", body, err)
	}
	wantToldOnce(t, s, "sr1", later, why)
}

// noteOn is a change of Task id recording why at at (TaskWrite), claimed
// to be made on the version version gives for the one read.
func noteOn(t *testing.T, s *redis.Store, id string, at time.Time, why string, version func(read int) int) *adapter.TaskWrite {
	t.Helper()
	task, err := s.Task(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	w := &adapter.TaskWrite{Version: version(task.Version), Task: task}
	w.History = task.Note(at, adapter.Actor{Role: adapter.RolePractice, Org: prac}, task.BusinessStatus.Code, why)
	return w
}

// wantToldOnce checks that Task id, created at version 1, was told why at
// at: version 2, the history entry, and its Task event after its intake's.
func wantToldOnce(t *testing.T, s *redis.Store, id string, at time.Time, why string) {
	t.Helper()
	task, _ := s.Task(ctx, id)
	hist, _ := s.History(ctx, id)
	if task.Version != 2 || !task.LastModified.Equal(at) || len(hist) == 0 || hist[len(hist)-1].Reason != why {
		t.Errorf("Task v%d at %s, history %+v", task.Version, task.LastModified, hist)
	}
	trigs, err := s.ReadTriggers(ctx, "reader", 10, 0)
	if err != nil || len(trigs) != 2 || trigs[1].Event.TaskID != id || !trigs[1].Event.Time.Equal(at) {
		t.Errorf("announced %+v %v, want the intake and the tell", trigs, err)
	}
}

// Every Task change is announced on the notification stream by the script
// that stores it: a change stored is a change the practice is told of,
// whatever becomes of the adapter after; a change refused announces
// nothing.
func testChangesAnnounced(t *testing.T, s *redis.Store) {
	if err := s.EnsureNotifyGroup(ctx); err != nil {
		t.Fatal(err)
	}
	intake(t, s, referral("sr1", "SP-1", "riverside-link-workers"))
	later := now.Add(time.Hour)
	if _, err := s.UpdateTask(ctx, "sr1", func(task *adapter.Task) (adapter.TaskChange, error) {
		h, err := task.Apply(adapter.Transition{To: adapter.TaskAccepted, At: later})
		child := *task
		child.ID, child.PartOf, child.Owner, child.Status, child.Version = "child1", "sr1", "befriending", adapter.TaskRequested, 1
		return adapter.TaskChange{History: h, Child: &child}, err
	}); err != nil {
		t.Fatal(err)
	}
	refused := errors.New("refused")
	if _, err := s.UpdateTask(ctx, "sr1", func(*adapter.Task) (adapter.TaskChange, error) { return adapter.TaskChange{}, refused }); !errors.Is(err, refused) {
		t.Fatalf("refused change: %v", err)
	}
	held, err := s.Task(ctx, "sr1")
	if err != nil {
		t.Fatal(err)
	}
	after := *held
	h := after.PauseForConsent(later.Add(time.Minute))
	if err := s.ApplyConsentMoves(ctx, nil, []adapter.ConsentMove{{Kind: adapter.MovePause, Before: *held, After: &after, History: h}}); err != nil {
		t.Fatal(err)
	}
	trigs, err := s.ReadTriggers(ctx, "reader", 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tr := range trigs {
		got = append(got, fmt.Sprintf("%s %s %s %s", tr.Event.TaskID, tr.Event.ReferralID, tr.Event.Practice, tr.Event.Status))
	}
	want := []string{"sr1 sr1 A81001 requested", "sr1 sr1 A81001 accepted", "child1 sr1 A81001 requested", "sr1 sr1 A81001 on-hold"}
	if !slices.Equal(got, want) {
		t.Errorf("announced:\n got %q\nwant %q", got, want)
	}
}

// The closure summary an ending owes is stored with the ending or not at
// all; it is listed once its referral ended before the cutoff, longest
// owed first; one deferred waits behind the others; it is owed no more
// once sent; and the retention purge takes what a purged referral owed.
func testClosureOutbox(t *testing.T, s *redis.Store) {
	intake(t, s, referral("sr1", "SP-1", "money-advice"), referral("sr2", "SP-2", "money-advice"), referral("sr3", "SP-3", "money-advice"))
	by := adapter.Actor{Subject: "lw@U00001", Role: adapter.RoleLinkWorker, Org: "U00001"}
	end := func(id string, at time.Time, fail error) error {
		_, err := s.UpdateTask(ctx, id, func(task *adapter.Task) (adapter.TaskChange, error) {
			h, err := task.Apply(adapter.Transition{To: adapter.TaskCancelled, Reason: "moved away", At: at})
			due := &adapter.ClosureDue{Summary: "Summary of " + id, SummaryApproved: id != "sr2", By: by}
			if fail != nil {
				return adapter.TaskChange{}, fail
			}
			return adapter.TaskChange{History: h, Closure: due}, err
		})
		return err
	}
	if err := end("sr3", now, errors.New("refused")); err == nil {
		t.Fatal("a refused ending stood")
	}
	for i, id := range []string{"sr1", "sr2"} {
		if err := end(id, now.Add(time.Duration(i)*time.Minute), nil); err != nil {
			t.Fatal(err)
		}
	}
	owed := func(cutoff time.Time) []adapter.DueClosure {
		t.Helper()
		dues, err := s.ClosuresDue(ctx, cutoff, 10)
		if err != nil {
			t.Fatal(err)
		}
		return dues
	}
	ids := func(ds []adapter.DueClosure) (out []string) {
		for _, d := range ds {
			out = append(out, d.TaskID)
		}
		return out
	}
	all := owed(now.Add(time.Hour))
	if got := ids(all); !slices.Equal(got, []string{"sr1", "sr2"}) {
		t.Fatalf("owed: %v", got)
	}
	if d := all[0]; d.Summary != "Summary of sr1" || !d.SummaryApproved || d.By != by || !d.Since.Equal(now) {
		t.Errorf("sr1 owes %+v", d)
	}
	if all[1].SummaryApproved {
		t.Errorf("sr2's summary came back approved")
	}
	if got := ids(owed(now.Add(30 * time.Second))); !slices.Equal(got, []string{"sr1"}) {
		t.Errorf("owed before the cutoff: %v", got)
	}
	if err := s.DeferClosure(ctx, "sr1", now.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := ids(owed(now.Add(time.Hour))); !slices.Equal(got, []string{"sr2", "sr1"}) {
		t.Errorf("owed after deferring sr1: %v", got)
	}
	if err := s.ClosureSent(ctx, "sr2"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeferClosure(ctx, "sr2", now); err != nil { // sent meanwhile: not owed again
		t.Fatal(err)
	}
	if got := ids(owed(now.Add(time.Hour))); !slices.Equal(got, []string{"sr1"}) {
		t.Errorf("owed after sr2 was sent: %v", got)
	}
	if _, err := s.PurgeClosed(ctx, now.Add(time.Hour), 10, now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := owed(now.Add(time.Hour)); len(got) != 0 {
		t.Errorf("owed after the purge: %v", ids(got))
	}
	for _, k := range snapshotKeys(t, s) {
		if strings.Contains(k, ":cdue") {
			t.Errorf("left after the purge: %s", k)
		}
	}
}

// A Task change's report counters are counted by the step that stores it
// (the day, the month's roll-up and the practice's day), exactly as Count
// counts them; a refused change counts nothing.
func testChangesCounted(t *testing.T, s *redis.Store) {
	intake(t, s, referral("sr1", "SP-1", "money-advice"))
	key := adapter.StatKey{Metric: "completed", Service: "money-advice", Area: "E38000001", Need: "debt"}
	inc := []adapter.StatInc{{Day: "2026-11-20", Key: key, Practice: prac, N: 1}}
	refused := errors.New("refused")
	if _, err := s.UpdateTask(ctx, "sr1", func(*adapter.Task) (adapter.TaskChange, error) {
		return adapter.TaskChange{Stats: inc}, refused
	}); !errors.Is(err, refused) {
		t.Fatal(err)
	}
	if _, err := s.UpdateTask(ctx, "sr1", func(task *adapter.Task) (adapter.TaskChange, error) {
		h, err := task.Apply(adapter.Transition{To: adapter.TaskAccepted, At: now})
		return adapter.TaskChange{History: h, Stats: inc}, err
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Count(ctx, inc); err != nil { // the same, by the counter
		t.Fatal(err)
	}
	for _, days := range [][]string{{"2026-11-20"}, {"2026-11"}} {
		got, err := s.DayStats(ctx, days)
		if err != nil || got[key] != 2 {
			t.Errorf("%v: %s = %d, want 2 (%v)", days, key, got[key], err)
		}
	}
	got, err := s.PracticeStats(ctx, prac, []string{"2026-11-20"})
	if err != nil || got[key.Metric] != 2 {
		t.Errorf("practice's day: %v %v", got, err)
	}
}

// A change that tells the Task the changed one is part of (an onward
// referral declined) writes both in one step, each with its history and
// event, and only while that Task is at the version read: otherwise
// neither is written.
func testParentToldInTheSameStep(t *testing.T, s *redis.Store) {
	if err := s.EnsureNotifyGroup(ctx); err != nil {
		t.Fatal(err)
	}
	intake(t, s, referral("sr1", "SP-1", "riverside-link-workers"))
	later := now.Add(time.Hour)
	if _, err := s.UpdateTask(ctx, "sr1", func(task *adapter.Task) (adapter.TaskChange, error) {
		child := *task
		child.ID, child.PartOf, child.Owner, child.Version = "child1", "sr1", "befriending", 1
		task.Version, task.LastModified = task.Version+1, later
		return adapter.TaskChange{History: adapter.HistoryEntry{At: later}, Child: &child}, nil
	}); err != nil {
		t.Fatal(err)
	}
	decline := func(parentVersion func(read int) int) error {
		_, err := s.UpdateTask(ctx, "child1", func(task *adapter.Task) (adapter.TaskChange, error) {
			h, err := task.Apply(adapter.Transition{To: adapter.TaskRejected, BusinessStatus: adapter.BSProviderDecline,
				Reason: adapter.ReasonNoResponse, At: later})
			parent, perr := s.Task(ctx, "sr1")
			if perr != nil {
				return adapter.TaskChange{}, perr
			}
			pc := &adapter.TaskWrite{Version: parentVersion(parent.Version), Task: parent,
				History: adapter.HistoryEntry{At: later, BusinessStatus: adapter.BSProviderDecline}}
			parent.StatusReason, parent.Version, parent.LastModified = "please refer on", parent.Version+1, later
			return adapter.TaskChange{History: h, Parent: pc}, err
		})
		return err
	}
	if err := decline(func(read int) int { return read - 1 }); adapter.ErrorCode(err) != adapter.ECONFLICT {
		t.Fatalf("decline while the parent moved on: %v", err)
	}
	child, _ := s.Task(ctx, "child1")
	parent, _ := s.Task(ctx, "sr1")
	if child.Status != adapter.TaskRequested || parent.StatusReason != "" {
		t.Fatalf("written although the parent moved on: child %s, parent %q", child.Status, parent.StatusReason)
	}
	if err := decline(func(read int) int { return read }); err != nil {
		t.Fatal(err)
	}
	child, _ = s.Task(ctx, "child1")
	after, _ := s.Task(ctx, "sr1")
	if child.Status != adapter.TaskRejected || after.StatusReason != "please refer on" || after.Version != parent.Version+1 {
		t.Errorf("after the decline: child %s, parent %q v%d (was v%d)", child.Status, after.StatusReason, after.Version, parent.Version)
	}
	if hist, _ := s.History(ctx, "sr1"); len(hist) == 0 || hist[len(hist)-1].BusinessStatus != adapter.BSProviderDecline {
		t.Errorf("parent's history: %+v", hist)
	}
	trigs, err := s.ReadTriggers(ctx, "reader", 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tr := range trigs {
		got = append(got, tr.Event.TaskID+" "+string(tr.Event.Status))
	}
	want := []string{"sr1 requested", "sr1 requested", "child1 requested", "child1 rejected", "sr1 requested"}
	if !slices.Equal(got, want) {
		t.Errorf("announced %q, want %q", got, want)
	}
}

// An outcome is stored with the change of its Task that records it (new
// version, history entry, Task event), in one step, and only while the
// Task is at the version read: otherwise neither is written.
func testOutcomeWithItsTaskChange(t *testing.T, s *redis.Store) {
	if err := s.EnsureNotifyGroup(ctx); err != nil {
		t.Fatal(err)
	}
	intake(t, s, referral("sr1", "SP-1", "money-advice"))
	later := now.Add(time.Hour)
	o := adapter.OutcomeRecord{ID: "o1", TaskID: "sr1", Type: "Observation", Practice: prac, Recorded: later}
	write := func(version func(read int) int) error {
		task, err := s.Task(ctx, "sr1")
		if err != nil {
			t.Fatal(err)
		}
		w := &adapter.TaskWrite{Version: version(task.Version), Task: task, History: adapter.HistoryEntry{At: later, Reason: "outcome recorded: Observation/o1"}}
		task.Version, task.LastModified = task.Version+1, later
		return s.SaveOutcomeOn(ctx, o, []byte(`{"resourceType":"Observation"}`), w)
	}
	if err := write(func(read int) int { return read - 1 }); err != adapter.ErrTaskMoved {
		t.Fatalf("outcome on a Task that moved on: %v", err)
	}
	if _, _, err := s.Outcome(ctx, "o1"); adapter.ErrorCode(err) != adapter.ENOTFOUND {
		t.Fatalf("the outcome was stored although its Task moved on: %v", err)
	}
	if err := write(func(read int) int { return read }); err != nil {
		t.Fatal(err)
	}
	if outs, err := s.Outcomes(ctx, "sr1"); err != nil || len(outs) != 1 || outs[0].ID != "o1" {
		t.Errorf("outcomes: %v %v", outs, err)
	}
	task, _ := s.Task(ctx, "sr1")
	hist, _ := s.History(ctx, "sr1")
	if task.Version != 2 || !task.LastModified.Equal(later) || len(hist) == 0 || hist[len(hist)-1].Reason != "outcome recorded: Observation/o1" {
		t.Errorf("Task v%d at %s, history %+v", task.Version, task.LastModified, hist)
	}
	trigs, err := s.ReadTriggers(ctx, "reader", 10, 0)
	if err != nil || len(trigs) != 2 || !trigs[1].Event.Time.Equal(later) {
		t.Errorf("announced %+v %v, want the intake and the outcome", trigs, err)
	}
}

// A referral released from a hold it waited in from the start has its
// placing counted by the step that releases it, at the service it is
// queued at; a move refused because the Task changed counts nothing.
func testReleaseCounted(t *testing.T, s *redis.Store) {
	intake(t, s, referral("sr1", "SP-1", "money-advice"))
	read := func() *adapter.Task {
		t.Helper()
		task, err := s.Task(ctx, "sr1")
		if err != nil {
			t.Fatal(err)
		}
		return task
	}
	held := read()
	paused := *held
	h := paused.PauseForConsent(now.Add(time.Minute))
	if err := s.ApplyConsentMoves(ctx, nil, []adapter.ConsentMove{{Kind: adapter.MovePause, Before: *held, After: &paused, History: h}}); err != nil {
		t.Fatal(err)
	}
	key := adapter.StatKey{Metric: adapter.MPlaced, Service: "money-advice", Need: "debt"}
	stats := []adapter.IntakeStat{{StatInc: adapter.StatInc{Day: "2026-11-20", Key: adapter.StatKey{Metric: adapter.MPlaced, Need: "debt"}, Practice: prac, N: 1},
		Owner: true}}
	release := func(before *adapter.Task) error {
		after := *before
		h := after.ReleaseConsentHold(now.Add(2 * time.Minute))
		return s.ApplyConsentMoves(ctx, nil, []adapter.ConsentMove{{Kind: adapter.MoveRelease, Before: *before, After: &after, History: h, Stats: stats}})
	}
	stale := *held // read before the pause
	if err := release(&stale); err != adapter.ErrStaleConsentMove {
		t.Fatalf("release of a Task that changed: %v", err)
	}
	placed := func() int64 {
		t.Helper()
		got, err := s.DayStats(ctx, []string{"2026-11-20"})
		if err != nil {
			t.Fatal(err)
		}
		return got[key]
	}
	if n := placed(); n != 0 {
		t.Fatalf("a refused release counted %d", n)
	}
	if err := release(read()); err != nil {
		t.Fatal(err)
	}
	if n := placed(); n != 1 {
		t.Errorf("placed counted %d with the release, want 1", n)
	}
}

// A safeguarding Flag is stored with the audit record of its disclosure and
// its report counter, in one step; a Flag refused (its id taken) writes
// neither again.
func testFlagWithItsRecords(t *testing.T, s *redis.Store) {
	key := adapter.StatKey{Metric: adapter.MSafeguarding, Service: "money-advice", Need: "debt"}
	with := adapter.FlagRecords{
		Disclosure: []adapter.AuditRecord{{Time: now, Subject: "referral-adapter", Role: "system", Org: prac, Action: adapter.AuditExecute,
			Kind: adapter.AuditKindSafeguarding, Entity: "Flag/f1", Detail: "disclosed; lawful basis: test"}},
		Stats: []adapter.StatInc{{Day: "2026-11-20", Key: key, Practice: prac, N: 1}},
	}
	f := adapter.SafeguardingFlag{ID: "f1", ReferralID: "sr1", TaskID: "sr1", Practice: prac, Raised: now}
	for range 2 { // the second is refused: the id exists
		_ = s.SaveFlag(ctx, f, []byte(`{"resourceType":"Flag"}`), nil, with)
	}
	recs, err := s.AuditRecords(ctx, adapter.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		if r.Entity == "Flag/f1" && r.Kind == adapter.AuditKindSafeguarding {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d disclosure records, want 1", n)
	}
	got, err := s.DayStats(ctx, []string{"2026-11-20"})
	if err != nil || got[key] != 1 {
		t.Errorf("safeguarding counted %d, want 1 (%v)", got[key], err)
	}
}

// A new Patient is stored with the change it tells each Task of its
// patient's live referrals (its contact details arrived: a new version, a
// history entry, a Task event), in one step, and only while every such
// Task is at the version read: otherwise nothing is written, and intake
// plans again.
func testPatientTellsInTheSameStep(t *testing.T, s *redis.Store) {
	if err := s.EnsureNotifyGroup(ctx); err != nil {
		t.Fatal(err)
	}
	intake(t, s, referral("sr1", "SP-1", "money-advice"))
	later, why := now.Add(time.Hour), "the patient's contact details were received"
	tell := func(version func(read int) int) *adapter.Submission {
		p := patient("p1", "9000000009")
		p.Tell = []*adapter.TaskWrite{noteOn(t, s, "sr1", later, why, version)}
		return p
	}
	before := snapshot(t, s)
	err := s.Intake(ctx, &adapter.IntakeBatch{Practice: prac, Now: later, Items: []*adapter.Submission{tell(func(read int) int { return read - 1 })}})
	if !errors.Is(err, adapter.ErrConcurrentCreate) {
		t.Fatalf("a Patient telling a Task that moved on: %v", err)
	}
	if after := snapshot(t, s); !maps.Equal(before, after) {
		t.Fatal("something was written although the Task moved on")
	}
	if err := s.Intake(ctx, &adapter.IntakeBatch{Practice: prac, Now: later, Items: []*adapter.Submission{tell(func(read int) int { return read })}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Patient(ctx, "p1"); err != nil {
		t.Fatalf("the Patient: %v", err)
	}
	wantToldOnce(t, s, "sr1", later, why)
}

// A Patient another request replaces between this one's read and its
// write is not overwritten (EVERSION): the write compares the stored
// Patient with the one read. The other request is made to land in that
// gap by a hook on a client of this store's own.
func testReplacePatientRace(t *testing.T, s *redis.Store) {
	intake(t, s, &adapter.Submission{Kind: adapter.KindPatient, ID: "p1",
		JSON: []byte(`{"resourceType":"Patient","id":"p1","meta":{"versionId":"1"}}`)})
	base, ok := s.Client().(*goredis.Client)
	if !ok {
		t.Skip("not a single-node client")
	}
	c := goredis.NewClient(base.Options())
	t.Cleanup(func() { c.Close() })
	ns := strings.TrimSuffix(strings.TrimPrefix(s.KeyPattern(), "sp:{"), "}:*")
	other := []byte(`{"resourceType":"Patient","id":"p1","meta":{"versionId":"2"},"gender":"male"}`)
	var once sync.Once // EVALSHA, and EVAL should the script not be cached
	c.AddHook(raceHook{before: func(cmd goredis.Cmder) {
		if n := cmd.Name(); n == "evalsha" || n == "eval" {
			once.Do(func() {
				if err := s.ReplacePatient(ctx, "p1", prac, 1, other, nil); err != nil {
					t.Errorf("the other request: %v", err)
				}
			})
		}
	}})
	raced := redis.New(c, ns)
	mine := []byte(`{"resourceType":"Patient","id":"p1","meta":{"versionId":"2"},"gender":"female"}`)
	wantCode(t, raced.ReplacePatient(ctx, "p1", prac, 1, mine, nil), adapter.EVERSION)
	if body, _, err := s.Patient(ctx, "p1"); err != nil || string(body) != string(other) {
		t.Errorf("stored %s %v, want the other request's", body, err)
	}
}

// raceHook runs before ahead of each command of its client (and of each
// command of a pipeline).
type raceHook struct{ before func(goredis.Cmder) }

func (h raceHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (h raceHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		h.before(cmd)
		return next(ctx, cmd)
	}
}
func (h raceHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		for _, c := range cmds {
			h.before(c)
		}
		return next(ctx, cmds)
	}
}

// A Task change decided on a read that another change has since overtaken
// is not written over it (compare-and-set on the version): UpdateTask
// reads the Task again and decides again, so both changes stand.
func testUpdateTaskReadsAgain(t *testing.T, s *redis.Store) {
	intake(t, s, referral("sr1", "SP-1", "money-advice"))
	later := now.Add(time.Hour)
	calls := 0
	task, err := s.UpdateTask(ctx, "sr1", func(task *adapter.Task) (adapter.TaskChange, error) {
		calls++
		if calls == 1 { // another change lands between this read and its write
			if _, err := s.UpdateTask(ctx, "sr1", func(other *adapter.Task) (adapter.TaskChange, error) {
				other.StatusReason = "the other change"
				return adapter.TaskChange{History: other.Note(later, adapter.Actor{}, "", "other")}, nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		return adapter.TaskChange{History: task.Note(later, adapter.Actor{}, "", "this")}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := s.Task(ctx, "sr1")
	if calls != 2 || task.Version != 3 || stored.Version != 3 || stored.StatusReason != "the other change" {
		t.Errorf("decided %d times; Task v%d (stored v%d), statusReason %q", calls, task.Version, stored.Version, stored.StatusReason)
	}
}

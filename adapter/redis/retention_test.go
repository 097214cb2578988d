package redis_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/redis"
	"github.com/social-prescribing/referral-adapter/adapter/retention"
	"github.com/social-prescribing/referral-adapter/internal/redistest"
)

// The retention purge runs on real Redis and on miniredis, the embedded
// development store, whose Lua must run the same scripts.
func TestRetention(t *testing.T) {
	redistest.RunContract(t, redis.New, map[string]func(*testing.T, *redis.Store){
		"purges closed referrals only":                              testPurgesClosedReferralsOnly,
		"purges the patient's Consents with their last referral":    testPurgesThePatientsConsentsWithTheirLastReferral,
		"a purge is stored with its audit record or not at all":     testPurgeAudited,
		"every identifier is indexed, and purged with the referral": testEveryIdentifierIndexedAndPurged,
	})
}

func testPurgesClosedReferralsOnly(t *testing.T, st *redis.Store) {
	ctx := context.Background()
	old := time.Now().Add(-9 * 365 * 24 * time.Hour)
	ident := adapter.Identifier{System: "https://x/ref", Value: "R1"}
	b := &adapter.IntakeBatch{}
	for _, id := range []string{"closed", "open"} {
		b.Items = append(b.Items, &adapter.Submission{Kind: adapter.KindServiceRequest, ID: id, Identifier: identFor(id, ident),
			JSON:       []byte(`{"resourceType":"ServiceRequest","identifier":[{"system":"https://x/ref","value":"` + id + `"}]}`),
			Candidates: []string{"lw"},
			Task: &adapter.Task{ID: id, ReferralID: id, Practice: "A81001", Patient: "Patient/secret", Status: adapter.TaskRequested,
				AuthoredOn: old, LastModified: old, Version: 1}})
	}
	if err := st.Intake(ctx, b); err != nil {
		t.Fatal(err)
	}
	// Wellbeing scores (issue 20) on both: the closed referral's go with it,
	// the anonymous counters stay.
	for i, id := range []string{"closed", "closed", "open", "open"} {
		o := adapter.OutcomeRecord{ID: fmt.Sprintf("wb%d", i), TaskID: id, Type: "Observation", Practice: "A81001", Recorded: old,
			Score: &adapter.WellbeingScore{Measure: "swemwbs", Value: float64(17 + 6*(i%2)), At: old.Truncate(24 * time.Hour).Add(time.Duration(i) * time.Hour)}}
		if err := st.SaveOutcome(ctx, o, []byte(`{"resourceType":"Observation"}`)); err != nil {
			t.Fatal(err)
		}
	}
	pairKey := func(id string) string { return strings.TrimSuffix(st.KeyPattern(), "*") + "wbpair:" + id }
	if n, _ := st.Client().Exists(ctx, pairKey("closed"), pairKey("open")).Result(); n != 2 {
		t.Fatalf("%d referrals with wellbeing scores, want 2", n)
	}
	closeLongAgoAndPurge(t, st, "closed", old)
	if n, _ := st.Client().Exists(ctx, pairKey("closed")).Result(); n != 0 {
		t.Error("the closed referral's wellbeing scores were kept")
	}
	if n, _ := st.Client().Exists(ctx, pairKey("open")).Result(); n != 1 {
		t.Error("the open referral's wellbeing scores were purged")
	}
	day := old.Truncate(24 * time.Hour).In(adapter.London()).Format(time.DateOnly)
	if wb, err := st.WellbeingStats(ctx, []string{day}); err != nil || wb[adapter.StatKey{Metric: "wb:paired:swemwbs", Service: "lw"}] != 2 {
		t.Errorf("wellbeing counters after the purge: %v %v", wb, err)
	}
	if _, err := st.ServiceRequest(ctx, "closed"); adapter.ErrorCode(err) != adapter.ENOTFOUND {
		t.Errorf("closed ServiceRequest still there: %v", err)
	}
	stub, err := st.Task(ctx, "closed")
	if err != nil || stub.Patient != "" || stub.Status != adapter.TaskCancelled {
		t.Errorf("stub %+v %v", stub, err)
	}
	if h, _ := st.History(ctx, "closed"); len(h) != 0 {
		t.Errorf("history kept: %v", h)
	}
	found, _ := st.FindExisting(ctx, "A81001", []adapter.IdemKey{{Kind: adapter.KindServiceRequest, Identifier: adapter.Identifier{System: "https://x/ref", Value: "closed"}}})
	if found[0] != "" {
		t.Error("idempotency entry kept: it holds the practice's identifier")
	}
	if _, err := st.ServiceRequest(ctx, "open"); err != nil {
		t.Errorf("open referral purged: %v", err)
	}
	again, _ := st.PurgeClosed(ctx, time.Now().Add(-8*365*24*time.Hour), 100, time.Now())
	if len(again) != 0 {
		t.Errorf("purged twice: %v", again)
	}
}

// A referral with two business identifiers is found under each, for a
// create (idempotency) and a search (by value), and the purge removes it
// from the indexes of both.
func testEveryIdentifierIndexedAndPurged(t *testing.T, st *redis.Store) {
	ctx := context.Background()
	old := time.Now().Add(-9 * 365 * 24 * time.Hour)
	a, b := adapter.Identifier{System: "https://x/ref", Value: "RA"}, adapter.Identifier{System: "https://y/ref", Value: "RB"}
	sub := &adapter.Submission{Kind: adapter.KindServiceRequest, ID: "two", Identifier: a, Identifiers: []adapter.Identifier{a, b},
		JSON:       []byte(`{"resourceType":"ServiceRequest","identifier":[{"system":"https://x/ref","value":"RA"},{"system":"https://y/ref","value":"RB"}]}`),
		Candidates: []string{"lw"},
		Task: &adapter.Task{ID: "two", ReferralID: "two", Practice: "A81001", Patient: "Patient/p2", Status: adapter.TaskRequested,
			AuthoredOn: old, LastModified: old, Version: 1}}
	if err := st.Intake(ctx, &adapter.IntakeBatch{Practice: "A81001", Items: []*adapter.Submission{sub}}); err != nil {
		t.Fatal(err)
	}
	keys := []adapter.IdemKey{{Kind: adapter.KindServiceRequest, Identifier: a}, {Kind: adapter.KindServiceRequest, Identifier: b}}
	if found, err := st.FindExisting(ctx, "A81001", keys); err != nil || found[0] != "two" || found[1] != "two" {
		t.Fatalf("found under its identifiers: %q %v", found, err)
	}
	for _, v := range []string{"RA", "RB"} {
		if ids, err := st.ReferralsByIdentifier(ctx, v); err != nil || len(ids) != 1 || ids[0] != "two" {
			t.Errorf("search by %s: %v %v", v, ids, err)
		}
	}
	closeLongAgoAndPurge(t, st, "two", old)
	if found, err := st.FindExisting(ctx, "A81001", keys); err != nil || found[0] != "" || found[1] != "" {
		t.Errorf("idempotency entries kept after the purge: %q %v", found, err)
	}
	for _, v := range []string{"RA", "RB"} {
		if ids, err := st.ReferralsByIdentifier(ctx, v); err != nil || len(ids) != 0 {
			t.Errorf("search by %s after the purge: %v %v", v, ids, err)
		}
	}
}

// closeLongAgoAndPurge cancels the referral's Task at old and runs the
// retention purge, which must purge that referral and nothing else.
func closeLongAgoAndPurge(t *testing.T, st *redis.Store, id string, old time.Time) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.UpdateTask(ctx, id, func(task *adapter.Task) (adapter.TaskChange, error) {
		h, err := task.Apply(adapter.Transition{To: adapter.TaskCancelled, Reason: "moved away", At: old})
		return adapter.TaskChange{History: h}, err
	}); err != nil {
		t.Fatal(err)
	}
	purged, err := st.PurgeClosed(ctx, time.Now().Add(-8*365*24*time.Hour), 100, time.Now())
	if err != nil || len(purged) != 1 || purged[0] != id {
		t.Fatalf("purged %v %v", purged, err)
	}
}

func identFor(id string, base adapter.Identifier) adapter.Identifier {
	base.Value = id
	return base
}

// When a practice's last referral for a patient is purged, the patient's
// index at the practice and the Consents the practice sent for them go
// too; another patient's, and another practice's Consent for the same
// patient, stay.
func testPurgesThePatientsConsentsWithTheirLastReferral(t *testing.T, st *redis.Store) {
	ctx := context.Background()
	old := time.Now().Add(-9 * 365 * 24 * time.Hour)
	referral := func(id, patient string) *adapter.Submission {
		return &adapter.Submission{Kind: adapter.KindServiceRequest, ID: id, JSON: []byte(`{"resourceType":"ServiceRequest"}`),
			Candidates: []string{"lw"}, Task: &adapter.Task{ID: id, ReferralID: id, Practice: "A81001", Patient: patient,
				Status: adapter.TaskRequested, AuthoredOn: old, LastModified: old, Version: 1}}
	}
	// As intake stores it: the identifier that names the Consent is the
	// first with both system and value.
	consentID := func(id string) adapter.Identifier { return adapter.Identifier{System: "https://x/consent", Value: id} }
	consent := func(id, patient string) *adapter.Submission {
		body := fmt.Sprintf(`{"resourceType":"Consent","identifier":[{"value":"no-system"},{"system":"https://x/consent","value":%q}]}`, id)
		return &adapter.Submission{Kind: adapter.KindConsent, ID: id, JSON: []byte(body), Patient: patient, Identifier: consentID(id)}
	}
	for practice, subs := range map[string][]*adapter.Submission{
		"A81001": {referral("gone", "Patient/a"), referral("kept", "Patient/b"), consent("ca", "Patient/a"), consent("cb", "Patient/b")},
		"B82002": {consent("other", "Patient/a")},
	} {
		if err := st.Intake(ctx, &adapter.IntakeBatch{Practice: practice, Items: subs}); err != nil {
			t.Fatal(err)
		}
	}
	closeLongAgoAndPurge(t, st, "gone", old)
	count := func(practice, patient string) (consents, referrals int) {
		cs, err := st.PatientConsents(ctx, practice, patient)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := st.PatientReferrals(ctx, practice, patient)
		if err != nil {
			t.Fatal(err)
		}
		return len(cs), len(rs)
	}
	if c, r := count("A81001", "Patient/a"); c != 0 || r != 0 {
		t.Errorf("patient a at A81001 after its last referral was purged: %d consents, %d referrals", c, r)
	}
	if c, r := count("A81001", "Patient/b"); c != 1 || r != 1 {
		t.Errorf("patient b at A81001 (open referral): %d consents, %d referrals", c, r)
	}
	if c, _ := count("B82002", "Patient/a"); c != 1 {
		t.Errorf("another practice's consent for patient a: %d", c)
	}
	// The purged Consent's identifier is free again; the others still
	// name their Consents.
	for _, c := range []struct{ practice, id, want string }{{"A81001", "ca", ""}, {"A81001", "cb", "cb"}, {"B82002", "other", "other"}} {
		found, err := st.FindExisting(ctx, c.practice, []adapter.IdemKey{{Kind: adapter.KindConsent, Identifier: consentID(c.id)}})
		if err != nil || found[0] != c.want {
			t.Errorf("Consent %s at %s after the purge: idempotency entry %q, want %q (%v)", c.id, c.practice, found, c.want, err)
		}
	}
}

func testPurgeAudited(t *testing.T, st *redis.Store) {
	ctx := context.Background()
	old := time.Now().Add(-9 * 365 * 24 * time.Hour)
	b := &adapter.IntakeBatch{Items: []*adapter.Submission{{Kind: adapter.KindServiceRequest, ID: "gone", JSON: []byte(`{"resourceType":"ServiceRequest"}`),
		Candidates: []string{"lw"}, Task: &adapter.Task{ID: "gone", ReferralID: "gone", Practice: "A81001", Patient: "Patient/secret",
			Status: adapter.TaskRequested, AuthoredOn: old, LastModified: old, Version: 1}}}}
	if err := st.Intake(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateTask(ctx, "gone", func(task *adapter.Task) (adapter.TaskChange, error) {
		h, err := task.Apply(adapter.Transition{To: adapter.TaskCancelled, Reason: "moved away", At: old})
		return adapter.TaskChange{History: h}, err
	}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	slot := &adapter.AuditSlot{Base: retention.Record(now)}
	actx := adapter.WithAuditSlot(ctx, slot)
	auditKey := strings.TrimSuffix(st.KeyPattern(), "*") + "audit"
	if err := st.Client().Set(ctx, auditKey, "not a stream", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if purged, err := st.PurgeClosed(actx, now.Add(-8*365*24*time.Hour), 100, now); err == nil || len(purged) != 0 {
		t.Fatalf("a purge with the audit stream broken: %v %v", purged, err)
	}
	if _, err := st.ServiceRequest(ctx, "gone"); err != nil || len(slot.Written()) != 0 {
		t.Fatalf("purged without its record: %v", err)
	}
	if err := st.Client().Del(ctx, auditKey).Err(); err != nil {
		t.Fatal(err)
	}
	if purged, err := st.PurgeClosed(actx, now.Add(-8*365*24*time.Hour), 100, now); err != nil || len(purged) != 1 {
		t.Fatalf("purge: %v %v", purged, err)
	}
	recs, err := st.AuditRecords(ctx, adapter.AuditQuery{Limit: 10})
	if err != nil || len(recs) != 1 || recs[0].Entity != "Task/gone" || recs[0].Action != adapter.AuditDelete ||
		recs[0].Kind != "retention" || len(slot.Written()) != 1 {
		t.Errorf("audit trail after the purge: %+v %v", recs, err)
	}
}

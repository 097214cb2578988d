package intake_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/access"
	"github.com/social-prescribing/referral-adapter/adapter/capacity"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/adapter/intake"
	"github.com/social-prescribing/referral-adapter/adapter/redis"
	"github.com/social-prescribing/referral-adapter/adapter/routing"
	"github.com/social-prescribing/referral-adapter/internal/redistest"
	"github.com/social-prescribing/referral-adapter/mappings"
)

// consentEnv is intake with the default network and consent required, over
// a real Redis, on a clock the test moves.
type consentEnv struct {
	in     *intake.Service
	store  *redis.Store
	m      *routing.Mappings
	caps   *capacity.Service
	parser *fhir.Parser
	mu     sync.Mutex
	now    time.Time
}

var start = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func newConsentEnv(t *testing.T) *consentEnv {
	t.Helper()
	m, err := routing.Load(mappings.Default, "mappings")
	if err != nil {
		t.Fatal(err)
	}
	p, err := fhir.NewParser()
	if err != nil {
		t.Fatal(err)
	}
	e := &consentEnv{store: redis.New(redistest.Client(t), redistest.Namespace(t)), m: m, parser: p, now: start}
	policy := access.New(m, p.ConsentReader(e.store), e.store, m.Network.LinkWorker, true)
	policy.SetClock(e.clock)
	e.caps = capacity.New(e.store, m, policy.Gate, capacity.DefaultConfig())
	if _, err := e.caps.Seed(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.in = e.intakeOver(e.store)
	return e
}

// consentedReferral sends the patient's Consent C-1 and then a debt
// referral, which it permits; it returns the Consent and the referral.
func (e *consentEnv) consentedReferral(t *testing.T) ([]byte, *intake.Result) {
	t.Helper()
	consent := shareConsent(t, "C-1", nil)
	if _, err := e.in.CreateConsent(context.Background(), caller, consent, adapter.Identifier{}); err != nil {
		t.Fatal(err)
	}
	r, err := e.in.CreateServiceRequest(context.Background(), caller, debtReferral(t, 1), adapter.Identifier{})
	if err != nil {
		t.Fatal(err)
	}
	return consent, r
}

// intakeOver is the env's intake over another view of its store.
func (e *consentEnv) intakeOver(st intake.Store) *intake.Service {
	return intake.New(e.parser, st, e.m, intake.WithClock(e.clock), intake.WithStaleAfter(0))
}

func (e *consentEnv) clock() time.Time { e.mu.Lock(); defer e.mu.Unlock(); return e.now }
func (e *consentEnv) advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(d)
}

var caller = intake.Caller{Actor: adapter.Actor{Org: practice, Role: adapter.RolePractice}}

// withoutConsent is for the tests of routing, placement and idempotency:
// their referrals go straight to routing, without waiting for consent.
func withoutConsent() intake.Option {
	c := intake.DefaultConfig()
	c.ConsentRequired = false
	return intake.WithConfig(c)
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../fixtures/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// edit returns a JSON document with top-level members replaced.
func edit(t testing.TB, doc []byte, set map[string]any) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range set {
		m[k] = v
	}
	out, _ := json.Marshal(m)
	return out
}

// debtReferral is the golden money-worries referral for NHS number
// 9000000009, with its own identifier.
func debtReferral(t testing.TB, n int) []byte {
	return referralFixture(t, "servicerequest-debt.json", n)
}

// lonelinessReferral is the golden loneliness referral for the same
// patient: a second need, so not a duplicate (issue 11). Its rule targets
// befriending, which is no partner of the network under the sharing
// agreement: under the golden consent (to the network) it goes to the link
// workers instead (issue 17).
func lonelinessReferral(t testing.TB, n int) []byte {
	return referralFixture(t, "servicerequest-loneliness.json", n)
}

func referralFixture(t testing.TB, fixture string, n int) []byte {
	return edit(t, readFixture(t, fixture), map[string]any{"identifier": []any{
		map[string]any{"system": "https://test.example/Id/referral", "value": fmt.Sprintf("R-%d", n)}}})
}

// shareConsent is the golden consent (disclose to the network, for care),
// with its own identifier.
func shareConsent(t testing.TB, id string, set map[string]any) []byte {
	b := edit(t, readFixture(t, "consent-share-with-link-workers.json"), map[string]any{"identifier": []any{
		map[string]any{"system": "https://test.example/Id/consent", "value": id}}})
	return edit(t, b, set)
}

func (e *consentEnv) task(t *testing.T, id string) *adapter.Task {
	t.Helper()
	task, err := e.store.Task(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return task
}

// where says where a referral is: the queues and waitlists holding it, the
// slot it holds and whether it is among the consent holds.
func (e *consentEnv) where(t *testing.T, id string) (queued, waitlisted []string, held bool) {
	t.Helper()
	ctx := context.Background()
	for _, svc := range []string{"riverside-link-workers", "money-advice", "housing-options", "befriending"} {
		q, err := e.store.QueuedTaskIDs(ctx, svc)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(q, id) {
			queued = append(queued, svc)
		}
		w, err := e.store.Waitlist(ctx, svc)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(w, id) {
			waitlisted = append(waitlisted, svc)
		}
	}
	holds, err := e.store.ConsentHolds(ctx, e.clock().Add(1000*24*time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	held = slices.ContainsFunc(holds, func(h *adapter.Task) bool { return h.ID == id })
	return queued, waitlisted, held
}

func (e *consentEnv) reserved(t *testing.T, svc string) int {
	t.Helper()
	c, err := e.store.Capacity(context.Background(), svc)
	if err != nil {
		t.Fatal(err)
	}
	return c.Reserved
}

func checkHeld(t *testing.T, e *consentEnv, id, reason string) {
	t.Helper()
	task := e.task(t, id)
	if task.Status != adapter.TaskOnHold || task.BusinessStatus.Code != adapter.BSAwaitingConsent || task.StatusReason != reason {
		t.Fatalf("Task %s: status %s, businessStatus %q, reason %q; want on-hold, awaiting-consent, %q",
			id, task.Status, task.BusinessStatus.Code, task.StatusReason, reason)
	}
	if q, w, held := e.where(t, id); len(q) > 0 || len(w) > 0 || !held {
		t.Fatalf("held Task %s: queued at %v, waitlisted at %v, among consent holds %v", id, q, w, held)
	}
}

func checkQueued(t *testing.T, e *consentEnv, id, svc string) *adapter.Task {
	t.Helper()
	task := e.task(t, id)
	if task.Status != adapter.TaskRequested || task.ConsentHeld() || task.Owner != svc || task.Reserved != svc {
		t.Fatalf("Task %s: %s %q owner %s slot %q; want requested, owned by and holding a slot at %s",
			id, task.Status, task.BusinessStatus.Code, task.Owner, task.Reserved, svc)
	}
	if q, w, held := e.where(t, id); !slices.Equal(q, []string{svc}) || len(w) > 0 || held {
		t.Fatalf("Task %s: queued at %v, waitlisted at %v, among consent holds %v; want queued at %s only", id, q, w, held, svc)
	}
	return task
}

// Without consent a referral is accepted but waits: on-hold, awaiting
// consent, in no queue, holding no slot. The consent, sent on its own
// later, releases it into its queue, placed by capacity then, with its
// first-contact deadline counted from then.
func TestReferralWaitsForConsentSentLater(t *testing.T) {
	e := newConsentEnv(t)
	ctx := context.Background()
	r, err := e.in.CreateServiceRequest(ctx, caller, debtReferral(t, 1), adapter.Identifier{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Task.Status != adapter.TaskOnHold || r.Task.StatusReason != "awaiting consent" || r.Placement != nil {
		t.Fatalf("response Task %+v, placement %+v", r.Task, r.Placement)
	}
	checkHeld(t, e, r.ID, "awaiting consent")
	if n := e.reserved(t, "money-advice"); n != 0 {
		t.Fatalf("a held referral holds a slot: reserved %d", n)
	}
	before := e.task(t, r.ID)

	e.advance(3 * 24 * time.Hour)
	c, err := e.in.CreateConsent(ctx, caller, shareConsent(t, "C-1", nil), adapter.Identifier{})
	if err != nil || c.Existing || c.Version != 1 {
		t.Fatalf("consent: %+v %v", c, err)
	}
	task := checkQueued(t, e, r.ID, "money-advice")
	if n := e.reserved(t, "money-advice"); n != 1 {
		t.Fatalf("released referral's slot: reserved %d, want 1", n)
	}
	if task.Version != before.Version+1 || !task.FirstContactDue.After(before.FirstContactDue) || task.HeldFrom != "" {
		t.Errorf("released Task %+v (before %+v)", task, before)
	}
	hist, _ := e.store.History(ctx, r.ID)
	if len(hist) == 0 || hist[len(hist)-1].From != "on-hold" || hist[len(hist)-1].To != "requested" || hist[len(hist)-1].By.Role != "system" {
		t.Errorf("history %+v", hist)
	}
}

// A referral sent with its consent in one transaction never waits.
func TestConsentInTheSameTransaction(t *testing.T) {
	e := newConsentEnv(t)
	entries, err := e.parser.Transaction(readFixture(t, "bundle-referral-transaction.json"))
	if err != nil {
		t.Fatal(err)
	}
	in := make([]intake.Entry, len(entries))
	for i := range entries {
		in[i] = intake.Entry{Tx: &entries[i]}
	}
	rs, err := e.in.Transact(context.Background(), caller, in)
	if err != nil {
		t.Fatal(err)
	}
	sr := rs[1]
	if sr.Task.Status != adapter.TaskRequested || sr.Placement == nil {
		t.Fatalf("referral with its consent: %+v", sr.Task)
	}
	// The employment referral's patient (born 1958) is past work and
	// skills coaching's age limit: the link workers take it.
	checkQueued(t, e, sr.ID, "riverside-link-workers")
}

// A consent in a later transaction releases the patient's held referral;
// one that does not permit the disclosure, or from another practice,
// does not.
func TestConsentInALaterTransaction(t *testing.T) {
	e := newConsentEnv(t)
	ctx := context.Background()
	tx := func(body []byte) []*intake.Result {
		t.Helper()
		entries, err := e.parser.Transaction(body)
		if err != nil {
			t.Fatal(err)
		}
		in := make([]intake.Entry, len(entries))
		for i := range entries {
			in[i] = intake.Entry{Tx: &entries[i]}
		}
		rs, err := e.in.Transact(ctx, caller, in)
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	// Patient and referral, no consent.
	var bundle map[string]any
	_ = json.Unmarshal(readFixture(t, "bundle-referral-transaction.json"), &bundle)
	all := bundle["entry"].([]any)
	bundle["entry"] = all[:2]
	first, _ := json.Marshal(bundle)
	rs := tx(first)
	patient, sr := "Patient/"+rs[0].ID, rs[1].ID
	checkHeld(t, e, sr, "awaiting consent")

	consentTx := func(id string, set map[string]any) []byte {
		set["patient"] = map[string]any{"reference": patient}
		c := shareConsent(t, id, set)
		var res map[string]any
		_ = json.Unmarshal(c, &res)
		b, _ := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
			map[string]any{"resource": res, "request": map[string]any{"method": "POST", "url": "Consent"}}}})
		return b
	}
	var provision map[string]any
	_ = json.Unmarshal(shareConsent(t, "x", nil), &provision)
	prov := provision["provision"].(map[string]any)
	otherActor := clone(prov)
	otherActor["actor"] = []any{map[string]any{
		"role":      map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}}},
		"reference": map[string]any{"type": "Organization", "identifier": map[string]any{"system": adapter.SystemODS, "value": "B99999"}}}}
	marketing := clone(prov)
	marketing["purpose"] = []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HMARKT"}}
	expired := clone(prov)
	expired["period"] = map[string]any{"start": "2025-01-01", "end": "2026-11-22"}
	for name, set := range map[string]map[string]any{
		"to another organisation": {"provision": otherActor},
		"for marketing":           {"provision": marketing},
		"expired":                 {"provision": expired},
		"draft":                   {"status": "draft"},
	} {
		tx(consentTx("C-"+name, set))
		checkHeld(t, e, sr, "awaiting consent")
	}
	// The same consent from another practice is none of this referral's.
	other := intake.Caller{Actor: adapter.Actor{Org: "B82002", Role: adapter.RolePractice}}
	if _, err := e.in.CreateConsent(ctx, other, shareConsent(t, "C-other", map[string]any{"patient": map[string]any{"reference": patient}}), adapter.Identifier{}); err != nil {
		t.Fatal(err)
	}
	checkHeld(t, e, sr, "awaiting consent")

	tx(consentTx("C-good", map[string]any{}))
	checkQueued(t, e, sr, "riverside-link-workers")
}

func clone(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// Consent naming the organisation that provides the service is as good as
// consent naming the network; naming another provider is not.
func TestConsentToTheProvidingOrganisation(t *testing.T) {
	for ods, queued := range map[string]bool{"X1V01": true, "X1V02": false} {
		ref := map[string]any{"type": "Organization", "identifier": map[string]any{"system": adapter.SystemODS, "value": ods}}
		name := ods
		t.Run(name, func(t *testing.T) {
			e := newConsentEnv(t)
			var c map[string]any
			_ = json.Unmarshal(shareConsent(t, "C-1", nil), &c)
			prov := c["provision"].(map[string]any)
			prov["actor"].([]any)[0].(map[string]any)["reference"] = ref
			body, _ := json.Marshal(c)
			if _, err := e.in.CreateConsent(context.Background(), caller, body, adapter.Identifier{}); err != nil {
				t.Fatal(err)
			}
			r, err := e.in.CreateServiceRequest(context.Background(), caller, debtReferral(t, 1), adapter.Identifier{})
			if err != nil {
				t.Fatal(err)
			}
			if queued {
				checkQueued(t, e, r.ID, "money-advice")
			} else {
				checkHeld(t, e, r.ID, "awaiting consent")
			}
		})
	}
}

// A referral that waited longer than CONSENT_HOLD_MAX_AGE is cancelled by
// the expiry job, with a reason saying so; younger ones keep waiting; one
// whose consent arrived without being acted on is released instead.
func TestConsentHoldExpiry(t *testing.T) {
	e := newConsentEnv(t)
	ctx := context.Background()
	old, err := e.in.CreateServiceRequest(ctx, caller, debtReferral(t, 1), adapter.Identifier{})
	if err != nil {
		t.Fatal(err)
	}
	e.advance(20 * 24 * time.Hour)
	young, err := e.in.CreateServiceRequest(ctx, caller, lonelinessReferral(t, 2), adapter.Identifier{})
	if err != nil {
		t.Fatal(err)
	}

	e.advance(9 * 24 * time.Hour) // old: 29 days
	rep, err := e.in.ExpireConsentHolds(ctx, 0)
	if err != nil || rep["cancelled"] != 0 || rep["released"] != 0 {
		t.Fatalf("at 29 days: %v %v", rep, err)
	}
	checkHeld(t, e, old.ID, "awaiting consent")

	e.advance(2 * 24 * time.Hour) // old: 31 days, young: 11
	rep, err = e.in.ExpireConsentHolds(ctx, 0)
	if err != nil || rep["cancelled"] != 1 {
		t.Fatalf("at 31 days: %v %v", rep, err)
	}
	task := e.task(t, old.ID)
	if task.Status != adapter.TaskCancelled || task.BusinessStatus.Code != adapter.BSConsentExpired ||
		task.StatusReason != "Cancelled: the patient's consent was not received within 30 days" {
		t.Fatalf("expired Task %+v", task)
	}
	if q, w, held := e.where(t, old.ID); len(q)+len(w) > 0 || held {
		t.Fatalf("expired Task still queued %v, waitlisted %v or held %v", q, w, held)
	}
	checkHeld(t, e, young.ID, "awaiting consent")
	if rep, _ := e.in.ExpireConsentHolds(ctx, 0); rep["cancelled"] != 0 {
		t.Fatalf("a second run cancels again: %v", rep)
	}

	// The young referral's consent is stored by an intake that did not act
	// on it; the job finds it when the hold expires and releases instead.
	off := intake.DefaultConfig()
	off.ConsentRequired = false
	m, _ := routing.Load(mappings.Default, "mappings")
	quiet := intake.New(e.parser, e.store, m, intake.WithConfig(off), intake.WithClock(e.clock))
	if _, err := quiet.CreateConsent(ctx, caller, shareConsent(t, "C-1", nil), adapter.Identifier{}); err != nil {
		t.Fatal(err)
	}
	checkHeld(t, e, young.ID, "awaiting consent")
	e.advance(20 * 24 * time.Hour)
	if rep, err := e.in.ExpireConsentHolds(ctx, 0); err != nil || rep["released"] != 1 || rep["cancelled"] != 0 {
		t.Fatalf("expiry with the consent present: %v %v", rep, err)
	}
	checkQueued(t, e, young.ID, "riverside-link-workers")
}

// Withdrawal: the same Consent sent again as inactive becomes its second
// version and pauses the patient's live referrals (queued or accepted);
// a late retry of the original cannot undo it; a new consent resumes them
// where they were, keeping their capacity slots.
func TestConsentWithdrawalPausesReferrals(t *testing.T) {
	e := newConsentEnv(t)
	ctx := context.Background()
	consent, queued := e.consentedReferral(t)
	accepted, err := e.in.CreateServiceRequest(ctx, caller, lonelinessReferral(t, 2), adapter.Identifier{})
	if err != nil {
		t.Fatal(err)
	}
	checkQueued(t, e, queued.ID, "money-advice")
	contacted := func(task *adapter.Task) (adapter.TaskChange, error) {
		h, err := task.Apply(adapter.Transition{To: adapter.TaskAccepted, BusinessStatus: adapter.BSContacted, At: e.clock()})
		return adapter.TaskChange{History: h}, err
	}
	if _, err := e.store.UpdateTask(ctx, accepted.ID, contacted); err != nil {
		t.Fatal(err)
	}
	e.advance(time.Hour)

	w, err := e.in.CreateConsent(ctx, caller, edit(t, consent, map[string]any{"status": "inactive"}), adapter.Identifier{})
	if err != nil || w.Existing || w.Version != 2 {
		t.Fatalf("withdrawal: %+v %v", w, err)
	}
	var stored map[string]any
	body, _, _ := e.store.Consent(ctx, w.ID)
	_ = json.Unmarshal(body, &stored)
	if stored["status"] != "inactive" || stored["meta"].(map[string]any)["versionId"] != "2" {
		t.Fatalf("stored consent after withdrawal: %s", body)
	}
	checkHeld(t, e, queued.ID, adapter.ReasonConsentWithdraw)
	checkHeld(t, e, accepted.ID, adapter.ReasonConsentWithdraw)
	if n, m := e.reserved(t, "money-advice"), e.reserved(t, "riverside-link-workers"); n != 1 || m != 1 {
		t.Fatalf("paused referrals keep their slots: reserved %d and %d, want 1 and 1", n, m)
	}
	if _, err := e.store.UpdateTask(ctx, accepted.ID, func(task *adapter.Task) (adapter.TaskChange, error) {
		h, err := task.Apply(adapter.Transition{To: adapter.TaskInProgress, At: e.clock()})
		return adapter.TaskChange{History: h}, err
	}); adapter.ErrorCode(err) != adapter.ECONFLICT {
		t.Fatalf("a worker resumes a paused referral: %v", err)
	}

	// The original, sent again (a late retry), changes nothing.
	again, err := e.in.CreateConsent(ctx, caller, consent, adapter.Identifier{})
	if err != nil || !again.Existing || again.Version != 2 {
		t.Fatalf("retry of the original: %+v %v", again, err)
	}
	checkHeld(t, e, queued.ID, adapter.ReasonConsentWithdraw)
	// So does the withdrawal, sent again.
	if w2, err := e.in.CreateConsent(ctx, caller, edit(t, consent, map[string]any{"status": "inactive"}), adapter.Identifier{}); err != nil || !w2.Existing {
		t.Fatalf("withdrawal sent again: %+v %v", w2, err)
	}

	// New consent: back where they were.
	e.advance(time.Hour)
	if _, err := e.in.CreateConsent(ctx, caller, shareConsent(t, "C-2", map[string]any{"dateTime": "2026-11-23T11:00:00Z"}), adapter.Identifier{}); err != nil {
		t.Fatal(err)
	}
	checkQueued(t, e, queued.ID, "money-advice")
	if task := e.task(t, accepted.ID); task.Status != adapter.TaskAccepted || task.BusinessStatus.Code != adapter.BSContacted || task.ConsentHeld() {
		t.Fatalf("resumed accepted referral: %+v", task)
	}
	if n, m := e.reserved(t, "money-advice"), e.reserved(t, "riverside-link-workers"); n != 1 || m != 1 {
		t.Fatalf("resumed referrals hold one slot each: reserved %d and %d, want 1 and 1", n, m)
	}
}

// A conditional create of the Consent (If-None-Exist, or a transaction
// entry's ifNoneExist) that finds it answers the stored Consent and
// changes nothing, whatever the body says (FHIR http.html#ccreate): an
// inactive body sent that way is not a withdrawal, and the referral stays
// queued. Sent without the condition, it withdraws as before.
func TestConditionalCreateOfAConsentNeverWithdrawsIt(t *testing.T) {
	e := newConsentEnv(t)
	ctx := context.Background()
	consent, queued := e.consentedReferral(t)
	inactive := edit(t, consent, map[string]any{"status": "inactive"})
	cond := adapter.Identifier{System: "https://test.example/Id/consent", Value: "C-1"}
	r, err := e.in.CreateConsent(ctx, caller, inactive, cond)
	if err != nil || !r.Existing || r.Version > 1 {
		t.Fatalf("conditional create of the inactive Consent: %+v %v", r, err)
	}
	body, _, _ := e.store.Consent(ctx, r.ID)
	var stored map[string]any
	_ = json.Unmarshal(body, &stored)
	if stored["status"] != "active" || stored["meta"].(map[string]any)["versionId"] != "1" {
		t.Fatalf("the conditional create changed the stored Consent: %s", body)
	}
	checkQueued(t, e, queued.ID, "money-advice")
	if w, err := e.in.CreateConsent(ctx, caller, inactive, adapter.Identifier{}); err != nil || w.Version != 2 {
		t.Fatalf("the withdrawal without the condition: %+v %v", w, err)
	}
	checkHeld(t, e, queued.ID, adapter.ReasonConsentWithdraw)
}

// A consent and a referral for the same patient arriving at the same
// moment never leave the referral waiting: whichever is written second
// sees the other.
func TestConsentAndReferralRace(t *testing.T) {
	e := newConsentEnv(t)
	ctx := context.Background()
	const n = 20
	var wg sync.WaitGroup
	ids := make([]string, n)
	errs := make(chan error, 2*n)
	for i := range n {
		nhs := adapter.SyntheticNHSNumber(100 + i)
		subject := map[string]any{"type": "Patient", "identifier": map[string]any{"system": adapter.SystemNHSNumber, "value": nhs}}
		wg.Add(2)
		go func() {
			defer wg.Done()
			r, err := e.in.CreateServiceRequest(ctx, caller, edit(t, debtReferral(t, i), map[string]any{"subject": subject}), adapter.Identifier{})
			if err != nil {
				errs <- err
				return
			}
			ids[i] = r.ID
		}()
		go func() {
			defer wg.Done()
			if _, err := e.in.CreateConsent(ctx, caller, shareConsent(t, "C-"+nhs, map[string]any{"patient": subject}), adapter.Identifier{}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, id := range ids {
		if task := e.task(t, id); task.Status != adapter.TaskRequested || task.ConsentHeld() {
			t.Errorf("Task %s left %s (%s)", id, task.Status, task.StatusReason)
		}
	}
}

// recordingStore notes the Task events intake publishes.
// A referral's creation and its consent moves each put an event on the
// notification stream (the creation in the same script as the write).
func TestConsentMovesAreNotified(t *testing.T) {
	e := newConsentEnv(t)
	m, _ := routing.Load(mappings.Default, "mappings")
	in := intake.New(e.parser, e.store, m, intake.WithClock(e.clock))
	ctx := context.Background()
	if err := e.store.EnsureNotifyGroup(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := in.CreateServiceRequest(ctx, caller, debtReferral(t, 1), adapter.Identifier{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.CreateConsent(ctx, caller, shareConsent(t, "C-1", nil), adapter.Identifier{}); err != nil {
		t.Fatal(err)
	}
	triggers, err := e.store.ReadTriggers(ctx, "test", 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	var statuses []adapter.TaskStatus
	for _, tr := range triggers {
		if tr.Event.TaskID == r.ID && tr.Event.Practice == practice {
			statuses = append(statuses, tr.Event.Status)
		}
	}
	if !slices.Equal(statuses, []adapter.TaskStatus{adapter.TaskOnHold, adapter.TaskRequested}) {
		t.Fatalf("events %v", statuses)
	}
}

// Reports count a referral that waited for consent as received when it
// arrives and as placed where consent released it, once.
func TestConsentHoldReportCounters(t *testing.T) {
	e := newConsentEnv(t)
	m, _ := routing.Load(mappings.Default, "mappings")
	in := intake.New(e.parser, e.store, m, intake.WithClock(e.clock), intake.WithStats(e.store))
	ctx := context.Background()
	if _, err := in.CreateServiceRequest(ctx, caller, debtReferral(t, 1), adapter.Identifier{}); err != nil {
		t.Fatal(err)
	}
	day := e.clock().In(adapter.London()).Format("2006-01-02")
	count := func(metric string) int64 {
		t.Helper()
		stats, err := e.store.DayStats(ctx, []string{day})
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for k, v := range stats {
			if k.Metric == metric && k.Service == "money-advice" {
				n += v
			}
		}
		return n
	}
	if count(adapter.MReceived) != 1 || count(adapter.MPlaced) != 0 {
		t.Fatalf("held: received %d, placed %d", count(adapter.MReceived), count(adapter.MPlaced))
	}
	if _, err := in.CreateConsent(ctx, caller, shareConsent(t, "C-1", nil), adapter.Identifier{}); err != nil {
		t.Fatal(err)
	}
	if count(adapter.MReceived) != 1 || count(adapter.MPlaced) != 1 {
		t.Fatalf("released: received %d, placed %d", count(adapter.MReceived), count(adapter.MPlaced))
	}
}

// A withdrawal sent in the same transaction as a new referral for the
// patient pauses the referral already under way, and the new one waits:
// the request's own referral does not stand in for the patient's others.
func TestWithdrawalInATransactionWithANewReferral(t *testing.T) {
	e := newConsentEnv(t)
	ctx := context.Background()
	consent, earlier := e.consentedReferral(t)
	checkQueued(t, e, earlier.ID, "money-advice")
	e.advance(time.Hour)
	entry := func(kind string, body []byte) map[string]any {
		var res map[string]any
		_ = json.Unmarshal(body, &res)
		return map[string]any{"resource": res, "request": map[string]any{"method": "POST", "url": kind}}
	}
	bundle, _ := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
		entry("Consent", edit(t, consent, map[string]any{"status": "inactive"})),
		entry("ServiceRequest", lonelinessReferral(t, 2))}})
	entries, err := e.parser.Transaction(bundle)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := e.in.Transact(ctx, caller, []intake.Entry{{Tx: &entries[0]}, {Tx: &entries[1]}})
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Version != 2 {
		t.Fatalf("the withdrawal: %+v", rs[0])
	}
	checkHeld(t, e, earlier.ID, adapter.ReasonConsentWithdraw)
	checkHeld(t, e, rs[1].ID, adapter.ReasonAwaitingConsent)
}

// A new Consent is written without looking its identifier up first (issue
// 22); sent again it is still found and answered as stored, never written
// twice.
func TestConsentSentAgainIsFound(t *testing.T) {
	e := newConsentEnv(t)
	ctx := context.Background()
	body := shareConsent(t, "C-again", nil)
	first, err := e.in.CreateConsent(ctx, caller, body, adapter.Identifier{})
	if err != nil || first.Existing {
		t.Fatalf("first: %+v %v", first, err)
	}
	again, err := e.in.CreateConsent(ctx, caller, body, adapter.Identifier{})
	if err != nil || !again.Existing || again.ID != first.ID {
		t.Fatalf("sent again: %+v %v (first %s)", again, err, first.ID)
	}
}

// The store keeps a Consent compressed, and every read gives back the bytes
// intake created: the read, the one sent again (an idempotent retry
// answers the stored Consent) and the patient's Consents the consent
// checks read, whose engine forms the parser keeps by a hash of exactly
// those bytes (fhir.Parser.KeepConsent at intake).
func TestStoredConsentReadsAsCreated(t *testing.T) {
	e := newConsentEnv(t)
	ctx := context.Background()
	body := shareConsent(t, "C-zip", nil)
	c, err := e.in.CreateConsent(ctx, caller, body, adapter.Identifier{})
	if err != nil || c.Existing {
		t.Fatalf("consent: %+v %v", c, err)
	}
	stored, err := e.store.Client().HGet(ctx, strings.TrimSuffix(e.store.KeyPattern(), "*")+"consent:"+c.ID, "json").Result()
	if err != nil || stored == "" || stored[0] == '{' || len(stored) >= len(c.JSON) {
		t.Fatalf("stored %d bytes for %d of JSON (%v): not compressed", len(stored), len(c.JSON), err)
	}
	got, from, err := e.store.Consent(ctx, c.ID)
	if err != nil || from != caller.Org || !bytes.Equal(got, c.JSON) {
		t.Errorf("read back: %v, practice %q, same bytes %v", err, from, bytes.Equal(got, c.JSON))
	}
	again, err := e.in.CreateConsent(ctx, caller, body, adapter.Identifier{})
	if err != nil || !again.Existing || !bytes.Equal(again.JSON, c.JSON) {
		t.Errorf("sent again: existing %v, same bytes %v, %v", again.Existing, bytes.Equal(again.JSON, c.JSON), err)
	}
	const patient = "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009"
	cs, err := e.store.PatientConsents(ctx, caller.Org, patient)
	if err != nil || len(cs) != 1 || !bytes.Equal(cs[0], c.JSON) {
		t.Errorf("the patient's Consents: %d, %v", len(cs), err)
	}
}

// holdsDown is the store with its consent moves failing until up: a
// request stopped after its intake step and before the referrals moved.
type holdsDown struct {
	*redis.Store
	up bool
}

func (h *holdsDown) UpdatePatientHolds(ctx context.Context, practice, patient string, r *adapter.Routing,
	decide func([]*adapter.Task) []adapter.ConsentMove) ([]adapter.ConsentMove, error) {
	if !h.up {
		return nil, errors.New("the adapter stopped here")
	}
	return h.Store.UpdatePatientHolds(ctx, practice, patient, r, decide)
}

// A withdrawal stored by a request that stopped before pausing the
// patient's referrals pauses them when the client sends it again (it had
// no answer): the retry is not taken for a mere repeat.
func TestWithdrawalRetriedAfterAStopPausesReferrals(t *testing.T) {
	e := newConsentEnv(t)
	ctx := context.Background()
	consent, queued := e.consentedReferral(t)
	down := &holdsDown{Store: e.store}
	in := e.intakeOver(down)
	e.advance(time.Hour)
	withdrawal := edit(t, consent, map[string]any{"status": "inactive"})
	if _, err := in.CreateConsent(ctx, caller, withdrawal, adapter.Identifier{}); err == nil {
		t.Fatal("the stopped request answered")
	}
	if task := e.task(t, queued.ID); task.ConsentHeld() {
		t.Fatal("paused although the request stopped first: the test shows nothing")
	}
	down.up = true
	if w, err := in.CreateConsent(ctx, caller, withdrawal, adapter.Identifier{}); err != nil || !w.Existing {
		t.Fatalf("withdrawal sent again: %+v %v", w, err)
	}
	checkHeld(t, e, queued.ID, adapter.ReasonConsentWithdraw)
}

// A Consent stored by a request that stopped before releasing the
// patient's waiting referral releases it at the consent-hold-expiry job's
// next run, once the request has had its time: the referral does not wait
// for the maximum age, nor is it cancelled then.
func TestConsentArrivedUnreconciledIsReleasedByTheJob(t *testing.T) {
	e := newConsentEnv(t)
	ctx := context.Background()
	held, err := e.in.CreateServiceRequest(ctx, caller, debtReferral(t, 1), adapter.Identifier{})
	if err != nil {
		t.Fatal(err)
	}
	checkHeld(t, e, held.ID, adapter.ReasonAwaitingConsent)
	in := e.intakeOver(&holdsDown{Store: e.store})
	if _, err := in.CreateConsent(ctx, caller, shareConsent(t, "C-1", nil), adapter.Identifier{}); err == nil {
		t.Fatal("the stopped request answered")
	}
	checkHeld(t, e, held.ID, adapter.ReasonAwaitingConsent)
	if rep, err := e.in.ExpireConsentHolds(ctx, 0); err != nil || rep["released"] != 0 {
		t.Fatalf("job within the grace: %v %v", rep, err)
	}
	e.advance(11 * time.Minute)
	if rep, err := e.in.ExpireConsentHolds(ctx, 0); err != nil || rep["released"] != 1 || rep["cancelled"] != 0 {
		t.Fatalf("job: %v %v", rep, err)
	}
	checkQueued(t, e, held.ID, "money-advice")
}

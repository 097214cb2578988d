package intake_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/adapter/intake"
	"github.com/social-prescribing/referral-adapter/adapter/redis"
	"github.com/social-prescribing/referral-adapter/adapter/routing"
	"github.com/social-prescribing/referral-adapter/internal/redistest"
	"github.com/social-prescribing/referral-adapter/internal/testfiles"
	"github.com/social-prescribing/referral-adapter/mappings"
)

// rig is the intake service as the adapter runs it: the real parser, the
// default mappings, and the Redis store on a real Redis server, in a
// namespace of its own.
type rig struct {
	svc    *intake.Service
	store  *redis.Store
	parser *fhir.Parser
}

func newRig(t *testing.T) *rig {
	t.Helper()
	p, err := fhir.NewParser()
	if err != nil {
		t.Fatal(err)
	}
	m, err := routing.Load(mappings.Default, "mappings")
	if err != nil {
		t.Fatal(err)
	}
	store := redis.New(redistest.Client(t), redistest.Namespace(t))
	return &rig{svc: intake.New(p, store, m, withoutConsent()), store: store, parser: p}
}

var (
	bg       = context.Background()
	surgery  = intake.Caller{Actor: adapter.Actor{Org: "A81001", Role: adapter.RolePractice}}
	referral = adapter.Identifier{System: "https://fhir.a81001.example.nhs.uk/Id/social-prescribing-referral"}
)

func referralID(v string) adapter.Identifier { r := referral; r.Value = v; return r }

// keys lists every key the store holds in the rig's namespace.
func (r *rig) keys(t *testing.T) []string {
	t.Helper()
	ks, err := r.store.Client().Keys(bg, r.store.KeyPattern()).Result()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ks)
	return ks
}

// tx parses a transaction Bundle and hands its entries to intake.
func (r *rig) tx(t *testing.T, body []byte) ([]*intake.Result, error) {
	t.Helper()
	entries, err := r.parser.Transaction(body)
	if err != nil {
		return nil, err
	}
	in := make([]intake.Entry, len(entries))
	for i := range entries {
		in[i] = intake.Entry{Tx: &entries[i]}
	}
	return r.svc.Transact(bg, surgery, in)
}

func wantErr(t *testing.T, err error, code string, expr ...string) *adapter.Error {
	t.Helper()
	var e *adapter.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("error %v, want %s", err, code)
	}
	if len(expr) > 0 && !slices.Equal(e.Expression, expr) {
		t.Errorf("expression %v, want %v", e.Expression, expr)
	}
	return e
}

func queue(t *testing.T, r *rig, svc string) []string {
	t.Helper()
	ids, err := r.store.QueuedTaskIDs(bg, svc)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// jsonField reads a top-level field of stored JSON as a string.
func jsonField(t *testing.T, body []byte, path ...string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("stored JSON: %v", err)
	}
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		default:
			return ""
		}
	}
	s, _ := v.(string)
	return s
}

// Each golden ServiceRequest is accepted and routed, or rejected, exactly
// as fixtures/README.md says.
func TestFixtureReferrals(t *testing.T) {
	cases := []struct {
		fixture  string
		owner    string // "" with status rejected: stopped by a safety screen
		status   adapter.TaskStatus
		bs       string
		priority adapter.Priority
		rule     string
	}{
		{"servicerequest-debt.json", "money-advice", adapter.TaskRequested, adapter.BSRouted, adapter.PriorityRoutine, "debt-and-benefits"},
		{"servicerequest-housing-urgent.json", "housing-options", adapter.TaskRequested, adapter.BSRouted, adapter.PriorityUrgent, "housing"},
		{"servicerequest-loneliness.json", "befriending", adapter.TaskRequested, adapter.BSRouted, adapter.PriorityRoutine, "loneliness"},
		{"servicerequest-general.json", "riverside-link-workers", adapter.TaskRequested, adapter.BSRouted, adapter.PriorityRoutine, "social-prescribing"},
		{"servicerequest-performer.json", "carers-support", adapter.TaskRequested, adapter.BSRouted, adapter.PriorityRoutine, "carers"},
		// Stopped before routing: no owner, no queue, no routing priority.
		{"servicerequest-crisis.json", "", adapter.TaskRejected, adapter.BSClinicalRedir, adapter.PriorityRoutine, "safety:suicidal-ideation-or-self-harm"},
		{"servicerequest-out-of-remit.json", "", adapter.TaskRejected, adapter.BSOutOfRemit, adapter.PriorityRoutine, "safety:acute-psychosis-or-severe-mental-illness"},
	}
	for _, c := range cases {
		t.Run(c.fixture, func(t *testing.T) {
			r := newRig(t)
			res, err := r.svc.CreateServiceRequest(bg, surgery, testfiles.Fixture(t, c.fixture), adapter.Identifier{})
			if err != nil {
				t.Fatal(err)
			}
			task := res.Task
			if res.Kind != adapter.KindServiceRequest || res.ID == "" || res.Existing || task == nil {
				t.Fatalf("result %+v", res)
			}
			if task.ID != res.ID || task.ReferralID != res.ID || task.Practice != "A81001" || task.Owner != c.owner ||
				task.Status != c.status || task.BusinessStatus.Code != c.bs || task.Priority != c.priority || task.Rule != c.rule ||
				task.Patient != "Patient?identifier="+adapter.SystemNHSNumber+"|9000000009" || task.Version != 1 {
				t.Errorf("Task %+v", *task)
			}
			if c.status == adapter.TaskRejected && (task.StatusReason == "" || !task.FirstContactDue.IsZero()) {
				t.Errorf("a safety rejection needs a pathway and no deadline: %+v", *task)
			}
			if c.status == adapter.TaskRequested && task.FirstContactDue.IsZero() {
				t.Errorf("no first-contact deadline: %+v", *task)
			}
			stored, err := r.store.ServiceRequest(bg, res.ID)
			if err != nil || string(stored) != string(res.JSON) {
				t.Errorf("stored ServiceRequest differs from the result: %v", err)
			}
			if jsonField(t, stored, "id") != res.ID || jsonField(t, stored, "meta", "versionId") != "1" {
				t.Errorf("stored resource not stamped: %s", stored)
			}
			got, err := r.store.Task(bg, res.ID)
			if err != nil || got.Owner != task.Owner || got.Status != task.Status {
				t.Errorf("stored Task %+v, %v", got, err)
			}
			var want []string
			if c.owner != "" {
				want = []string{res.ID}
			}
			for _, svc := range []string{"money-advice", "housing-options", "befriending", "riverside-link-workers", "carers-support"} {
				q := queue(t, r, svc)
				if svc != c.owner && len(q) != 0 || svc == c.owner && !slices.Equal(q, want) {
					t.Errorf("queue of %s: %v", svc, q)
				}
			}
		})
	}
}

// A valid ServiceRequest that is not a social prescribing referral is
// refused naming the rule set tried, and nothing is stored.
func TestNotASocialPrescribingReferral(t *testing.T) {
	r := newRig(t)
	_, err := r.svc.CreateServiceRequest(bg, surgery, testfiles.Fixture(t, "servicerequest-not-social.json"), adapter.Identifier{})
	e := wantErr(t, err, adapter.EBUSINESSRULE, "ServiceRequest.code", "ServiceRequest.reasonCode")
	if !strings.Contains(e.Message, "riverside-pcn-default") {
		t.Errorf("message %q does not name the rule set", e.Message)
	}
	if k := r.keys(t); len(k) != 0 {
		t.Errorf("a refused referral wrote %v", k)
	}
}

func TestBadInputWritesNothing(t *testing.T) {
	r := newRig(t)
	for _, body := range []string{
		`{"resourceType":"ServiceRequest",`,
		`{"resourceType":"ServiceRequest","status":"bogus","intent":"order","subject":{"reference":"Patient/1"}}`,
		`{"resourceType":"ServiceRequest","status":"draft","intent":"order","subject":{"reference":"Patient/1"}}`,
		string(testfiles.Fixture(t, "consent-share-with-link-workers.json")),
	} {
		if _, err := r.svc.CreateServiceRequest(bg, surgery, []byte(body), adapter.Identifier{}); adapter.ErrorCode(err) == "" || adapter.ErrorCode(err) == adapter.EINTERNAL {
			t.Errorf("%.40s: %v", body, err)
		}
	}
	_, err := r.svc.CreateConsent(bg, surgery, testfiles.Fixture(t, "servicerequest-debt.json"), adapter.Identifier{})
	wantErr(t, err, adapter.EINVALID, "resourceType")
	if k := r.keys(t); len(k) != 0 {
		t.Errorf("bad input wrote %v", k)
	}
}

// A single POST cannot carry a urn:uuid reference: nothing could ever
// resolve it.
func TestUnresolvableReferenceInAPost(t *testing.T) {
	r := newRig(t)
	var v map[string]any
	_ = json.Unmarshal(testfiles.Fixture(t, "servicerequest-debt.json"), &v)
	v["subject"] = map[string]any{"reference": "urn:uuid:2f1c6b2e-4a59-4c1e-9a51-1f0d7c3b5e01"}
	body, _ := json.Marshal(v)
	_, err := r.svc.CreateServiceRequest(bg, surgery, body, adapter.Identifier{})
	wantErr(t, err, adapter.EINVALID, "ServiceRequest.subject")
	if k := r.keys(t); len(k) != 0 {
		t.Errorf("wrote %v", k)
	}
}

func TestConsentStored(t *testing.T) {
	r := newRig(t)
	body := testfiles.Fixture(t, "consent-share-with-link-workers.json")
	res, err := r.svc.CreateConsent(bg, surgery, body, adapter.Identifier{})
	if err != nil || res.Kind != adapter.KindConsent || res.Existing || res.Task != nil {
		t.Fatalf("%+v %v", res, err)
	}
	stored, practice, err := r.store.Consent(bg, res.ID)
	if err != nil || practice != "A81001" || string(stored) != string(res.JSON) || jsonField(t, stored, "id") != res.ID {
		t.Errorf("stored consent %s %q %v", stored, practice, err)
	}
	again, err := r.svc.CreateConsent(bg, surgery, body, adapter.Identifier{})
	if err != nil || !again.Existing || again.ID != res.ID || string(again.JSON) != string(res.JSON) {
		t.Errorf("re-POST of the consent: %+v %v", again, err)
	}
}

// The fixture transaction: Patient, ServiceRequest and Consent stored in
// one step, the urn:uuid references between them rewritten to the ids
// given, the referral routed by its need.
func TestTransactionFixture(t *testing.T) {
	r := newRig(t)
	rs, err := r.tx(t, testfiles.Fixture(t, "bundle-referral-transaction.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 3 || rs[0].Kind != "Patient" || rs[1].Kind != "ServiceRequest" || rs[2].Kind != "Consent" {
		t.Fatalf("results %+v", rs)
	}
	patientRef := "Patient/" + rs[0].ID
	sr, err := r.store.ServiceRequest(bg, rs[1].ID)
	if err != nil || jsonField(t, sr, "subject", "reference") != patientRef {
		t.Errorf("stored ServiceRequest subject %q, want %q (%v)", jsonField(t, sr, "subject", "reference"), patientRef, err)
	}
	consent, _, err := r.store.Consent(bg, rs[2].ID)
	if err != nil || jsonField(t, consent, "patient", "reference") != patientRef {
		t.Errorf("stored Consent patient %q, want %q", jsonField(t, consent, "patient", "reference"), patientRef)
	}
	if _, practice, err := r.store.Patient(bg, rs[0].ID); err != nil || practice != "A81001" {
		t.Errorf("stored Patient: %q %v", practice, err)
	}
	// The patient sent with the referral (born 1958) is over the age
	// work-and-skills takes (66), so the link workers take the referral.
	task := rs[1].Task
	if task.Patient != patientRef || task.Rule != "employment" || task.Owner != "riverside-link-workers" ||
		rs[1].Placement == nil || !slices.Equal(rs[1].Placement.Skipped, []adapter.Skip{{Service: "work-and-skills", Reason: adapter.SkipIneligibleAge}}) {
		t.Errorf("Task %+v, placement %+v", *task, rs[1].Placement)
	}
	for _, b := range [][]byte{sr, consent} {
		if strings.Contains(string(b), "urn:uuid:") {
			t.Errorf("a urn:uuid reference was stored: %s", b)
		}
	}
	// Sent again (a client retry), the transaction finds everything it
	// created and creates nothing more.
	before := r.keys(t)
	again, err := r.tx(t, testfiles.Fixture(t, "bundle-referral-transaction.json"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range rs {
		if !again[i].Existing || again[i].ID != rs[i].ID {
			t.Errorf("entry %d on retry: %+v", i, again[i])
		}
	}
	if after := r.keys(t); !slices.Equal(after, before) {
		t.Errorf("the retry wrote keys: %v", after)
	}
}

// A conditional create (If-None-Exist: identifier=...) whose identifier the
// practice already used returns the existing referral, and no second Task.
func TestConditionalCreate(t *testing.T) {
	r := newRig(t)
	body := testfiles.Fixture(t, "servicerequest-debt.json")
	first, err := r.svc.CreateServiceRequest(bg, surgery, body, referralID("SP-2026-000101"))
	if err != nil || first.Existing {
		t.Fatalf("%+v %v", first, err)
	}
	keys := r.keys(t)

	// The same condition, with a body that even carries another identifier.
	other := withIdentifier(t, testfiles.Fixture(t, "servicerequest-loneliness.json"), "SP-OTHER")
	again, err := r.svc.CreateServiceRequest(bg, surgery, other, referralID("SP-2026-000101"))
	if err != nil {
		t.Fatal(err)
	}
	if !again.Existing || again.ID != first.ID || string(again.JSON) != string(first.JSON) ||
		again.Task == nil || again.Task.ID != first.ID || again.Task.Owner != "money-advice" {
		t.Errorf("conditional create: %+v", again)
	}
	if got := r.keys(t); !slices.Equal(got, keys) {
		t.Errorf("conditional create wrote %v", got)
	}
	if q := queue(t, r, "money-advice"); !slices.Equal(q, []string{first.ID}) {
		t.Errorf("queue %v", q)
	}
	if q := queue(t, r, "befriending"); len(q) != 0 {
		t.Errorf("a second Task was queued: %v", q)
	}

	// A condition nobody used creates a new referral.
	fresh, err := r.svc.CreateServiceRequest(bg, surgery, other, referralID("SP-UNUSED"))
	if err != nil || fresh.Existing || fresh.ID == first.ID || fresh.Task.Owner != "befriending" {
		t.Errorf("unmatched condition: %+v %v", fresh, err)
	}
}

// withIdentifier replaces a ServiceRequest's business identifier value.
func withIdentifier(t *testing.T, body []byte, value string) []byte {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	v["identifier"] = []any{map[string]any{"system": referral.System, "value": value}}
	out, _ := json.Marshal(v)
	return out
}

// A plain re-POST of a referral with the same identifier returns the one
// stored first, never a duplicate; another practice's identical
// identifier is its own referral.
func TestRepostSameIdentifier(t *testing.T) {
	r := newRig(t)
	body := testfiles.Fixture(t, "servicerequest-debt.json")
	first, err := r.svc.CreateServiceRequest(bg, surgery, body, adapter.Identifier{})
	if err != nil {
		t.Fatal(err)
	}
	keys := r.keys(t)
	changed := []byte(strings.Replace(string(body), `"priority": "routine"`, `"priority": "urgent"`, 1))
	again, err := r.svc.CreateServiceRequest(bg, surgery, changed, adapter.Identifier{})
	if err != nil {
		t.Fatal(err)
	}
	if !again.Existing || again.ID != first.ID || string(again.JSON) != string(first.JSON) || again.Task.Priority != adapter.PriorityRoutine {
		t.Errorf("re-POST: %+v", again)
	}
	if got := r.keys(t); !slices.Equal(got, keys) {
		t.Errorf("re-POST wrote %v", got)
	}
	// The other practice's own copy names itself as requester.
	theirs := []byte(strings.Replace(string(body), `"value": "A81001"`, `"value": "B82002"`, 1))
	elsewhere, err := r.svc.CreateServiceRequest(bg, intake.Caller{Actor: adapter.Actor{Org: "B82002", Role: adapter.RolePractice}}, theirs, adapter.Identifier{})
	if err != nil || elsewhere.Existing || elsewhere.ID == first.ID || elsewhere.Task.Practice != "B82002" {
		t.Errorf("another practice: %+v %v", elsewhere, err)
	}
}

// fixtureTx is the fixture transaction changed by edit.
func fixtureTx(t *testing.T, edit func(entries []map[string]any)) []byte {
	t.Helper()
	var b map[string]any
	if err := json.Unmarshal(testfiles.Fixture(t, "bundle-referral-transaction.json"), &b); err != nil {
		t.Fatal(err)
	}
	var es []map[string]any
	for _, e := range b["entry"].([]any) {
		es = append(es, e.(map[string]any))
	}
	edit(es)
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func res(e map[string]any) map[string]any { return e["resource"].(map[string]any) }

// A transaction is all or nothing: when any entry is refused, the error
// names the entry and nothing at all is stored.
func TestTransactionAllOrNothing(t *testing.T) {
	cardiology := []any{map[string]any{"coding": []any{map[string]any{"system": adapter.SystemSNOMED, "code": "29857009"}}}}
	cases := []struct {
		name string
		edit func(es []map[string]any)
		code string
		expr []string
	}{
		{"referral no rule matches", func(es []map[string]any) {
			res(es[1])["reasonCode"] = cardiology
			res(es[1])["code"] = map[string]any{"coding": []any{map[string]any{"system": adapter.SystemSNOMED, "code": "183519002"}}}
		}, adapter.EBUSINESSRULE, []string{"Bundle.entry[1].resource.code", "Bundle.entry[1].resource.reasonCode"}},
		{"referral not active", func(es []map[string]any) { res(es[1])["status"] = "draft" }, adapter.EBUSINESSRULE, []string{"Bundle.entry[1].resource.status"}},
		{"consent without a patient", func(es []map[string]any) { delete(res(es[2]), "patient") }, adapter.EBUSINESSRULE, []string{"Bundle.entry[2].resource.patient"}},
		{"referral about a patient not in the bundle", func(es []map[string]any) {
			res(es[1])["subject"] = map[string]any{"reference": "urn:uuid:00000000-0000-4000-8000-00000000dead"}
		}, adapter.EINVALID, []string{"Bundle.entry[1].resource.subject"}},
		{"referral about an entry that is not a Patient", func(es []map[string]any) {
			res(es[1])["subject"] = map[string]any{"reference": es[2]["fullUrl"]}
		}, adapter.EINVALID, []string{"Bundle.entry[1].resource.subject"}},
		{"consent of a patient not in the bundle", func(es []map[string]any) {
			res(es[2])["patient"] = map[string]any{"reference": "urn:uuid:00000000-0000-4000-8000-00000000dead"}
		}, adapter.EINVALID, []string{"Bundle.entry[2].resource.patient"}},
		{"two referrals, one identifier", func(es []map[string]any) {
			res(es[2])["resourceType"] = "ServiceRequest"
			es[2]["resource"] = res(es[1])
			es[2]["request"] = map[string]any{"method": "POST", "url": "ServiceRequest"}
		}, adapter.EBUSINESSRULE, []string{"Bundle.entry[2].resource"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t)
			_, err := r.tx(t, fixtureTx(t, c.edit))
			e := wantErr(t, err, c.code, c.expr...)
			if !strings.HasPrefix(e.Message, "entry ") {
				t.Errorf("message %q does not name the entry", e.Message)
			}
			if k := r.keys(t); len(k) != 0 {
				t.Errorf("a refused transaction wrote %v", k)
			}
		})
	}
}

// Two entries of one transaction may not claim the same identifier (or
// If-None-Exist condition): the second is refused, naming the first.
func TestTransactionDuplicateIdentifiers(t *testing.T) {
	r := newRig(t)
	body := fixtureTx(t, func(es []map[string]any) {
		second := map[string]any{}
		for k, v := range res(es[1]) {
			second[k] = v
		}
		es[2]["resource"] = second
		es[2]["request"] = map[string]any{"method": "POST", "url": "ServiceRequest"}
	})
	_, err := r.tx(t, body)
	e := wantErr(t, err, adapter.EBUSINESSRULE, "Bundle.entry[2].resource")
	if e.Message != "entry 2: the same identifier is used by entry 1" {
		t.Errorf("message %q", e.Message)
	}
	// A condition equal to another entry's identifier counts too.
	body = fixtureTx(t, func(es []map[string]any) {
		es[2]["request"].(map[string]any)["ifNoneExist"] = "identifier=" + referral.System + "|SP-2026-000106"
		res(es[2])["resourceType"] = "ServiceRequest"
		es[2]["resource"] = res(es[1])
		res(es[2])["identifier"] = []any{map[string]any{"system": referral.System, "value": "SP-DIFFERENT"}}
		es[2]["request"].(map[string]any)["url"] = "ServiceRequest"
	})
	_, err = r.tx(t, body)
	wantErr(t, err, adapter.EBUSINESSRULE, "Bundle.entry[2].resource")
	if k := r.keys(t); len(k) != 0 {
		t.Errorf("wrote %v", k)
	}
}

// Twenty clients send the same referral at the same moment: exactly one
// ServiceRequest and one Task are created, and every client gets it back.
func TestConcurrentCreatesOfOneIdentifier(t *testing.T) {
	r := newRig(t)
	body := testfiles.Fixture(t, "servicerequest-debt.json")
	const n = 20
	results := make([]*intake.Result, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			results[i], errs[i] = r.svc.CreateServiceRequest(bg, surgery, body, adapter.Identifier{})
		})
	}
	close(start)
	wg.Wait()

	created := 0
	for i, res := range results {
		if errs[i] != nil {
			t.Fatalf("client %d: %v", i, errs[i])
		}
		if res.ID != results[0].ID || res.Task == nil || res.Task.ID != res.ID {
			t.Errorf("client %d got %+v, client 0 %s", i, res, results[0].ID)
		}
		if !res.Existing {
			created++
		}
	}
	if created != 1 {
		t.Errorf("%d clients created the referral, want exactly 1", created)
	}
	if q := queue(t, r, "money-advice"); !slices.Equal(q, []string{results[0].ID}) {
		t.Errorf("queue %v", q)
	}
	// The namespace holds exactly what one referral makes.
	one := newRig(t)
	if _, err := one.svc.CreateServiceRequest(bg, surgery, body, adapter.Identifier{}); err != nil {
		t.Fatal(err)
	}
	if got, want := len(r.keys(t)), len(one.keys(t)); got != want {
		t.Errorf("%d keys after 20 concurrent creates, %d after one:\n%v\n%v", got, want, r.keys(t), one.keys(t))
	}
}

// raceStore runs race once, just before the first Intake: a concurrent
// request that wins between this request's lookup and its write.
type raceStore struct {
	*redis.Store
	race func()
	once sync.Once
}

func (s *raceStore) Intake(ctx context.Context, b *adapter.IntakeBatch) error {
	s.once.Do(s.race)
	return s.Store.Intake(ctx, b)
}

// When another request creates the same Patient between this
// transaction's lookup and its write, the transaction is planned again:
// its referral then names the Patient that exists, in the stored
// ServiceRequest and in the Task alike.
func TestTransactionRetriedAfterAConcurrentCreate(t *testing.T) {
	r := newRig(t)
	m, _ := routing.Load(mappings.Default, "mappings")
	racing := &raceStore{Store: r.store}
	svc := intake.New(r.parser, racing, m, withoutConsent())
	patientOnly := fixtureTx(t, func(es []map[string]any) {})
	var winner []*intake.Result
	racing.race = func() {
		var b map[string]any
		_ = json.Unmarshal(patientOnly, &b)
		b["entry"] = b["entry"].([]any)[:1]
		body, _ := json.Marshal(b)
		var err error
		if winner, err = r.tx(t, body); err != nil {
			t.Error(err)
		}
	}
	entries, err := r.parser.Transaction(fixtureTx(t, func(es []map[string]any) {}))
	if err != nil {
		t.Fatal(err)
	}
	in := []intake.Entry{{Tx: &entries[0]}, {Tx: &entries[1]}}
	rs, err := svc.Transact(bg, surgery, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(winner) != 1 || !rs[0].Existing || rs[0].ID != winner[0].ID || rs[1].Existing {
		t.Fatalf("results %+v; the concurrent request created %+v", rs, winner)
	}
	want := "Patient/" + winner[0].ID
	stored, _ := r.store.ServiceRequest(bg, rs[1].ID)
	if got := jsonField(t, stored, "subject", "reference"); got != want {
		t.Errorf("stored ServiceRequest subject %q, want %q", got, want)
	}
	task, err := r.store.Task(bg, rs[1].ID)
	if err != nil || task.Patient != want || rs[1].Task.Patient != want {
		t.Errorf("Task.for %q (result %q), want %q: %v", task.Patient, rs[1].Task.Patient, want, err)
	}
}

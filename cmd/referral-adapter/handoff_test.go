package main

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/access"
	"github.com/social-prescribing/referral-adapter/adapter/auth"
	"github.com/social-prescribing/referral-adapter/adapter/consent"
	"github.com/social-prescribing/referral-adapter/adapter/disclosure"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// The differential property test of issue 17: random Consents (nested
// provisions, actors in every reference form, actions, labels, periods,
// several Consents) × every hand-off of a referral over HTTP. At each door
// what the service did is compared with the pure decision (consent.Release,
// on the Consents as stored) for the recipient actually receiving the
// data: nothing is ever delivered to a recipient the decision denies, and
// what it permits is delivered.

// handoffRounds bounds the property test in the test command; the fuzz
// target FuzzConsentHandoffs (scripts/fuzz) explores further.
const handoffRounds = 100

func TestPropertyConsentHandoffs(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 2026))
	stats := map[string]int{}
	for i := range handoffRounds {
		seed := rng.Uint64()
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			runHandoffs(t, &chooser{rng: rand.New(rand.NewPCG(seed, 17))}, stats)
		})
	}
	// The generator must reach both sides of every door, or the property
	// says nothing.
	for _, door := range []string{"routed", "held", "claim given", "claim refused", "refer-on", "refer-on refused", "outcome to GP", "outcome withheld",
		"patient read", "patient withheld", "summary to GP", "summary withheld"} {
		if stats[door] == 0 {
			t.Errorf("no round reached %q: %v", door, stats)
		}
	}
	t.Logf("%d rounds: %v", handoffRounds, stats)
}

func FuzzConsentHandoffs(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte("deny the provider, permit the network"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h := fnv.New64a()
		_, _ = h.Write(data)
		runHandoffs(t, &chooser{data: data, rng: rand.New(rand.NewPCG(h.Sum64(), 17))}, map[string]int{})
	})
}

// chooser draws choices from the fuzzer's bytes, then from a generator.
type chooser struct {
	data []byte
	rng  *rand.Rand
}

func (c *chooser) pick(n int) int {
	if len(c.data) > 0 {
		b := c.data[0]
		c.data = c.data[1:]
		return int(b) % n
	}
	return c.rng.IntN(n)
}

func (c *chooser) chance(percent int) bool { return c.pick(100) < percent }

func oneOf[T any](c *chooser, xs ...T) T { return xs[c.pick(len(xs))] }

// Actor references in every form the adapter reads.
var handoffActors = []map[string]any{
	odsRef("U00001"), odsRef("X1V01"), odsRef("X1V02"), odsRef("X1V05"), odsRef(practice),
	{"reference": "Organization/X1V01"}, {"reference": "Organization/U00001"},
	{"reference": "https://directory.example.nhs.uk/fhir/Organization/X1V05"},
	{"reference": "Organization?identifier=https://fhir.nhs.uk/Id/ods-organization-code|X1V02"},
	{"reference": "Practitioner/lw-sam"}, {"reference": "Practitioner/ca-kim"},
	{"reference": "PractitionerRole/lw-sam-role"},
}

func (c *chooser) provision(depth int) map[string]any {
	p := map[string]any{}
	switch {
	case depth == 0 && c.chance(80):
		p["type"] = "permit"
	case depth == 0 || c.chance(40):
		p["type"] = oneOf(c, "permit", "deny")
	}
	if c.chance(70) {
		var actors []any
		if depth == 0 && c.chance(60) { // most patients consent to the network
			actors = append(actors, actorAs("IRCP", odsRef("U00001")))
		}
		if depth == 0 && c.chance(50) { // and to outcomes going back to their GP
			actors = append(actors, actorAs("PRCP", odsRef(practice)))
		}
		for range c.pick(3) {
			actors = append(actors, actorAs(oneOf(c, "IRCP", "IRCP", "PRCP", "CST"), handoffActors[c.pick(len(handoffActors))]))
		}
		if depth > 0 && c.chance(35) { // the people a patient names
			actors = append(actors, actorAs("IRCP", oneOf(c, map[string]any{"reference": "Practitioner/lw-sam"},
				map[string]any{"reference": "Practitioner/ca-kim"}, map[string]any{"reference": "PractitionerRole/lw-alex-role"})))
		}
		if len(actors) > 0 {
			p["actor"] = actors
		}
	}
	// Criteria that narrow a provision, rarer at the root (a narrow root
	// holds most referrals for consent).
	rare := map[bool]int{true: 4, false: 1}[depth == 0]
	if c.chance(40 / rare) {
		p["action"] = []any{consentAction(oneOf(c, "disclose", "access", "use", "collect", "correct"))}
	}
	if c.chance(15 / rare) {
		p["securityLabel"] = []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "MH"}}
	}
	if c.chance(15 / rare) {
		p["dataPeriod"] = map[string]any{"start": "2026-01-01", "end": oneOf(c, "2026-06-30", "2026-12-31")}
	}
	if c.chance(15 / rare) { // what kind of record (issue 19: the Patient is one)
		p["class"] = []any{map[string]any{"system": "http://hl7.org/fhir/resource-types",
			"code": oneOf(c, "ServiceRequest", "Patient", "Observation", "Communication")}}
	}
	if c.chance(10 / rare) {
		p["period"] = map[string]any{"start": oneOf(c, "2026-01-01", "2027-01-01")}
	}
	if len(p) == 0 { // an empty provision is no provision (ele-1)
		p["type"] = oneOf(c, "permit", "deny")
	}
	if depth < 2 {
		var nested []any
		for range c.pick(3) {
			nested = append(nested, c.provision(depth+1))
		}
		if len(nested) > 0 {
			p["provision"] = nested
		}
	}
	return p
}

// consents posts one to three random Consents for the patient.
func (c *chooser) consents(t *testing.T, h *harness, gp string) {
	for i := range 1 + c.pick(3) {
		prov := c.provision(0)
		set := map[string]any{"provision": prov, "dateTime": fmt.Sprintf("2026-11-%02dT10:00:00Z", 1+c.pick(28)),
			"identifier": []any{map[string]any{"system": "https://fhir.a81001.example.nhs.uk/Id/consent", "value": fmt.Sprintf("C-%d", i)}}}
		if c.chance(30) {
			set["policy"] = nil
		}
		if _, typed := prov["type"]; !typed {
			set["policyRule"] = map[string]any{"coding": []any{map[string]any{
				"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": oneOf(c, "OPTIN", "OPTOUT")}}}
		}
		if c.chance(10) {
			set["status"] = "inactive"
		}
		r := h.do("POST", "/fhir/Consent", gp, withJSON(t, fixture(t, "consent-share-with-link-workers.json"), set))
		if r.status != http.StatusCreated {
			t.Fatalf("random Consent refused: %d %s", r.status, r.body)
		}
	}
}

// world is one round's service and the pure decision's view of it.
type world struct {
	t     *testing.T
	h     *harness
	gp    string
	stats map[string]int
	// patient is the Patient the practice sent (issue 19), as the Patient
	// door decides about it.
	patient access.Patient
}

const handoffPatient = "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009"

// decide is the pure decision on the Consents as stored.
func (w *world) decide(to consent.Recipient, info consent.Information) bool {
	w.t.Helper()
	ctx := context.Background()
	bodies, err := w.h.app.store.PatientConsents(ctx, practice, handoffPatient)
	if err != nil {
		w.t.Fatal(err)
	}
	return consent.Release(w.h.app.parser.Consents(handoffPatient, bodies), to, info, time.Now()).Permit
}

func (w *world) task(id string) *adapter.Task {
	w.t.Helper()
	t, err := w.h.app.store.Task(context.Background(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	return t
}

// recipient is a service's organisation, as a whole or a person of it.
func (w *world) recipient(service, person string, personLevel bool) consent.Recipient {
	r, _ := w.h.app.mappings.Recipient(service)
	r.PersonLevel, r.Person = personLevel, consent.PersonRef(person)
	return r
}

type worker struct {
	role    auth.Role
	org     string
	person  string // fhirUser; "" for a token naming nobody
	service string
}

func (w *world) token(k worker) string {
	if k.person == "" {
		return w.h.token(k.role, k.org)
	}
	return w.h.personToken(k.role, k.org, k.person)
}

func runHandoffs(t *testing.T, c *chooser, stats map[string]int) {
	h := consentHarness(t) // a private namespace each round
	w := &world{t: t, h: h, gp: h.token(auth.RolePractice, practice), stats: stats}
	c.consents(t, h, w.gp)
	pat := post(t, h, "/fhir/Patient", w.gp, fixture(t, "patient.json"), http.StatusCreated)
	f := fhir.ReadStoredPatient(pat.body)
	w.patient = access.Patient{ID: idOf(t, pat), Practice: practice, Refs: access.PatientRefs(idOf(t, pat), f.Identifier),
		Labels: f.Labels, Received: f.Received}
	sr := idOf(t, post(t, h, "/fhir/ServiceRequest", w.gp, fixture(t, oneOf(c, "servicerequest-debt.json", "servicerequest-general.json")), http.StatusCreated))

	// Routing and its fallbacks: placed only where the decision permits;
	// held only when it permits none of the route nor the link workers.
	task := w.task(sr)
	info := access.Referral(task)
	if task.ConsentHeld() {
		stats["held"]++
		for _, svc := range []string{"money-advice", "riverside-link-workers"} {
			if slicesContainsService(task.Route, svc) || svc == "riverside-link-workers" {
				if w.decide(w.recipient(svc, "", false), info) {
					t.Fatalf("held, but the decision permits %s", svc)
				}
			}
		}
		return
	}
	stats["routed"]++
	if !w.decide(w.recipient(task.Owner, "", false), info) {
		t.Fatalf("routed to %s, which the decision denies", task.Owner)
	}

	// Claims: given exactly to those the decision permits; a refused one
	// leaves the referral for the next.
	holder := w.claims(c, task, info)
	if holder == nil {
		return
	}
	w.reads(task, info, *holder)
	if task.Owner == "riverside-link-workers" {
		w.referOn(c, sr, *holder)
	} else {
		w.outcome(c, task, *holder, nil)
	}
}

func slicesContainsService(route []adapter.RouteStep, svc string) bool {
	for _, st := range route {
		if st.Service == svc {
			return true
		}
	}
	return false
}

// workersOf are the people (and a system naming nobody) of a service's
// organisation.
func workersOf(service string) []worker {
	if service == "riverside-link-workers" {
		return []worker{{auth.RoleLinkWorker, "U00001", "Practitioner/lw-sam", service}, {auth.RoleLinkWorker, "U00001", "", service},
			{auth.RoleLinkWorker, "U00001", "PractitionerRole/lw-alex-role", service}, {auth.RoleLinkWorker, "U00001", "Practitioner/lw-alex", service}}
	}
	svcOrg := map[string]string{"money-advice": "X1V01", "housing-options": "X1V02", "wellbeing-cafe": "X1V05"}[service]
	return []worker{{auth.RoleProvider, svcOrg, "Practitioner/ca-kim", service}, {auth.RoleProvider, svcOrg, "", service},
		{auth.RoleProvider, svcOrg, "Practitioner/ca-lee", service}}
}

func (w *world) claims(c *chooser, task *adapter.Task, info consent.Information) *worker {
	w.t.Helper()
	ws := workersOf(task.Owner)
	c.rng.Shuffle(len(ws), func(i, j int) { ws[i], ws[j] = ws[j], ws[i] })
	for _, k := range ws {
		permit := w.decide(w.recipient(task.Owner, k.person, true), info)
		r := claimFrom(w.h, task.Owner, w.token(k))
		switch {
		case r.status == http.StatusOK && !strings.Contains(string(r.body), task.ID):
			w.t.Fatalf("%+v claimed another referral: %s", k, r.body)
		case r.status == http.StatusOK && !permit:
			w.t.Fatalf("%+v claimed a referral the decision denies them", k)
		case r.status == http.StatusNoContent && permit:
			w.t.Fatalf("%+v, whom the decision permits, was refused the claim", k)
		case r.status == http.StatusOK:
			w.stats["claim given"]++
			// The Patient comes with the claim iff the decision permits the
			// claimant the Patient too (issue 19).
			patient := w.decide(w.recipient(task.Owner, k.person, true), access.PatientInfo(task, w.patient))
			if got := strings.Contains(string(r.body), `"patient":`); got != patient {
				w.t.Fatalf("%+v's claim carries the Patient: %v, decision permit %v", k, got, patient)
			}
			return &k
		case r.status == http.StatusNoContent:
			w.stats["claim refused"]++
		default:
			w.t.Fatalf("claim: %d %s", r.status, r.body)
		}
	}
	return nil
}

// reads: each person of the holding organisation reads the referral iff
// the decision permits them; another provider never.
func (w *world) reads(task *adapter.Task, info consent.Information, holder worker) {
	w.t.Helper()
	for _, k := range workersOf(task.Owner) {
		to := w.recipient(task.Owner, k.person, true)
		permit := w.decide(to, info)
		r := w.h.do("GET", "/fhir/ServiceRequest/"+task.ID, w.token(k), nil)
		if (r.status == http.StatusOK) != permit || r.status != http.StatusOK && r.status != http.StatusNotFound {
			w.t.Fatalf("%+v reads the referral: %d, decision permit %v", k, r.status, permit)
		}
		// The Patient door (issue 19): the referral and the Patient both.
		permit = permit && w.decide(to, access.PatientInfo(task, w.patient))
		r = w.h.do("GET", "/fhir/Patient/"+w.patient.ID, w.token(k), nil)
		if (r.status == http.StatusOK) != permit || r.status != http.StatusOK && r.status != http.StatusNotFound {
			w.t.Fatalf("%+v reads the Patient: %d, decision permit %v", k, r.status, permit)
		}
		w.stats[map[bool]string{true: "patient read", false: "patient withheld"}[permit]]++
	}
	if r := w.h.do("GET", "/fhir/ServiceRequest/"+task.ID, w.h.token(auth.RoleProvider, "X1V06"), nil); r.status != http.StatusNotFound {
		w.t.Fatalf("an unrelated provider reads the referral: %d", r.status)
	}
}

// referOn: the link worker refers on; the target takes it iff the decision
// permits its organisation, and its people claim it iff it permits them.
func (w *world) referOn(c *chooser, sr string, holder worker) {
	w.t.Helper()
	tok := w.token(holder)
	if r := w.h.api("POST", "/api/v1/referrals/"+sr+"/transition", tok, `{"status":"accepted"}`); r.status != http.StatusOK {
		w.t.Fatalf("accept: %d %s", r.status, r.body)
	}
	target := oneOf(c, "money-advice", "housing-options", "wellbeing-cafe")
	permit := w.decide(w.recipient(target, "", false), access.Referral(w.task(sr)))
	r := w.h.api("POST", "/api/v1/referrals/"+sr+"/refer-on", tok, fmt.Sprintf(`{"service":%q,"reason":"onward"}`, target))
	switch {
	case r.status == http.StatusCreated && !permit:
		w.t.Fatalf("referred on to %s, which the decision denies", target)
	case r.status == http.StatusUnprocessableEntity && permit:
		w.t.Fatalf("refer-on to %s refused though the decision permits it: %s", target, r.body)
	case r.status == http.StatusUnprocessableEntity:
		w.stats["refer-on refused"]++
		return
	case r.status != http.StatusCreated:
		w.t.Fatalf("refer-on: %d %s", r.status, r.body)
	}
	w.stats["refer-on"]++
	var child struct{ ID string }
	_ = json.Unmarshal(r.body, &child)
	ct := w.task(child.ID)
	provider := w.claims(c, ct, access.Referral(ct))
	if provider != nil {
		w.outcome(c, ct, *provider, &holder)
	}
}

// outcome: the holder records an outcome; the practice reads it iff the
// patient approved it and the decision permits the practice; the link
// worker following an onward referral iff the decision permits them.
func (w *world) outcome(c *chooser, task *adapter.Task, holder worker, follower *worker) {
	w.t.Helper()
	tok := w.token(holder)
	if task.Status == adapter.TaskRequested {
		w.h.api("POST", "/api/v1/referrals/"+task.ID+"/transition", tok, `{"status":"accepted"}`)
	}
	obs := withJSON(w.t, fixture(w.t, "observation-swemwbs.json"), map[string]any{
		"effectiveDateTime": oneOf(c, "2026-03-01T10:00:00Z", "2026-11-21T14:00:00Z")})
	if c.chance(25) {
		obs = withJSON(w.t, obs, map[string]any{"meta": map[string]any{"security": []any{
			map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "MH"}}}})
	}
	b, _ := json.Marshal(map[string]any{"resource": json.RawMessage(obs), "patientApprovedSharing": c.chance(60)})
	r := w.h.do("POST", "/api/v1/referrals/"+task.ID+"/outcomes", tok, b)
	if r.status != http.StatusCreated {
		w.t.Fatalf("outcome: %d %s", r.status, r.body)
	}
	id := strings.TrimPrefix(r.json(w.t)["reference"].(string), "Observation/")
	o, _, err := w.h.app.store.Outcome(context.Background(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	rec := disclosure.Record(w.task(task.ID), o)
	permit := o.Approved && w.decide(access.Practice(practice, &adapter.Caller{}), rec.Info)
	got := w.h.do("GET", "/fhir/Observation/"+id, w.gp, nil)
	if (got.status == http.StatusOK) != permit {
		w.t.Fatalf("the GP reads the outcome: %d, approved %v, decision permit %v", got.status, o.Approved, permit)
	}
	_, v := readTask(w.t, w.h, w.gp, task.ID)
	if listed := len(v.Outputs) == 1; listed != permit {
		w.t.Fatalf("the GP's Task.output %v, decision permit %v", v.Outputs, permit)
	}
	w.stats[map[bool]string{true: "outcome to GP", false: "outcome withheld"}[permit]]++
	if task.ID == task.ReferralID {
		w.closure(c, task, holder, "Observation/"+id, permit)
	}
	if follower != nil {
		// The follower sees the onward referral, and the outcome on it, as
		// the decision permits the network's people.
		to := w.recipient(follower.service, follower.person, true)
		permit := w.decide(to, access.Referral(w.task(task.ID))) && w.decide(to, rec.Info)
		if got := w.h.do("GET", "/fhir/Observation/"+id, w.token(*follower), nil); (got.status == http.StatusOK) != permit {
			w.t.Fatalf("the link worker following reads the provider's outcome: %d, decision permit %v", got.status, permit)
		}
	}
}

// closure: the holder completes the referral with a summary the patient
// may or may not approve; the closure summary the practice reads names the
// outcome iff the decision let the practice see it, and carries the
// summary iff the patient approved it and the decision permits the
// practice the message (issue 19).
func (w *world) closure(c *chooser, task *adapter.Task, holder worker, outcome string, outcomeSeen bool) {
	w.t.Helper()
	approved := c.chance(60)
	r := w.h.api("POST", "/api/v1/referrals/"+task.ID+"/transition", w.token(holder),
		fmt.Sprintf(`{"status":"completed","summary":"All done.","patientApprovedSharing":%v}`, approved))
	if r.status != http.StatusOK {
		w.t.Fatalf("complete: %d %s", r.status, r.body)
	}
	msgs, _, err := w.h.app.store.Thread(context.Background(), task.ReferralID, false)
	if err != nil || len(msgs) == 0 || !msgs[len(msgs)-1].Closure {
		w.t.Fatalf("no closure summary stored: %v %v", msgs, err)
	}
	m := msgs[len(msgs)-1]
	rec := disclosure.Record(w.task(task.ID), m.Disclosure())
	summary := approved && w.decide(access.Practice(practice, &adapter.Caller{}), rec.Info)
	v, ok := closureOf(w.t, w.h, w.gp, task.ReferralID)
	if !ok {
		w.t.Fatal("the practice has no closure summary")
	}
	if got := len(v.Texts) == 2; got != summary {
		w.t.Fatalf("the practice reads the summary: %v, approved %v, decision permit %v", got, approved, summary)
	}
	if got := len(v.Refs) == 1 && v.Refs[0] == outcome; got != outcomeSeen || len(v.Refs) > 1 {
		w.t.Fatalf("the closure summary names the outcome to the practice: %v, decision permit %v", v.Refs, outcomeSeen)
	}
	w.stats[map[bool]string{true: "summary to GP", false: "summary withheld"}[summary]]++
}

package main

import (
	"container/heap"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/auth"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/adapter/intake"
	"github.com/social-prescribing/referral-adapter/adapter/lifecycle"
	"github.com/social-prescribing/referral-adapter/adapter/report"
)

// demoCommand implements "referral-adapter demo" (issue 20): the service
// on its embedded store, filled first with a few months of synthetic
// referrals played through the real intake and lifecycle on a simulated
// clock, so that a commissioner's dashboard is populated at once. It
// prints development tokens and, unless --browser off, serves the
// dashboard to a local browser through a proxy on a loopback address that
// adds a commissioner's token (as an authenticating proxy would).
func demoCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	months := fs.Int("months", 4, "months of history to make up (1 to 12)")
	perWeek := fs.Int("per-week", 45, "referrals a week across the network (5 to 500)")
	seed := fs.Uint64("seed", 1, "random seed: the same seed makes the same history")
	browser := fs.String("browser", "127.0.0.1:8081", "loopback address of the dashboard proxy for a browser; off disables")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errUsage
	}
	if *months < 1 || *months > 12 || *perWeek < 5 || *perWeek > 500 {
		return errors.New("demo: --months is 1 to 12 and --per-week 5 to 500")
	}
	if *browser != "off" {
		if err := loopback(*browser); err != nil {
			return err
		}
	}
	secret := os.Getenv("AUTH_DEV_HS256_SECRET")
	defaults := map[string]string{}
	if secret == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		secret = "demo-" + hex.EncodeToString(b[:])
		defaults["AUTH_DEV_HS256_SECRET"] = secret
	}
	env := environ()
	for k, v := range defaults {
		env[k] = v
	}
	cfg, m, err := loadConfig(ctx, env)
	if err != nil {
		return err
	}
	if !cfg.Redis.Embedded() {
		return errors.New("demo: it fills only the embedded store with synthetic referrals; unset REDIS_URL, REDIS_CLUSTER_ADDRS and REDIS_SENTINEL_MASTER")
	}
	level, _ := parseLevel(cfg.LogLevel)
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	a, err := build(ctx, cfg, m, log)
	if err != nil {
		return err
	}
	defer a.close()
	fmt.Fprintf(stdout, "Making up %d months of referrals (%d a week) in the embedded store...\n", *months, *perWeek)
	sum, err := seedDemo(ctx, a, demoOptions{Months: *months, PerWeek: *perWeek, Seed: *seed, End: time.Now()})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, sum)
	if err := printDemoTokens(stdout, cfg, secret, m.NetworkAreas(), *browser); err != nil {
		return err
	}
	if *browser != "off" {
		stop, err := dashboardProxy(*browser, cfg.HTTP.Addr, secret, m.NetworkAreas())
		if err != nil {
			return err
		}
		defer stop()
	}
	return a.run(ctx, cfg, log)
}

// loopback refuses a proxy address that is not on the loopback interface:
// the proxy adds a commissioner's token to every request.
func loopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
		return fmt.Errorf("demo: --browser %q must be a loopback address such as 127.0.0.1:8081: the proxy adds a commissioner's token", addr)
	}
	return nil
}

// apiURL is where the API listens, as seen from this machine.
func apiURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://127.0.0.1:8080"
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func printDemoTokens(w io.Writer, cfg *Config, secret string, areas []string, browser string) error {
	tok := func(o auth.MintOptions) string {
		o.TTL, o.Audience = 12*time.Hour, cfg.Auth.Audience
		t, err := auth.Mint(secret, o)
		if err != nil {
			return "(" + err.Error() + ")"
		}
		return t
	}
	base := apiURL(cfg.HTTP.Addr)
	fmt.Fprintf(w, "\nDevelopment tokens (12 hours; AUTH_DEV_HS256_SECRET=%s):\n", secret)
	fmt.Fprintf(w, "  commissioner of %s:\n    %s\n", strings.Join(areas, ", "), tok(auth.MintOptions{Role: auth.RoleCommissioner, Org: "QWO", Areas: areas, Subject: "commissioner@QWO"}))
	fmt.Fprintf(w, "  admin:\n    %s\n", tok(auth.MintOptions{Role: auth.RoleAdmin, Org: "U00001"}))
	fmt.Fprintf(w, "  practice A81001 (a GP):\n    %s\n", tok(auth.MintOptions{Role: auth.RolePractice, Org: "A81001", Title: "GP"}))
	fmt.Fprintf(w, "  link worker:\n    %s\n", tok(auth.MintOptions{Role: auth.RoleLinkWorker, Org: "U00001", Name: "Sam Okafor", Title: "Social prescribing link worker"}))
	fmt.Fprintf(w, "\nThe report: curl -H \"Authorization: Bearer $TOKEN\" %s/api/v1/reports/capacity\n", base)
	if browser != "off" {
		fmt.Fprintf(w, "The dashboard, as the commissioner: open http://%s/dashboard in a browser on this machine\n", browser)
	} else {
		fmt.Fprintf(w, "The dashboard: curl -H \"Authorization: Bearer $TOKEN\" %s/dashboard > dashboard.html\n", base)
	}
	fmt.Fprintln(w, "Everything is lost when the demo stops (embedded store).")
	return nil
}

// dashboardProxy serves the dashboard and its CSV to a local browser,
// adding a commissioner's token for every area of the network; anything
// else is 404. The demo's stand-in for an authenticating proxy.
func dashboardProxy(addr, apiAddr, secret string, areas []string) (func(), error) {
	tok, err := auth.Mint(secret, auth.MintOptions{Role: auth.RoleCommissioner, Org: "QWO", Areas: areas, Subject: "demo-browser@QWO", TTL: 24 * time.Hour})
	if err != nil {
		return nil, err
	}
	target, _ := url.Parse(apiURL(apiAddr))
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Header.Set("Authorization", "Bearer "+tok)
	}}
	mux := http.NewServeMux()
	mux.Handle("GET /dashboard", rp)
	mux.Handle("GET /dashboard/report.csv", rp)
	mux.Handle("GET /{$}", http.RedirectHandler("/dashboard", http.StatusFound))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("demo: dashboard proxy on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return func() { _ = srv.Close() }, nil
}

// demoOptions shape the synthetic history: Months before End, PerWeek
// referrals a week on average, from Seed.
type demoOptions struct {
	Months, PerWeek int
	Seed            uint64
	End             time.Time
}

// demoSummary counts what the demo made.
type demoSummary struct {
	Referrals, WithPatient, Held, Stopped, Contacted, Completed, Scores, Refused int
	From, To                                                                     string
}

func (s demoSummary) String() string {
	return fmt.Sprintf("Made %d referrals from %s to %s (%d with a Patient, %d stopped at intake, %d waiting for consent), "+
		"%d contacted, %d completed, %d wellbeing scores recorded; %d simulated steps refused by the lifecycle rules.",
		s.Referrals, s.From, s.To, s.WithPatient, s.Stopped, s.Held, s.Contacted, s.Completed, s.Scores, s.Refused)
}

// demoPractice is a practice sending referrals: its share of them, and
// whether its referring falls off in the last five weeks (the early
// warning to see).
type demoPractice struct {
	ods, area string
	weight    float64
	fading    bool
}

// The network's practices (mappings/40-practices.yaml) and one practice
// not in the table, whose referrals without a Patient have no area.
var demoPractices = []demoPractice{
	{"A81001", "LS6", 0.30, false}, {"B82002", "LS7", 0.24, false}, {"C83003", "LS5", 0.18, false},
	{"D84004", "LS4", 0.13, false}, {"E85005", "LS8", 0.12, true}, {"F86006", "", 0.03, false},
}

// demoNeed is a reason for referral: the codes the rules route on.
type demoNeed struct {
	weight       float64
	system, code string
	display      string
	general      bool // the generic social prescribing referral (ServiceRequest.code)
}

var demoNeeds = []demoNeed{
	{0.20, "http://hl7.org/fhir/sid/icd-10", "Z59.6", "Low income", false},
	{0.08, "http://hl7.org/fhir/sid/icd-10", "Z59.1", "Inadequate housing", false},
	{0.18, "http://snomed.info/sct", "422650009", "Social isolation", false},
	{0.07, "http://hl7.org/fhir/sid/icd-10", "Z56.0", "Unemployment, unspecified", false},
	{0.15, "http://hl7.org/fhir/sid/icd-10", "Z73.3", "Stress, not elsewhere classified", false},
	{0.07, "http://hl7.org/fhir/sid/icd-10", "Z63.6", "Dependent relative needing care at home", false},
	{0.07, "http://hl7.org/fhir/sid/icd-10", "Z72.3", "Lack of physical exercise", false},
	{0.17, "http://snomed.info/sct", "871731000000106", "Referral to social prescribing service", true},
	{0.01, "http://snomed.info/sct", "6471006", "Suicidal thoughts", false}, // stopped by the safety screen
}

// demoReferrers: job titles in tokens; "self" for a self-referral, told
// by the ServiceRequest's requester (the patient). Another agency cannot
// refer through a practice's token (intake takes only the practice, or a
// person of it, as requester), so the demo has none.
var demoReferrers = []struct {
	weight           float64
	title, requester string
}{
	{0.42, "GP", ""}, {0.20, "Practice nurse", ""}, {0.18, "Care navigator", ""}, {0.06, "Clinical pharmacist", ""},
	{0.03, "Practice manager", ""}, {0.02, "", ""}, {0.09, "Care navigator", "self"},
}

// seedDemo plays a synthetic history through the real intake and
// lifecycle on a simulated clock: referrals arrive on weekdays in working
// hours, with a Patient (postcode, age, sex) most of the time and the
// patient's consent; link workers and VCSE providers accept, contact and
// start support, record SWEMWBS and ONS4 scores at the start and six to
// twelve weeks later, and close; some patients decline or cannot be
// reached, some providers decline. Daily capacity snapshots are taken.
// Steps that would fall after End are not played.
func seedDemo(ctx context.Context, a *app, o demoOptions) (demoSummary, error) {
	cfg := a.cfg
	loc := adapter.London()
	end := o.End.In(loc)
	start := time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, loc).AddDate(0, -o.Months, 0)
	s := &demoSim{ctx: ctx, a: a, r: mrand.New(mrand.NewPCG(o.Seed, 20)), loc: loc, now: start, end: end}
	clock := func() time.Time { return s.now }
	s.in = intake.New(a.parser, a.stores.intake, a.mappings, intake.WithClock(clock), intake.WithStats(a.stores.StatsStore),
		intake.WithConfig(cfg.Intake), intake.WithStaleAfter(a.caps.StaleAfter()), intake.WithAccess(a.policy))
	s.q = lifecycle.New(a.stores.queue, a.policy, a.mappings, cfg.Queue, a.caps.StaleAfter(), lifecycle.WithStats(a.stores.StatsStore))
	s.q.SetClock(clock)
	s.sum.From, s.sum.To = start.Format(time.DateOnly), end.Format(time.DateOnly)
	rate := float64(o.PerWeek) / 5
	for d := start; d.Before(end); d = d.AddDate(0, 0, 1) {
		n := 0
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n = s.poisson(rate)
		}
		for range n {
			at := d.Add(8*time.Hour + 30*time.Minute + time.Duration(s.r.IntN(9*60))*time.Minute)
			s.at(at, s.arrive)
		}
		day := d
		s.at(d.Add(23*time.Hour+55*time.Minute), func() { s.snapshot(day) })
	}
	for s.events.Len() > 0 {
		ev := heap.Pop(&s.events).(demoEvent)
		if ev.at.After(end) {
			continue
		}
		s.now = ev.at
		ev.do()
		if s.err != nil {
			return s.sum, s.err
		}
	}
	return s.sum, nil
}

// demoSim is the simulation's state.
type demoSim struct {
	ctx      context.Context
	a        *app
	in       *intake.Service
	q        *lifecycle.Service
	r        *mrand.Rand
	loc      *time.Location
	now, end time.Time
	events   demoEvents
	seq, n   int
	sum      demoSummary
	err      error // a failure of the store: the demo stops
}

type demoEvent struct {
	at  time.Time
	seq int
	do  func()
}

// demoEvents is a heap of events by time, then by when they were added.
type demoEvents []demoEvent

func (e demoEvents) Len() int { return len(e) }
func (e demoEvents) Less(i, j int) bool {
	return e[i].at.Before(e[j].at) || e[i].at.Equal(e[j].at) && e[i].seq < e[j].seq
}
func (e demoEvents) Swap(i, j int) { e[i], e[j] = e[j], e[i] }
func (e *demoEvents) Push(x any)   { *e = append(*e, x.(demoEvent)) }
func (e *demoEvents) Pop() any {
	old := *e
	x := old[len(old)-1]
	*e = old[:len(old)-1]
	return x
}

func (s *demoSim) at(t time.Time, do func()) {
	s.seq++
	heap.Push(&s.events, demoEvent{at: t, seq: s.seq, do: do})
}

// after is now plus between lo and hi days, in working hours.
func (s *demoSim) after(lo, hi float64) time.Time {
	t := s.now.Add(time.Duration((lo + s.r.Float64()*(hi-lo)) * 24 * float64(time.Hour)))
	if h := t.Hour(); h < 9 || h >= 17 {
		t = time.Date(t.Year(), t.Month(), t.Day(), 9+s.r.IntN(8), s.r.IntN(60), 0, 0, s.loc)
	}
	return t
}

func (s *demoSim) poisson(mean float64) int {
	l, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= s.r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// pick returns an index by weight.
func (s *demoSim) pick(weights func(i int) float64, n int) int {
	var total float64
	for i := range n {
		total += weights(i)
	}
	x := s.r.Float64() * total
	for i := range n {
		if x -= weights(i); x < 0 {
			return i
		}
	}
	return n - 1
}

// fail keeps the first store failure (the demo stops); refusals by the
// lifecycle rules are only counted.
func (s *demoSim) fail(err error) {
	if err == nil {
		return
	}
	switch adapter.ErrorCode(err) {
	case adapter.EUNAVAILABLE:
		if s.err == nil {
			s.err = err
		}
	default:
		s.sum.Refused++
	}
}

// arrive sends one referral as its practice's EHR would: a transaction
// Bundle of the Patient (most of the time), the ServiceRequest and the
// patient's consent to share with the network.
func (s *demoSim) arrive() {
	fade := s.end.Sub(s.now) < 35*24*time.Hour
	p := demoPractices[s.pick(func(i int) float64 {
		if demoPractices[i].fading && fade {
			// A tenth: well past half whatever the hour the demo ends
			// at (a fifth left the fall within one referral of half for
			// some hours of the day, and the demo test failed then).
			return demoPractices[i].weight / 10
		}
		return demoPractices[i].weight
	}, len(demoPractices))]
	need := demoNeeds[s.pick(func(i int) float64 { return demoNeeds[i].weight }, len(demoNeeds))]
	who := demoReferrers[s.pick(func(i int) float64 { return demoReferrers[i].weight }, len(demoReferrers))]
	s.n++
	nhs := adapter.SyntheticNHSNumber(s.n) // synthetic, with a valid check digit
	withPatient := p.area != "" && s.r.Float64() < 0.85
	areas := []string{"LS4", "LS5", "LS6", "LS7", "LS8"}
	area := p.area
	if s.r.Float64() < 0.2 {
		area = areas[s.r.IntN(len(areas))]
	}
	subject := map[string]any{"type": "Patient", "identifier": map[string]any{"system": adapter.SystemNHSNumber, "value": nhs}}
	var entries []map[string]any
	if withPatient {
		pat := s.patient(nhs, area, p.ods)
		entries = append(entries, map[string]any{"fullUrl": "urn:uuid:demo-patient", "resource": pat,
			"request": map[string]any{"method": "POST", "url": "Patient"}})
		subject = map[string]any{"reference": "urn:uuid:demo-patient"}
	}
	entries = append(entries, map[string]any{"fullUrl": "urn:uuid:demo-referral", "resource": s.referral(p.ods, need, who.requester, subject),
		"request": map[string]any{"method": "POST", "url": "ServiceRequest"}})
	if s.r.Float64() < 0.97 {
		entries = append(entries, map[string]any{"fullUrl": "urn:uuid:demo-consent", "resource": s.consent(p.ods, subject),
			"request": map[string]any{"method": "POST", "url": "Consent"}})
	}
	body, _ := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": entries})
	tx, err := s.a.parser.Transaction(body)
	if err != nil {
		s.err = fmt.Errorf("demo: a synthetic Bundle is not valid: %w", err)
		return
	}
	in := make([]intake.Entry, len(tx))
	for i := range tx {
		in[i] = intake.Entry{Tx: &tx[i]}
	}
	results, err := s.in.Transact(s.ctx, intake.Caller{Actor: adapter.Actor{Org: p.ods, Role: adapter.RolePractice, Subject: "demo@" + p.ods}, Title: who.title}, in)
	if err != nil {
		s.fail(err)
		return
	}
	s.sum.Referrals++
	if withPatient {
		s.sum.WithPatient++
	}
	for _, r := range results {
		t := r.Task
		switch {
		case t == nil:
		case t.Held():
			s.sum.Held++
		case t.Status == adapter.TaskRejected:
			s.sum.Stopped++
		case t.Status == adapter.TaskRequested && t.BusinessStatus.Code != adapter.BSWaitlisted:
			id, owner := t.ID, t.Owner
			s.at(s.after(0.2, 3), func() { s.pickUp(id, owner) })
		}
	}
}

// patient is a synthetic Patient: home postcode in area, an age leaning
// older as social prescribing's does, and an administrative gender.
func (s *demoSim) patient(nhs, area, practice string) map[string]any {
	ages := []struct {
		w      float64
		lo, hi int
	}{{0.02, 16, 17}, {0.10, 18, 24}, {0.12, 25, 34}, {0.13, 35, 44}, {0.16, 45, 54}, {0.16, 55, 64}, {0.15, 65, 74}, {0.11, 75, 84}, {0.05, 85, 95}}
	band := ages[s.pick(func(i int) float64 { return ages[i].w }, len(ages))]
	age := band.lo + s.r.IntN(band.hi-band.lo+1)
	born := s.now.AddDate(-age, 0, -1-s.r.IntN(360)).Format(time.DateOnly)
	pat := map[string]any{
		"resourceType": "Patient",
		"identifier":   []any{map[string]any{"system": adapter.SystemNHSNumber, "value": nhs}},
		"name":         []any{map[string]any{"use": "official", "family": "Demo", "given": []any{"Synthetic"}}},
		"birthDate":    born,
		"address": []any{map[string]any{"use": "home", "city": "Leeds",
			"postalCode": fmt.Sprintf("%s %d%c%c", area, 1+s.r.IntN(9), 'A'+rune(s.r.IntN(26)), 'A'+rune(s.r.IntN(26)))}},
		"generalPractitioner": []any{map[string]any{"type": "Organization",
			"identifier": map[string]any{"system": adapter.SystemODS, "value": practice}}},
	}
	switch x := s.r.Float64(); {
	case x < 0.58:
		pat["gender"] = "female"
	case x < 0.97:
		pat["gender"] = "male"
	case x < 0.985:
		pat["gender"] = "other"
	}
	return pat
}

func (s *demoSim) referral(practice string, need demoNeed, requester string, subject map[string]any) map[string]any {
	coding := map[string]any{"system": need.system, "code": need.code, "display": need.display}
	sr := map[string]any{
		"resourceType": "ServiceRequest",
		"identifier":   []any{map[string]any{"system": "https://fhir." + strings.ToLower(practice) + ".example.nhs.uk/Id/social-prescribing-referral", "value": fmt.Sprintf("DEMO-%06d", s.n)}},
		"status":       "active", "intent": "order", "priority": "routine",
		"category":   []any{map[string]any{"coding": []any{map[string]any{"system": "http://snomed.info/sct", "code": "3457005", "display": "Patient referral"}}}},
		"subject":    subject,
		"authoredOn": s.now.Format(time.RFC3339),
		"requester":  map[string]any{"type": "Organization", "identifier": map[string]any{"system": adapter.SystemODS, "value": practice}},
	}
	switch requester {
	case "self":
		sr["requester"] = map[string]any{"reference": subject["reference"]}
		if subject["reference"] == nil {
			sr["requester"] = map[string]any{"type": "Patient", "identifier": subject["identifier"]}
		}
	}
	if need.general {
		sr["code"] = map[string]any{"coding": []any{coding}}
	} else {
		sr["reasonCode"] = []any{map[string]any{"coding": []any{coding}}}
	}
	return sr
}

// consent permits disclosure to the network for the patient's care for a
// year from today.
func (s *demoSim) consent(practice string, subject map[string]any) map[string]any {
	return map[string]any{
		"resourceType": "Consent",
		"identifier":   []any{map[string]any{"system": "https://fhir." + strings.ToLower(practice) + ".example.nhs.uk/Id/consent", "value": fmt.Sprintf("DEMO-CON-%06d", s.n)}},
		"status":       "active",
		"scope":        map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}}},
		"category":     []any{map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "59284-0"}}}},
		"patient":      subject,
		"dateTime":     s.now.Add(-10 * time.Minute).Format(time.RFC3339),
		"organization": []any{map[string]any{"type": "Organization", "identifier": map[string]any{"system": adapter.SystemODS, "value": practice}}},
		"policy":       []any{map[string]any{"uri": "https://social-prescribing.github.io/referral-adapter/policy/social-prescribing-sharing"}},
		"provision": map[string]any{"type": "permit",
			"period":  map[string]any{"start": s.now.AddDate(0, 0, -1).Format(time.DateOnly), "end": s.now.AddDate(1, 0, 0).Format(time.DateOnly)},
			"action":  []any{map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/consentaction", "code": "disclose"}}}},
			"purpose": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "TREAT"}},
			"actor": []any{map[string]any{
				"role":      map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}}},
				"reference": map[string]any{"type": "Organization", "identifier": map[string]any{"system": adapter.SystemODS, "value": s.a.mappings.Network.ODS}}}}},
	}
}

// worker is who works the referral at its service.
func (s *demoSim) worker(service string) lifecycle.Caller {
	svc, ok := s.a.mappings.Service(service)
	if !ok || svc.Kind == adapter.KindLinkWorker {
		return lifecycle.Caller{Actor: adapter.Actor{Subject: "sam.okafor@" + s.a.mappings.Network.ODS, Role: "link-worker", Org: s.a.mappings.Network.ODS},
			Name: "Sam Okafor", Title: "Social prescribing link worker"}
	}
	return lifecycle.Caller{Actor: adapter.Actor{Subject: "caseworker@" + svc.ProvidedBy.ODS, Role: "provider", Org: svc.ProvidedBy.ODS},
		Name: "Alex Reid", Title: "Caseworker"}
}

func (s *demoSim) move(id string, c lifecycle.Caller, to adapter.TaskStatus, bs, reason string) bool {
	_, err := s.q.Transition(s.ctx, c, id, adapter.Transition{To: to, BusinessStatus: bs, Reason: reason})
	s.fail(err)
	return err == nil
}

// pickUp: the service answers the referral; then what happens to it.
func (s *demoSim) pickUp(id, service string) {
	c := s.worker(service)
	if c.Role == "provider" && s.r.Float64() < 0.05 {
		s.move(id, c, adapter.TaskRejected, adapter.BSProviderDecline, adapter.ReasonNotEligible)
		return
	}
	if !s.move(id, c, adapter.TaskAccepted, "", "") {
		return
	}
	switch x := s.r.Float64(); {
	case x < 0.06:
		s.at(s.after(1, 6), func() { s.move(id, c, adapter.TaskCancelled, adapter.BSPatientDeclined, "") })
	case x < 0.14: // three unsuccessful attempts over more than a week, then closed as not contactable
		s.at(s.after(0.5, 3), func() {
			s.attempt(id, c, adapter.ContactNoAnswer, adapter.ChannelPhone)
			// At least 8.5 days between the first and the third, so that
			// moving each into working hours (up to 14 hours earlier) still
			// leaves more than CONTACT_ATTEMPTS_SPAN's week.
			s.at(s.after(4, 5), func() {
				s.attempt(id, c, adapter.ContactLeftMessage, adapter.ChannelPhone)
				s.at(s.after(4.5, 6), func() {
					s.attempt(id, c, adapter.ContactNoAnswer, adapter.ChannelLetter)
					s.move(id, c, adapter.TaskFailed, adapter.BSNotContactable, "no answer to two calls and a letter over more than a week")
				})
			})
		})
	default:
		s.at(s.after(0.5, 6), func() { s.contact(id, c) })
	}
}

// attempt records a contact attempt (no note: the demo writes no free text).
func (s *demoSim) attempt(id string, c lifecycle.Caller, r adapter.ContactResult, ch adapter.ContactChannel) {
	_, err := s.q.RecordContactAttempt(s.ctx, c, id, adapter.ContactAttempt{Result: r, Channel: ch})
	s.fail(err)
}

func (s *demoSim) contact(id string, c lifecycle.Caller) {
	if s.r.Float64() < 0.3 {
		s.attempt(id, c, adapter.ContactNoAnswer, adapter.ChannelPhone)
	}
	s.attempt(id, c, adapter.ContactReached, adapter.ChannelPhone)
	if !s.move(id, c, adapter.TaskAccepted, adapter.BSContacted, "") {
		return
	}
	s.sum.Contacted++
	s.at(s.after(2, 12), func() { s.start(id, c) })
}

// start begins support with a first score of SWEMWBS, and of the ONS4
// items for most.
func (s *demoSim) start(id string, c lifecycle.Caller) {
	if !s.move(id, c, adapter.TaskInProgress, adapter.BSSupportStarted, "") {
		return
	}
	first := map[string]float64{"swemwbs": float64(11 + s.r.IntN(13))}
	if s.r.Float64() < 0.6 {
		first["ons4-life-satisfaction"] = float64(2 + s.r.IntN(6))
		first["ons4-worthwhile"] = float64(3 + s.r.IntN(6))
		first["ons4-happiness"] = float64(2 + s.r.IntN(6))
		first["ons4-anxiety"] = float64(4 + s.r.IntN(6))
	}
	s.scores(id, c, first)
	if s.r.Float64() < 0.1 { // dropped out: no follow-up
		return
	}
	s.at(s.after(42, 84), func() { s.finish(id, c, first) })
}

// finish records the follow-up scores, mostly better, and closes.
func (s *demoSim) finish(id string, c lifecycle.Caller, first map[string]float64) {
	latest := map[string]float64{}
	for k, v := range first {
		m, _ := adapter.Measure(k)
		change := s.r.NormFloat64()*1.5 + 1
		if k == "swemwbs" {
			change = s.r.NormFloat64()*3.5 + 3.5
		}
		if m.LowerIsBetter {
			change = -change
		}
		latest[k] = math.Max(m.Min, math.Min(m.Max, math.Round(v+change)))
	}
	s.scores(id, c, latest)
	if s.move(id, c, adapter.TaskCompleted, "", "") {
		s.sum.Completed++
	}
}

// scores records one Observation per measure, as the worker would; about
// seven in ten with the patient's approval to share with the GP (they are
// counted in the wellbeing change either way).
func (s *demoSim) scores(id string, c lifecycle.Caller, values map[string]float64) {
	approved := s.r.Float64() < 0.7
	for _, m := range adapter.WellbeingMeasures {
		v, ok := values[m.Key]
		if !ok {
			continue
		}
		body, _ := json.Marshal(map[string]any{
			"resourceType": "Observation", "status": "final",
			"category":          []any{map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey"}}}},
			"code":              map[string]any{"coding": []any{map[string]any{"system": adapter.SystemWellbeingMeasure, "code": m.Code, "display": m.Display}}, "text": m.Display},
			"effectiveDateTime": s.now.Format(time.RFC3339),
			"valueInteger":      int(v),
		})
		res, err := s.a.parser.Parse(body, "Observation")
		if err != nil {
			s.err = fmt.Errorf("demo: a synthetic Observation is not valid: %w", err)
			return
		}
		score, err := fhir.WellbeingScoreFrom(res)
		if err != nil {
			s.fail(err)
			continue
		}
		meta := fhir.OutcomeMetaFrom(res)
		o := adapter.OutcomeRecord{Type: "Observation", Approved: approved, Categories: meta.Categories, Codes: meta.Codes,
			SecurityLabels: meta.SecurityLabels, Effective: meta.Effective, Score: score}
		now := s.now
		_, err = s.q.RecordOutcome(s.ctx, s.a.store, c, id, o, func(oid, referral string) ([]byte, error) {
			return fhir.StampOutcome(res.Raw, oid, now, referral)
		})
		if err == nil {
			s.sum.Scores++
		}
		s.fail(err)
	}
}

// snapshot takes the day's capacity snapshot, as the daily-snapshot job
// does at 23:55.
func (s *demoSim) snapshot(day time.Time) {
	caps, err := s.a.store.Capacities(s.ctx, s.a.mappings.ServiceIDs())
	if err != nil {
		s.fail(err)
		return
	}
	incs := report.SnapshotIncs(day.Format(time.DateOnly), caps)
	s.fail(s.a.store.Count(s.ctx, incs))
}

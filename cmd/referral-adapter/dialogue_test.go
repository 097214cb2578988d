package main

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

// dialogueCase is a referral to the link workers (CONSENT_REQUIRED=true,
// as deployed), claimed and accepted by a link worker.
type dialogueCase struct {
	h                 *harness
	sr                string
	gp, lw, admin     string
	otherGP, stranger string // a third practice, an unrelated provider
}

func newDialogueCase(t *testing.T, env map[string]string, consents ...[]byte) *dialogueCase {
	t.Helper()
	own := map[string]string{"CONSENT_REQUIRED": "true"} // a copy: env may be shared (allowHTTP)
	for k, v := range env {
		own[k] = v
	}
	h := newHarness(t, own)
	d := &dialogueCase{h: h, gp: h.token(auth.RolePractice, practice), admin: h.token(auth.RoleAdmin, "ADMIN"),
		otherGP: h.token(auth.RolePractice, otherPractice), stranger: h.token(auth.RoleProvider, "X1V03")}
	lw, err := auth.Mint(testSecret, auth.MintOptions{Role: auth.RoleLinkWorker, Org: "U00001", Subject: "lw-sam",
		Name: "Sam Okafor", Title: "Social prescribing link worker"})
	if err != nil {
		t.Fatal(err)
	}
	d.lw = lw
	post(t, h, "/fhir/Consent", d.gp, fixture(t, "consent-share-with-link-workers.json"), http.StatusCreated)
	for _, c := range consents {
		post(t, h, "/fhir/Consent", d.gp, c, http.StatusCreated)
	}
	d.sr = idOf(t, post(t, h, "/fhir/ServiceRequest", d.gp, fixture(t, "servicerequest-general.json"), http.StatusCreated))
	if r := h.api("POST", "/api/v1/queues/riverside-link-workers/claim", d.lw, ""); r.status != http.StatusOK {
		t.Fatalf("claim = %d %s", r.status, r.body)
	}
	if r := h.api("POST", "/api/v1/referrals/"+d.sr+"/transition", d.lw, `{"status":"accepted"}`); r.status != http.StatusOK {
		t.Fatalf("accept = %d %s", r.status, r.body)
	}
	return d
}

// message is a fixture Communication about this case's referral.
func (d *dialogueCase) message(t *testing.T, file string, set map[string]any) []byte {
	t.Helper()
	m := map[string]any{"basedOn": []any{map[string]any{"reference": "ServiceRequest/" + d.sr}}}
	for k, v := range set {
		m[k] = v
	}
	return withJSON(t, fixture(t, file), m)
}

func approval(approved bool) []any {
	return []any{map[string]any{"url": "https://social-prescribing.github.io/referral-adapter/StructureDefinition/patient-approved-sharing",
		"valueBoolean": approved}}
}

func (d *dialogueCase) reply(t *testing.T, to string, approved bool) []byte {
	set := map[string]any{"extension": approval(approved), "inResponseTo": nil}
	if to != "" {
		set["inResponseTo"] = []any{map[string]any{"reference": "Communication/" + to}}
	}
	return d.message(t, "communication-link-worker-reply.json", set)
}

// thread reads the referral's thread as a caller: status and message ids.
func (d *dialogueCase) thread(t *testing.T, token string) (int, []string) {
	t.Helper()
	r := d.h.do("GET", "/fhir/Communication?based-on=ServiceRequest/"+d.sr, token, nil)
	if r.status != http.StatusOK {
		return r.status, nil
	}
	var b struct {
		Type  string
		Entry []struct {
			FullURL  string `json:"fullUrl"`
			Resource struct{ ID, ResourceType string }
		}
	}
	if err := json.Unmarshal(r.body, &b); err != nil || b.Type != "searchset" {
		t.Fatalf("thread = %s", r.body)
	}
	ids := []string{}
	for _, e := range b.Entry {
		if e.Resource.ResourceType != "Communication" || !strings.HasSuffix(e.FullURL, "/Communication/"+e.Resource.ID) {
			t.Errorf("entry %+v", e)
		}
		ids = append(ids, e.Resource.ID)
	}
	return r.status, ids
}

// The issue's dialogue: the GP asks, the link worker answers, the GP reads
// the thread; a third practice and an unrelated provider are told it does
// not exist, and nobody else gets in.
func TestDialogueGPAsksLinkWorkerAnswers(t *testing.T) {
	d := newDialogueCase(t, nil, feedbackConsent(t))
	h := d.h

	q := post(t, h, "/fhir/Communication", d.gp, d.message(t, "communication-gp-question.json", nil), http.StatusCreated)
	question := idOf(t, q)
	if !locationIs(q.header.Get("Location"), "Communication", question) {
		t.Errorf("Location = %q", q.header.Get("Location"))
	}
	if _, err := h.app.parser.Parse(q.body, "Communication"); err != nil {
		t.Fatalf("stored question is not valid FHIR: %v\n%s", err, q.body)
	}
	var qm struct {
		Recipient []struct{ Reference string }
		PartOf    []struct{ Reference string }
		Payload   []struct{ ContentString string }
	}
	_ = json.Unmarshal(q.body, &qm)
	if len(qm.Recipient) != 1 || qm.Recipient[0].Reference != "HealthcareService/riverside-link-workers" ||
		len(qm.PartOf) != 1 || qm.PartOf[0].Reference != "Task/"+d.sr || !strings.Contains(qm.Payload[0].ContentString, "bailiff") {
		t.Errorf("question as stored: %s", q.body)
	}

	// The link worker sees the question and answers it.
	if st, ids := d.thread(t, d.lw); st != 200 || !slices.Equal(ids, []string{question}) {
		t.Fatalf("the link worker's thread: %d %v", st, ids)
	}
	a := post(t, h, "/fhir/Communication", d.lw, d.reply(t, question, true), http.StatusCreated)
	answer := idOf(t, a)
	var am struct {
		InResponseTo []struct{ Reference string }
		Sender       struct {
			Identifier struct{ Value string }
			Display    string
		}
		Recipient []struct{ Identifier struct{ Value string } }
	}
	_ = json.Unmarshal(a.body, &am)
	if len(am.InResponseTo) != 1 || am.InResponseTo[0].Reference != "Communication/"+question || am.Sender.Identifier.Value != "U00001" ||
		!strings.Contains(am.Sender.Display, "Sam Okafor") || len(am.Recipient) != 1 || am.Recipient[0].Identifier.Value != practice {
		t.Errorf("answer as stored: %s", a.body)
	}

	// The GP reads the whole thread, in order, and each message.
	if st, ids := d.thread(t, d.gp); st != 200 || !slices.Equal(ids, []string{question, answer}) {
		t.Fatalf("the GP's thread: %d %v, want [%s %s]", st, ids, question, answer)
	}
	if r := h.do("GET", "/fhir/Communication/"+answer, d.gp, nil); r.status != 200 || !strings.Contains(string(r.body), "debt adviser") {
		t.Errorf("GP reads the answer: %d %s", r.status, r.body)
	}

	// Nobody else: a third practice and an unrelated provider find an
	// empty thread (a search matching nothing, as for no such referral),
	// and get 404 for each message and for writing to it; commissioners
	// and admins are refused by role.
	for name, tok := range map[string]string{"third practice": d.otherGP, "unrelated provider": d.stranger} {
		if st, ids := d.thread(t, tok); st != http.StatusOK || len(ids) != 0 {
			t.Errorf("%s reads the thread: %d %v", name, st, ids)
		}
		for _, id := range []string{question, answer} {
			if r := h.do("GET", "/fhir/Communication/"+id, tok, nil); r.status != http.StatusNotFound {
				t.Errorf("%s reads Communication/%s: %d", name, id, r.status)
			}
		}
	}
	third := withJSON(t, d.message(t, "communication-gp-question.json", nil), map[string]any{"sender": nil})
	if r := h.do("POST", "/fhir/Communication", d.otherGP, third); r.status != http.StatusNotFound {
		t.Errorf("a third practice writes to the thread: %d %s", r.status, r.body)
	}
	if r := h.do("POST", "/fhir/Communication", d.stranger, d.reply(t, "", true)); r.status != http.StatusNotFound {
		t.Errorf("an unrelated provider writes to the thread: %d %s", r.status, r.body)
	}
	for _, role := range []auth.Role{auth.RoleCommissioner, auth.RoleAdmin} {
		if r := h.do("GET", "/fhir/Communication/"+question, callerToken(t, role), nil); r.status != http.StatusForbidden {
			t.Errorf("%s reads a message: %d", role, r.status)
		}
	}
	if st, ids := d.thread(t, d.gp); len(ids) != 2 {
		t.Errorf("refused writes changed the thread: %d %v", st, ids)
	}
	// No message text in the logs.
	if logs := h.logs.String(); strings.Contains(logs, "bailiff") || strings.Contains(logs, "debt adviser") {
		t.Error("logs carry message text")
	}
}

// A link worker's message without the patient's approval is kept for the
// workers but never delivered to the GP: left out of the GP's thread, 404
// at its URL, no notification; the decision is audited. An approved
// message the consent does not permit is withheld the same way.
func TestDialogueUnapprovedMessageNotDeliveredToGP(t *testing.T) {
	d := newDialogueCase(t, allowHTTP)
	h := d.h
	rc := newEHR(t, 200)
	post(t, h, "/fhir/Subscription", d.gp, subscriptionBody(rc.srv.URL), http.StatusCreated)
	h.poll(t)
	before := len(rc.events())

	unapproved := idOf(t, post(t, h, "/fhir/Communication", d.lw, d.reply(t, "", false), http.StatusCreated))
	// Only the network-sharing consent: nothing permits disclosure to the practice.
	unpermitted := idOf(t, post(t, h, "/fhir/Communication", d.lw, d.reply(t, "", true), http.StatusCreated))

	if _, ids := d.thread(t, d.lw); !slices.Equal(ids, []string{unapproved, unpermitted}) {
		t.Errorf("the link workers' own thread: %v", ids)
	}
	if st, ids := d.thread(t, d.gp); st != 200 || len(ids) != 0 {
		t.Errorf("the GP's thread: %d %v, want none", st, ids)
	}
	for _, id := range []string{unapproved, unpermitted} {
		if r := h.do("GET", "/fhir/Communication/"+id, d.gp, nil); r.status != http.StatusNotFound {
			t.Errorf("GP reads withheld Communication/%s: %d", id, r.status)
		}
	}
	h.poll(t)
	if got := len(rc.events()); got != before {
		t.Errorf("the practice was notified of %d withheld messages", got-before)
	}
	for id, want := range map[string]string{
		unapproved:  "deny: the patient did not approve sharing this message",
		unpermitted: "deny: ",
	} {
		r := h.do("GET", "/fhir/AuditEvent?entity=Communication/"+id, d.admin, nil)
		if r.status != 200 || !strings.Contains(string(r.body), want) || !strings.Contains(string(r.body), `"code":"disclosure"`) {
			t.Errorf("audit of Communication/%s: %d %s\nwant %q", id, r.status, r.body, want)
		}
	}

	// The approval must be stated: a worker's message without it is refused.
	noApproval := d.message(t, "communication-link-worker-reply.json", map[string]any{"extension": nil, "inResponseTo": nil})
	r := h.do("POST", "/fhir/Communication", d.lw, noApproval)
	if r.status != http.StatusBadRequest || issue(t, r)["code"] != "required" {
		t.Errorf("no approval stated: %d %s", r.status, r.body)
	}

	// With the consent to feed back, an approved message is delivered
	// and the practice is told.
	post(t, h, "/fhir/Consent", d.gp, feedbackConsent(t), http.StatusCreated)
	shared := idOf(t, post(t, h, "/fhir/Communication", d.lw, d.reply(t, "", true), http.StatusCreated))
	if _, ids := d.thread(t, d.gp); !slices.Contains(ids, shared) || slices.Contains(ids, unapproved) {
		t.Errorf("after consent the GP's thread is %v", ids)
	}
	h.poll(t)
	evs := rc.events()
	if len(evs) != before+1 || !strings.Contains(evs[len(evs)-1], `"Task/`+d.sr+`"`) || strings.Contains(evs[len(evs)-1], "debt adviser") {
		t.Errorf("notification of the delivered message: %d new, %v", len(evs)-before, evs)
	}
}

// A GP's EHR names the clinician writing as the sender (a Practitioner, as
// UK Core's Communication examples do): taken when it is the person the
// token names, and stored as sent; anyone else is refused.
func TestDialogueSenderMayBeThePersonWriting(t *testing.T) {
	d := newDialogueCase(t, nil)
	h := d.h
	gp, err := auth.Mint(testSecret, auth.MintOptions{Role: auth.RolePractice, Org: practice, FHIRUser: "Practitioner/gp-ward", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	from := func(ref string) []byte {
		return d.message(t, "communication-gp-question.json", map[string]any{"sender": map[string]any{"reference": ref}})
	}
	r := post(t, h, "/fhir/Communication", gp, from("Practitioner/gp-ward"), http.StatusCreated)
	if got := gjson.GetBytes(r.body, "sender.reference").Str; got != "Practitioner/gp-ward" {
		t.Errorf("stored sender %q", got)
	}
	for _, c := range []struct {
		name, token, ref string
	}{
		{"another clinician", gp, "Practitioner/gp-someone-else"},
		{"a token naming nobody", d.gp, "Practitioner/gp-ward"},
	} {
		if r := h.do("POST", "/fhir/Communication", c.token, from(c.ref)); r.status != 422 || !strings.Contains(string(r.body), "Communication.sender") {
			t.Errorf("%s: %d %s", c.name, r.status, r.body)
		}
	}
}

// Bad messages are precise 4xx OperationOutcomes and store nothing.
func TestDialogueRejectsBadMessages(t *testing.T) {
	d := newDialogueCase(t, nil)
	h := d.h
	other := idOf(t, post(t, h, "/fhir/ServiceRequest", h.token(auth.RolePractice, otherPractice),
		asPractice(t, fixture(t, "servicerequest-debt.json"), otherPractice), http.StatusCreated))
	before := h.dataKeys()
	cases := []struct {
		name   string
		token  string
		body   []byte
		status int
		code   string
		at     string
	}{
		{"malformed", d.gp, []byte(`{"resourceType":"Communication",`), 400, "structure", ""},
		{"wrong type", d.gp, fixture(t, "flag-safeguarding.json"), 400, "invalid", "resourceType"},
		{"unknown element", d.gp, d.message(t, "communication-gp-question.json", map[string]any{"colour": "red"}), 400, "structure", "Communication.colour"},
		{"draft", d.gp, d.message(t, "communication-gp-question.json", map[string]any{"status": "preparation"}), 422, "business-rule", "Communication.status"},
		{"no referral", d.gp, withJSON(t, fixture(t, "communication-gp-question.json"), map[string]any{"basedOn": nil}), 400, "required", "Communication.basedOn"},
		{"unknown referral", d.gp, withJSON(t, fixture(t, "communication-gp-question.json"), nil), 404, "not-found", ""},
		{"someone else's sender", d.gp, d.message(t, "communication-gp-question.json", map[string]any{"sender": map[string]any{"type": "Organization",
			"identifier": map[string]any{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": otherPractice}}}), 422, "business-rule", "Communication.sender"},
		{"another patient", d.gp, d.message(t, "communication-gp-question.json", map[string]any{"subject": map[string]any{"type": "Patient",
			"identifier": map[string]any{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000017"}}}), 422, "business-rule", "Communication.subject"},
		{"wrong recipient", d.lw, d.message(t, "communication-link-worker-reply.json", map[string]any{"inResponseTo": nil,
			"recipient": []any{map[string]any{"reference": "HealthcareService/money-advice"}}}), 422, "business-rule", "Communication.recipient[0]"},
		{"reply to nothing", d.lw, d.reply(t, "no-such-message", true), 422, "business-rule", "Communication.inResponseTo[0]"},
		{"other referral's Task", d.gp, d.message(t, "communication-gp-question.json", map[string]any{"partOf": []any{map[string]any{"reference": "Task/" + other}}}), 404, "not-found", ""},
		{"sent tomorrow", d.gp, d.message(t, "communication-gp-question.json", map[string]any{"sent": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)}), 422, "business-rule", "Communication.sent"},
		{"attachment", d.gp, d.message(t, "communication-gp-question.json", map[string]any{"payload": []any{map[string]any{"contentAttachment": map[string]any{"url": "https://example.org/x"}}}}), 400, "not-supported", "Communication.payload[0].content[x]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.do("POST", "/fhir/Communication", c.token, c.body)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.body)
			}
			is := issue(t, r)
			if is["code"] != c.code {
				t.Errorf("code %v, want %s", is["code"], c.code)
			}
			if c.at != "" {
				if expr, _ := is["expression"].([]any); len(expr) == 0 || expr[0] != c.at {
					t.Errorf("expression %v, want %s", is["expression"], c.at)
				}
			}
		})
	}
	if keys := h.dataKeys(); !slices.Equal(keys, before) {
		t.Errorf("refused messages left data behind: %v", keys)
	}
	// Another practice writing on this referral is told the referral is
	// not found (as for none), not that a Communication is.
	r := h.do("POST", "/fhir/Communication", d.otherGP, d.message(t, "communication-gp-question.json", nil))
	if is := issue(t, r); r.status != http.StatusNotFound || is["diagnostics"] != "ServiceRequest not found" {
		t.Errorf("another practice: %d %v", r.status, is)
	}
	for _, q := range []string{"", "?based-on=Task/x", "?subject=Patient/1", "?based-on=ServiceRequest/a,b"} {
		if r := h.do("GET", "/fhir/Communication"+q, d.gp, nil); r.status != 400 {
			t.Errorf("search %q = %d", q, r.status)
		}
	}
}

// denyFeedbackConsent is the patient's refusal to have outcomes shared with
// their practice.
func denyFeedbackConsent(t *testing.T) []byte {
	t.Helper()
	return withJSON(t, feedbackConsent(t), map[string]any{"provision.type": "deny",
		"identifier": []any{map[string]any{"system": "https://fhir.a81001.example.nhs.uk/Id/consent", "value": "CON-NO-FEEDBACK-1"}}})
}

// A safeguarding Flag reaches the practice although the patient's consent
// denies outcome sharing: readable by the practice, shown on its Task as a
// safeguarding alert, notified, and audited with its lawful basis.
func TestSafeguardingFlagReachesPracticeDespiteConsent(t *testing.T) {
	d := newDialogueCase(t, allowHTTP, denyFeedbackConsent(t))
	h := d.h
	rc := newEHR(t, 200)
	post(t, h, "/fhir/Subscription", d.gp, subscriptionBody(rc.srv.URL), http.StatusCreated)
	h.poll(t)

	// The consent really denies: an approved outcome is withheld from the GP.
	post(t, h, "/api/v1/referrals/"+d.sr+"/outcomes", d.lw, []byte(outcomeBody(t, "observation-swemwbs.json", true)), http.StatusCreated)
	if _, v := readTask(t, h, d.gp, d.sr); len(v.Outputs) != 0 || !slices.Contains(v.Security, "REDACTED") {
		t.Fatalf("the consent does not deny outcomes: %+v", v)
	}
	h.poll(t)
	before := len(rc.events())

	flagBody := withJSON(t, fixture(t, "flag-safeguarding.json"), map[string]any{"extension": []any{map[string]any{
		"url": "http://hl7.org/fhir/StructureDefinition/flag-detail", "valueReference": map[string]any{"reference": "ServiceRequest/" + d.sr}}}})
	if r := h.do("POST", "/fhir/Flag", d.gp, flagBody); r.status != http.StatusForbidden {
		t.Errorf("a practice raises a Flag: %d", r.status)
	}
	if r := h.do("POST", "/fhir/Flag", d.stranger, flagBody); r.status != http.StatusNotFound {
		t.Errorf("an unrelated provider raises a Flag: %d %s", r.status, r.body)
	}
	r := post(t, h, "/fhir/Flag", d.lw, flagBody, http.StatusCreated)
	flag := idOf(t, r)
	if _, err := h.app.parser.Parse(r.body, "Flag"); err != nil {
		t.Fatalf("stored Flag is not valid FHIR: %v", err)
	}

	// The practice reads it, by id and by referral.
	if g := h.do("GET", "/fhir/Flag/"+flag, d.gp, nil); g.status != 200 || !strings.Contains(string(g.body), "financial abuse") {
		t.Errorf("the GP reads the Flag: %d %s", g.status, g.body)
	}
	s := h.do("GET", "/fhir/Flag?referral=ServiceRequest/"+d.sr, d.gp, nil)
	if s.status != 200 || !strings.Contains(string(s.body), `/fhir/Flag/`+flag+`"`) {
		t.Errorf("the GP searches Flags: %d %s", s.status, s.body)
	}
	// The Task shows the alert, while outcomes stay redacted.
	task := h.do("GET", "/fhir/Task/"+d.sr, d.gp, nil)
	var tv struct {
		Meta struct{ Tag, Security []struct{ Code string } }
		Note []struct{ Text, Time string }
	}
	if err := json.Unmarshal(task.body, &tv); err != nil {
		t.Fatal(err)
	}
	alert := false
	for _, n := range tv.Note {
		alert = alert || strings.Contains(n.Text, "Safeguarding concern raised by Riverside Primary Care Network") && strings.Contains(n.Text, "Flag/"+flag) && n.Time != ""
		if strings.Contains(n.Text, "financial abuse") {
			t.Errorf("the Task note carries the concern itself: %q", n.Text)
		}
	}
	if !alert || len(tv.Meta.Tag) != 1 || tv.Meta.Tag[0].Code != "safeguarding" || len(tv.Meta.Security) != 1 {
		t.Errorf("the GP's Task: %s", task.body)
	}
	if _, err := h.app.parser.Parse(task.body, "Task"); err != nil {
		t.Errorf("Task with the alert is not valid FHIR: %v", err)
	}
	// Notified at once, id-only.
	h.poll(t)
	evs := rc.events()
	if len(evs) != before+1 || !strings.Contains(evs[len(evs)-1], `"Task/`+d.sr+`"`) || strings.Contains(evs[len(evs)-1], "abuse") {
		t.Errorf("notification of the Flag: %d new: %v", len(evs)-before, evs)
	}
	// Audited with its lawful basis, for the admin.
	a := h.do("GET", "/fhir/AuditEvent?entity=Flag/"+flag, d.admin, nil)
	for _, want := range []string{`"code":"safeguarding"`, "lawful basis", "Sch 1", "disclosed to practice " + practice} {
		if !strings.Contains(string(a.body), want) {
			t.Errorf("audit of the Flag lacks %q: %s", want, a.body)
		}
	}
	if strings.Contains(string(a.body), "financial abuse") {
		t.Error("the audit trail carries the concern itself")
	}
	// Nobody else sees it.
	for name, tok := range map[string]string{"third practice": d.otherGP, "unrelated provider": d.stranger} {
		if g := h.do("GET", "/fhir/Flag/"+flag, tok, nil); g.status != http.StatusNotFound {
			t.Errorf("%s reads the Flag: %d", name, g.status)
		}
		if g := h.do("GET", "/fhir/Flag?referral="+d.sr, tok, nil); g.status != http.StatusOK || gjson.GetBytes(g.body, "total").Int() != 0 {
			t.Errorf("%s searches the Flags: %d %s", name, g.status, g.body)
		}
	}
	if g := h.do("GET", "/fhir/Flag/"+flag, d.admin, nil); g.status != http.StatusForbidden {
		t.Errorf("an admin reads the Flag's content: %d", g.status)
	}
	// Never in a report except as an anonymous count, suppressed below 5.
	for path, tok := range map[string]string{
		"/api/v1/reports/practice?from=2026-01-01&to=2027-12-31": d.gp,
		"/api/v1/reports/capacity?from=2026-01-01&to=2027-12-31": h.token(auth.RoleAdmin, "ADMIN"),
	} {
		rep := h.do("GET", path, tok, nil)
		shown := strings.ReplaceAll(string(rep.body), `\u003c`, "<")
		if rep.status != 200 || !strings.Contains(shown, `"safeguardingConcerns":"<5"`) {
			t.Errorf("report %s: %d %s", path, rep.status, rep.body)
		}
		for _, leak := range []string{flag, "abuse", "9000000009", "Flag/"} {
			if strings.Contains(string(rep.body), leak) {
				t.Errorf("report %s carries %q", path, leak)
			}
		}
	}
	if logs := h.logs.String(); strings.Contains(logs, "financial abuse") {
		t.Error("logs carry the concern")
	}
}

// poll runs the notification dispatcher until it has nothing to do.
func (h *harness) poll(t *testing.T) {
	t.Helper()
	for range 3 {
		if _, err := h.app.notifier.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// events are the event notifications (not handshakes) the EHR received.
func (e *ehr) events() []string {
	var out []string
	for _, b := range e.received() {
		if strings.Contains(b, `"event-notification"`) {
			out = append(out, b)
		}
	}
	return out
}

// contactNote is the Task's named contact note as the GP sees it.
func contactNote(t *testing.T, h *harness, gp, id string) (text, at string, task map[string]any) {
	t.Helper()
	r := h.do("GET", "/fhir/Task/"+id, gp, nil)
	if r.status != 200 {
		t.Fatalf("GP reads the Task: %d", r.status)
	}
	if _, err := h.app.parser.Parse(r.body, "Task"); err != nil {
		t.Fatalf("Task is not valid FHIR: %v", err)
	}
	task = r.json(t)
	notes, _ := task["note"].([]any)
	for _, n := range notes {
		n := n.(map[string]any)
		if s, _ := n["text"].(string); strings.HasPrefix(s, "Named contact: ") {
			at, _ = n["time"].(string)
			return s, at, task
		}
	}
	return "", "", task
}

// The acknowledgement and the named contact: the practice sees at once
// that its referral was received, by which service, and what happens
// next; once claimed, who handles it (name, role, work contact routes);
// and when the case passes to someone else, after a lapsed lease or an
// explicit handover, the new contact and when it was handed over.
func TestNamedContactHandoverAndAcknowledgement(t *testing.T) {
	h := newHarness(t, map[string]string{"LEASE_DURATION": "1s"})
	gp := h.token(auth.RolePractice, practice)
	worker := func(subject, name string) string {
		tok, err := auth.Mint(testSecret, auth.MintOptions{Role: auth.RoleLinkWorker, Org: "U00001", Subject: subject, Name: name,
			Title: "Social prescribing link worker"})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	sam, priya := worker("lw-sam", "Sam Okafor"), worker("lw-priya", "Priya Shah")
	id := idOf(t, post(t, h, "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-general.json"), http.StatusCreated))

	text, _, task := contactNote(t, h, gp, id)
	owner, _ := task["owner"].(map[string]any)
	reason, _ := task["statusReason"].(map[string]any)
	restriction, _ := task["restriction"].(map[string]any)
	if text != "" || task["status"] != "requested" || owner["reference"] != "HealthcareService/riverside-link-workers" ||
		owner["display"] != "Riverside Social Prescribing Link Workers" || reason["text"] != "Routed to Riverside Social Prescribing Link Workers" ||
		restriction["period"] == nil {
		t.Fatalf("acknowledgement before a claim: %v", task)
	}

	if r := h.api("POST", "/api/v1/queues/riverside-link-workers/claim", sam, ""); r.status != 200 {
		t.Fatalf("Sam's claim = %d", r.status)
	}
	text, samSince, _ := contactNote(t, h, gp, id)
	want := "Named contact: Sam Okafor (Social prescribing link worker), Riverside Social Prescribing Link Workers, 0113 496 0000, riverside.sp@example.nhs.uk"
	if text != want || samSince == "" {
		t.Fatalf("after Sam's claim: %q at %q", text, samSince)
	}

	// Sam's lease lapses; Priya claims it: a handover, timestamped.
	time.Sleep(1100 * time.Millisecond)
	if r := h.api("POST", "/api/v1/queues/riverside-link-workers/claim", priya, ""); r.status != 200 || !strings.Contains(string(r.body), id) {
		t.Fatalf("Priya's claim = %d %s", r.status, r.body)
	}
	text, priyaSince, _ := contactNote(t, h, gp, id)
	if !strings.HasPrefix(text, "Named contact: Priya Shah (Social prescribing link worker), Riverside") || !strings.Contains(text, ". Handed over to them on ") ||
		priyaSince <= samSince {
		t.Fatalf("after the lapsed lease: %q at %q (Sam's at %q)", text, priyaSince, samSince)
	}
	if r := h.api("POST", "/api/v1/referrals/"+id+"/transition", priya, `{"status":"accepted"}`); r.status != 200 {
		t.Fatalf("accept = %d %s", r.status, r.body)
	}

	// An explicit handover back to Sam.
	for name, c := range map[string]struct {
		tok  string
		want int
	}{"the practice": {gp, 403}, "an unrelated provider": {h.token(auth.RoleProvider, "X1V03"), 404}, "the contact herself": {priya, 409}} {
		if r := h.api("POST", "/api/v1/referrals/"+id+"/handover", c.tok, ""); r.status != c.want {
			t.Errorf("handover by %s = %d, want %d: %s", name, r.status, c.want, r.body)
		}
	}
	r := h.api("POST", "/api/v1/referrals/"+id+"/handover", sam, "")
	if r.status != 200 || r.json(t)["id"] != id {
		t.Fatalf("handover to Sam = %d %s", r.status, r.body)
	}
	text, since, task := contactNote(t, h, gp, id)
	if !strings.HasPrefix(text, "Named contact: Sam Okafor (Social prescribing link worker)") || !strings.Contains(text, "Handed over to them on ") ||
		since < priyaSince || task["status"] != "accepted" {
		t.Errorf("after the handover: %q at %q, status %v", text, since, task["status"])
	}
	// Sam, now the contact, moves the referral on; Priya no longer can claim to be it.
	if r := h.api("POST", "/api/v1/referrals/"+id+"/transition", sam, `{"status":"in-progress"}`); r.status != 200 {
		t.Errorf("the new contact moves the referral: %d %s", r.status, r.body)
	}
	if logs := h.logs.String(); strings.Contains(logs, "Sam Okafor") || strings.Contains(logs, "Priya Shah") {
		t.Error("logs carry workers' names")
	}
}

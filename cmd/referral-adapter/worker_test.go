package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

// Issue 19: the link worker's side. Contact attempts before a referral is
// closed because the patient could not be reached, and the closure
// summary the practice receives. CONSENT_REQUIRED=true, as deployed.

// attemptsOf lists a referral's contact attempts as a caller: results.
func attemptsOf(t *testing.T, h *harness, token, sr string) []string {
	t.Helper()
	r := h.api("GET", "/api/v1/referrals/"+sr+"/contact-attempts", token, "")
	if r.status != http.StatusOK {
		t.Fatalf("GET contact-attempts: %d %s", r.status, r.body)
	}
	var b struct {
		Attempts []struct{ ID, Result, Channel, RecordedAt, By string }
	}
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range b.Attempts {
		out = append(out, a.Result)
	}
	return out
}

// linkWorkerCase is a referral to the link workers, claimed and accepted
// by Sam, with the patient's consent to share with the network and back to
// the practice.
func linkWorkerCase(t *testing.T, env map[string]string) (h *harness, gp, lw, sr string) {
	t.Helper()
	own := map[string]string{"CONSENT_REQUIRED": "true"}
	for k, v := range env {
		own[k] = v
	}
	h = newHarness(t, own)
	gp = h.token(auth.RolePractice, practice)
	var err error
	lw, err = auth.Mint(testSecret, auth.MintOptions{Role: auth.RoleLinkWorker, Org: "U00001", Subject: "lw-sam", TTL: time.Hour,
		Name: "Sam Okafor", Title: "Social prescribing link worker", FHIRUser: "Practitioner/lw-sam"})
	if err != nil {
		t.Fatal(err)
	}
	post(t, h, "/fhir/Consent", gp, fixture(t, "consent-share-with-link-workers.json"), http.StatusCreated)
	post(t, h, "/fhir/Consent", gp, fixture(t, "consent-share-outcomes-with-practice.json"), http.StatusCreated)
	sr = idOf(t, post(t, h, "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-general.json"), http.StatusCreated))
	if r := claimFrom(h, "riverside-link-workers", lw); r.status != http.StatusOK {
		t.Fatalf("claim: %d %s", r.status, r.body)
	}
	if r := h.api("POST", "/api/v1/referrals/"+sr+"/transition", lw, `{"status":"accepted"}`); r.status != http.StatusOK {
		t.Fatalf("accept: %d %s", r.status, r.body)
	}
	return h, gp, lw, sr
}

// Contact attempts: recorded (201) and listed oldest first by the holder;
// closing as not contactable is refused (409, saying how many more) until
// three unsuccessful attempts over seven days, a did-not-attend counting as
// one and a call that reached the patient not counting; nobody else records
// or lists them.
func TestContactAttemptsBeforeClosingForNonContact(t *testing.T) {
	h, gp, lw, sr := linkWorkerCase(t, nil)
	start := time.Now()
	at := func(d time.Duration) { h.app.queue.SetClock(func() time.Time { return start.Add(d) }) }
	path := "/api/v1/referrals/" + sr + "/contact-attempts"
	notContactable := `{"status":"failed","businessStatus":{"code":"not-contactable"},"reason":"could not reach the patient"}`
	refusal := func(want string) {
		t.Helper()
		r := h.api("POST", "/api/v1/referrals/"+sr+"/transition", lw, notContactable)
		if r.status != http.StatusConflict {
			t.Fatalf("closing as not contactable: %d %s", r.status, r.body)
		}
		if d, _ := issue(t, r)["diagnostics"].(string); !strings.Contains(d, want) {
			t.Errorf("the refusal says %q, want %q", d, want)
		}
	}

	at(0)
	refusal("0 unsuccessful attempts recorded: 3 more needed")
	r := h.api("POST", path, lw, `{"result":"no-answer","channel":"phone","note":"rang the mobile at 16:30"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("POST contact-attempts: %d %s", r.status, r.body)
	}
	var a struct{ ID, Result, Channel, Note, RecordedAt, By, Task string }
	if err := json.Unmarshal(r.body, &a); err != nil || a.ID == "" || a.Result != "no-answer" || a.Channel != "phone" ||
		a.Note != "rang the mobile at 16:30" || a.By != "Sam Okafor" || a.Task != "Task/"+sr || a.RecordedAt == "" {
		t.Errorf("the attempt: %s", r.body)
	}
	refusal("1 unsuccessful attempt recorded: 2 more needed, the last on or after " + start.Add(7*24*time.Hour).UTC().Format("2 January 2006"))

	at(2 * 24 * time.Hour)
	post(t, h, path, lw, []byte(`{"result":"left-message","channel":"sms"}`), http.StatusCreated)
	at(3 * 24 * time.Hour)
	if r := h.api("POST", "/api/v1/referrals/"+sr+"/transition", lw, `{"status":"accepted","businessStatus":{"code":"did-not-attend"}}`); r.status != http.StatusOK {
		t.Fatalf("did not attend: %d %s", r.status, r.body)
	}
	at(4 * 24 * time.Hour)
	post(t, h, path, lw, []byte(`{"result":"reached","channel":"phone","note":"will call back"}`), http.StatusCreated)
	// Three unsuccessful, but over three days.
	refusal("3 unsuccessful attempts recorded over 3 days: 1 more needed")

	// Nobody else records or lists them.
	for name, c := range map[string]struct {
		token string
		want  int
	}{
		"the practice":                        {gp, http.StatusForbidden},
		"a provider not holding the referral": {h.token(auth.RoleProvider, "X1V01"), http.StatusNotFound},
		"an admin":                            {h.token(auth.RoleAdmin, "ADMIN"), http.StatusForbidden},
	} {
		if r := h.api("POST", path, c.token, `{"result":"no-answer","channel":"phone"}`); r.status != c.want {
			t.Errorf("%s records an attempt: %d, want %d", name, r.status, c.want)
		}
		if r := h.api("GET", path, c.token, ""); r.status != c.want {
			t.Errorf("%s lists the attempts: %d, want %d", name, r.status, c.want)
		}
	}
	// Bad input: 400 naming the element, nothing recorded.
	for body, at := range map[string]string{
		`{"result":"maybe","channel":"phone"}`:           "result",
		`{"result":"no-answer","channel":"pigeon"}`:      "channel",
		`{"result":"did-not-attend","channel":"phone"}`:  "result",
		`{"result":"no-answer","channel":"phone","x":1}`: "",
		`{"channel":"phone"}`:                            "",
	} {
		r := h.api("POST", path, lw, body)
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", body, r.status, r.body)
			continue
		}
		if at != "" && !slices.Contains(anyStrings(issue(t, r)["expression"]), at) {
			t.Errorf("%s: %s", body, r.body)
		}
	}

	at(7*24*time.Hour + time.Minute)
	post(t, h, path, lw, []byte(`{"result":"wrong-number","channel":"phone"}`), http.StatusCreated)
	if got, want := attemptsOf(t, h, lw, sr), []string{"no-answer", "left-message", "did-not-attend", "reached", "wrong-number"}; !slices.Equal(got, want) {
		t.Errorf("attempts %v, want %v", got, want)
	}
	if r := h.api("POST", "/api/v1/referrals/"+sr+"/transition", lw, notContactable); r.status != http.StatusOK {
		t.Fatalf("closing after the attempts: %d %s", r.status, r.body)
	}
	if r := h.api("POST", path, lw, `{"result":"no-answer","channel":"phone"}`); r.status != http.StatusConflict {
		t.Errorf("an attempt on an ended referral: %d", r.status)
	}
}

func anyStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// A provider's decline because it could not contact the patient is a
// closure for non-contact too; its other declines are not; with
// CONTACT_ATTEMPTS_MIN=0 the rule is off.
func TestProviderDeclineForNonContactNeedsTheAttempts(t *testing.T) {
	for _, tc := range []struct {
		name, min, reason string
		want              int
	}{
		{"could not contact, no attempts", "3", "could-not-contact", http.StatusConflict},
		{"at capacity", "3", "at-capacity", http.StatusOK},
		{"could not contact, rule off", "0", "could-not-contact", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, map[string]string{"CONSENT_REQUIRED": "true", "CONTACT_ATTEMPTS_MIN": tc.min})
			gp := h.token(auth.RolePractice, practice)
			post(t, h, "/fhir/Consent", gp, fixture(t, "consent-share-with-link-workers.json"), http.StatusCreated)
			sr := idOf(t, post(t, h, "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-debt.json"), http.StatusCreated))
			ca := h.personToken(auth.RoleProvider, "X1V01", "Practitioner/ca-kim")
			if r := claimFrom(h, "money-advice", ca); r.status != http.StatusOK {
				t.Fatalf("claim: %d", r.status)
			}
			r := h.api("POST", "/api/v1/referrals/"+sr+"/transition", ca,
				`{"status":"rejected","businessStatus":{"code":"declined-by-provider"},"reason":"`+tc.reason+`"}`)
			if r.status != tc.want {
				t.Errorf("decline: %d %s, want %d", r.status, r.body, tc.want)
			}
		})
	}
}

// CONTACT_ATTEMPTS_MIN and CONTACT_ATTEMPTS_SPAN are validated at start-up.
func TestContactAttemptsConfig(t *testing.T) {
	load := func(env map[string]string) error {
		env["AUTH_DEV_HS256_SECRET"] = testSecret
		_, _, err := loadConfig(context.Background(), env)
		return err
	}
	if err := load(map[string]string{"CONTACT_ATTEMPTS_SPAN": "36h", "CONTACT_ATTEMPTS_MIN": "5"}); err != nil {
		t.Errorf("valid: %v", err)
	}
	for _, env := range []map[string]string{
		{"CONTACT_ATTEMPTS_MIN": "-1"}, {"CONTACT_ATTEMPTS_MIN": "three"}, {"CONTACT_ATTEMPTS_MIN": "21"},
		{"CONTACT_ATTEMPTS_SPAN": "a week"}, {"CONTACT_ATTEMPTS_SPAN": "100d"}, {"CONTACT_ATTEMPTS_SPAN": "-1h"},
	} {
		if err := load(env); err == nil || !strings.Contains(strings.ReplaceAll(err.Error(), "ContactAttempts", "CONTACT_ATTEMPTS"), "CONTACT_ATTEMPTS") {
			t.Errorf("%v: %v", env, err)
		}
	}
}

// closureOf finds the closure summary on a referral's thread as a caller:
// its payload texts and references, and its security labels.
type closureView struct {
	ID        string
	Texts     []string
	Refs      []string
	Security  []string
	Category  []string
	Sender    string
	Recipient string
}

func closureOf(t *testing.T, h *harness, token, sr string) (closureView, bool) {
	t.Helper()
	r := h.do("GET", "/fhir/Communication?based-on=ServiceRequest/"+sr, token, nil)
	if r.status != http.StatusOK {
		t.Fatalf("thread: %d %s", r.status, r.body)
	}
	var b struct {
		Entry []struct{ Resource json.RawMessage }
	}
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatal(err)
	}
	for _, e := range b.Entry {
		if v, ok := readClosure(t, h, e.Resource); ok {
			return v, true
		}
	}
	return closureView{}, false
}

func readClosure(t *testing.T, h *harness, body []byte) (closureView, bool) {
	t.Helper()
	var c struct {
		ID       string
		Category []struct {
			Coding []struct{ System, Code string }
		}
		Payload []struct {
			ContentString    string
			ContentReference struct{ Reference string }
		}
		Meta   struct{ Security []struct{ Code string } }
		Sender struct {
			Identifier struct{ Value string }
		}
		Recipient []struct {
			Identifier struct{ Value string }
		}
	}
	if err := json.Unmarshal(body, &c); err != nil {
		t.Fatal(err)
	}
	v := closureView{ID: c.ID, Sender: c.Sender.Identifier.Value}
	if len(c.Recipient) == 1 {
		v.Recipient = c.Recipient[0].Identifier.Value
	}
	closure := false
	for _, cat := range c.Category {
		for _, cd := range cat.Coding {
			v.Category = append(v.Category, cd.System+"|"+cd.Code)
			closure = closure || cd.Code == "closure-summary"
		}
	}
	if !closure {
		return v, false
	}
	if _, err := h.app.parser.Parse(body, "Communication"); err != nil {
		t.Errorf("the closure summary is not valid FHIR: %v\n%s", err, body)
	}
	for _, p := range c.Payload {
		if p.ContentString != "" {
			v.Texts = append(v.Texts, p.ContentString)
		}
		if p.ContentReference.Reference != "" {
			v.Refs = append(v.Refs, p.ContentReference.Reference)
		}
	}
	for _, s := range c.Meta.Security {
		v.Security = append(v.Security, s.Code)
	}
	return v, true
}

// The closure summary: when a referral held by a VCSE provider is
// completed, the practice receives a Communication on the referral's
// thread, category closure-summary: why and when it ended, who held it, the
// contact attempts; the outcome and summary the patient approved, and not
// the outcome they did not; announced to its Subscriptions. The provider
// reads it whole; another practice and another provider get nothing.
func TestClosureSummaryOmitsTheUnapprovedOutcome(t *testing.T) {
	h := newHarness(t, map[string]string{"CONSENT_REQUIRED": "true", "SUBSCRIPTION_ALLOW_HTTP": "true"})
	gp := h.token(auth.RolePractice, practice)
	post(t, h, "/fhir/Consent", gp, fixture(t, "consent-share-with-link-workers.json"), http.StatusCreated)
	post(t, h, "/fhir/Consent", gp, fixture(t, "consent-share-outcomes-with-practice.json"), http.StatusCreated)
	sr := idOf(t, post(t, h, "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-debt.json"), http.StatusCreated))
	rc := newEHR(t, 200)
	post(t, h, "/fhir/Subscription", gp, subscriptionBody(rc.srv.URL), http.StatusCreated)

	ca, err := auth.Mint(testSecret, auth.MintOptions{Role: auth.RoleProvider, Org: "X1V01", Subject: "ca-kim", TTL: time.Hour,
		Name: "Kim Patel", Title: "Debt adviser", FHIRUser: "Practitioner/ca-kim"})
	if err != nil {
		t.Fatal(err)
	}
	if r := claimFrom(h, "money-advice", ca); r.status != http.StatusOK {
		t.Fatalf("claim: %d", r.status)
	}
	h.api("POST", "/api/v1/referrals/"+sr+"/transition", ca, `{"status":"accepted"}`)
	post(t, h, "/api/v1/referrals/"+sr+"/contact-attempts", ca, []byte(`{"result":"no-answer","channel":"phone"}`), http.StatusCreated)
	post(t, h, "/api/v1/referrals/"+sr+"/contact-attempts", ca, []byte(`{"result":"reached","channel":"phone"}`), http.StatusCreated)
	approved := idOf(t, post(t, h, "/api/v1/referrals/"+sr+"/outcomes", ca, []byte(outcomeBody(t, "observation-swemwbs.json", true)), http.StatusCreated))
	withheld := idOf(t, post(t, h, "/api/v1/referrals/"+sr+"/outcomes", ca, []byte(outcomeBody(t, "goal-money-plan.json", false)), http.StatusCreated))
	h.poll(t)
	before := len(rc.events())

	// A summary must say whether the patient approved sharing it.
	if r := h.api("POST", "/api/v1/referrals/"+sr+"/transition", ca, `{"status":"completed","summary":"x"}`); r.status != http.StatusBadRequest {
		t.Errorf("a summary without the patient's approval: %d %s", r.status, r.body)
	}
	if r := h.api("POST", "/api/v1/referrals/"+sr+"/transition", ca,
		`{"status":"completed","summary":"Debt plan agreed; creditors contacted.","patientApprovedSharing":true}`); r.status != http.StatusOK {
		t.Fatalf("complete: %d %s", r.status, r.body)
	}

	// Sent again (a retry after an error or no answer): 200, the Task as it
	// stands, and still one closure summary.
	if r := h.api("POST", "/api/v1/referrals/"+sr+"/transition", ca,
		`{"status":"completed","summary":"Debt plan agreed; creditors contacted.","patientApprovedSharing":true}`); r.status != http.StatusOK {
		t.Errorf("the close sent again: %d %s", r.status, r.body)
	}
	if n := bytes.Count(h.do("GET", "/fhir/Communication?based-on=ServiceRequest/"+sr, gp, nil).body, []byte(`"code":"closure-summary"`)); n != 1 {
		t.Errorf("%d closure summaries on the thread, want 1", n)
	}
	v, ok := closureOf(t, h, gp, sr)
	if !ok {
		t.Fatal("the practice has no closure summary on the thread")
	}
	if !slices.Contains(v.Category, "https://social-prescribing.github.io/referral-adapter/CodeSystem/communication-category|closure-summary") ||
		v.Sender != "X1V01" || v.Recipient != practice {
		t.Errorf("closure summary: %+v", v)
	}
	if len(v.Texts) != 2 || !strings.Contains(v.Texts[0], "ended on ") || !strings.Contains(v.Texts[0], "completed") ||
		!strings.Contains(v.Texts[0], "Held by Riverside Citizens Advice - debt and benefits; named contact Kim Patel (Debt adviser)") ||
		!strings.Contains(v.Texts[0], "Contact attempts: 2, of which 1 unsuccessful") || v.Texts[1] != "Debt plan agreed; creditors contacted." {
		t.Errorf("the practice reads %q", v.Texts)
	}
	if !slices.Equal(v.Refs, []string{"Observation/" + approved}) || !slices.Contains(v.Security, "REDACTED") {
		t.Errorf("the practice's outcomes %v (security %v), want only the approved Observation/%s", v.Refs, v.Security, approved)
	}
	// By its URL the same; the approved outcome reads, the other does not.
	one := h.do("GET", "/fhir/Communication/"+v.ID, gp, nil)
	if w, _ := readClosure(t, h, one.body); one.status != http.StatusOK || !slices.Equal(w.Refs, v.Refs) || len(w.Texts) != 2 {
		t.Errorf("GET Communication/%s: %d %s", v.ID, one.status, one.body)
	}
	if r := h.do("GET", "/fhir/Observation/"+approved, gp, nil); r.status != http.StatusOK {
		t.Errorf("the approved outcome: %d", r.status)
	}
	if r := h.do("GET", "/fhir/Goal/"+withheld, gp, nil); r.status != http.StatusNotFound {
		t.Errorf("the unapproved outcome: %d", r.status)
	}
	// The provider that held it reads it whole.
	if w, ok := closureOf(t, h, ca, sr); !ok || !slices.Equal(w.Refs, []string{"Observation/" + approved, "Goal/" + withheld}) || slices.Contains(w.Security, "REDACTED") {
		t.Errorf("the provider's closure summary: %+v", w)
	}
	// Nobody else.
	for name, tok := range map[string]string{"another practice": h.token(auth.RolePractice, otherPractice),
		"another provider": h.personToken(auth.RoleProvider, "X1V02", "Practitioner/h-1")} {
		if r := h.do("GET", "/fhir/Communication/"+v.ID, tok, nil); r.status != http.StatusNotFound {
			t.Errorf("%s reads the closure summary: %d", name, r.status)
		}
	}
	// Announced: the Task's change and the summary, id-only.
	h.poll(t)
	evs := rc.events()
	if len(evs) < before+2 {
		t.Fatalf("%d new notifications, want the ending and the summary", len(evs)-before)
	}
	for _, e := range evs[before:] {
		if !strings.Contains(e, `"Task/`+sr+`"`) || strings.Contains(e, "Debt plan") {
			t.Errorf("notification %s", e)
		}
	}
}

// Without the patient's approval of the summary, or when their consent
// does not cover the practice, the practice still learns why and when the
// referral ended, but neither the summary nor any outcome; the link
// worker's own summary of its own referral. A practice's cancellation
// also closes with a summary.
func TestClosureSummaryWithoutApprovalOrConsent(t *testing.T) {
	t.Run("summary not approved", func(t *testing.T) {
		h, gp, lw, sr := linkWorkerCase(t, nil)
		post(t, h, "/api/v1/referrals/"+sr+"/outcomes", lw, []byte(outcomeBody(t, "observation-swemwbs.json", true)), http.StatusCreated)
		if r := h.api("POST", "/api/v1/referrals/"+sr+"/transition", lw,
			`{"status":"cancelled","businessStatus":{"code":"declined-by-patient"},"summary":"Private words.","patientApprovedSharing":false}`); r.status != http.StatusOK {
			t.Fatalf("decline: %d %s", r.status, r.body)
		}
		v, ok := closureOf(t, h, gp, sr)
		if !ok || len(v.Texts) != 1 || !strings.Contains(v.Texts[0], "cancelled (Declined by patient): The patient chose not to go ahead") ||
			!strings.Contains(v.Texts[0], "Contact attempts: 0.") || len(v.Refs) != 1 || !slices.Contains(v.Security, "REDACTED") {
			t.Errorf("the practice reads %+v", v)
		}
		if w, _ := closureOf(t, h, lw, sr); len(w.Texts) != 2 || w.Texts[1] != "Private words." {
			t.Errorf("the link worker reads %+v", w)
		}
	})
	t.Run("no consent to share with the practice", func(t *testing.T) {
		h := consentHarness(t)
		gp := h.token(auth.RolePractice, practice)
		post(t, h, "/fhir/Consent", gp, fixture(t, "consent-share-with-link-workers.json"), http.StatusCreated)
		sr := idOf(t, post(t, h, "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-general.json"), http.StatusCreated))
		lw := h.personToken(auth.RoleLinkWorker, "U00001", "Practitioner/lw-sam")
		claimFrom(h, "riverside-link-workers", lw)
		h.api("POST", "/api/v1/referrals/"+sr+"/transition", lw, `{"status":"accepted"}`)
		post(t, h, "/api/v1/referrals/"+sr+"/outcomes", lw, []byte(outcomeBody(t, "observation-swemwbs.json", true)), http.StatusCreated)
		if r := h.api("POST", "/api/v1/referrals/"+sr+"/transition", lw,
			`{"status":"completed","summary":"Went well.","patientApprovedSharing":true}`); r.status != http.StatusOK {
			t.Fatalf("complete: %d %s", r.status, r.body)
		}
		v, ok := closureOf(t, h, gp, sr)
		if !ok || len(v.Texts) != 1 || len(v.Refs) != 0 || !strings.Contains(v.Texts[0], "completed") {
			t.Errorf("the practice reads %+v", v)
		}
	})
	t.Run("cancelled by the practice", func(t *testing.T) {
		h, gp, _, sr := linkWorkerCase(t, nil)
		if r := h.api("POST", "/api/v1/referrals/"+sr+"/transition", gp, `{"status":"cancelled","reason":"patient moved away"}`); r.status != http.StatusOK {
			t.Fatalf("cancel: %d %s", r.status, r.body)
		}
		if v, ok := closureOf(t, h, gp, sr); !ok || !strings.Contains(v.Texts[0], "cancelled: patient moved away") ||
			!strings.Contains(v.Texts[0], "Held by Riverside Social Prescribing Link Workers; named contact Sam Okafor") {
			t.Errorf("the practice reads %+v", v)
		}
		// The same cancel sent again (its answer lost): 200, the Task as
		// it is, nothing changed.
		before := h.do("GET", "/fhir/Task/"+sr, gp, nil)
		again := h.api("POST", "/api/v1/referrals/"+sr+"/transition", gp, `{"status":"cancelled","reason":"patient moved away"}`)
		if after := h.do("GET", "/fhir/Task/"+sr, gp, nil); again.status != http.StatusOK || after.header.Get("ETag") != before.header.Get("ETag") {
			t.Errorf("the cancel sent again: %d %s; version %s, was %s", again.status, again.body, after.header.Get("ETag"), before.header.Get("ETag"))
		}
		if r := h.api("POST", "/api/v1/referrals/"+sr+"/transition", gp, `{"status":"cancelled","reason":"x","summary":"y","patientApprovedSharing":true}`); r.status == http.StatusOK {
			t.Error("a practice wrote a closure summary")
		}
	})
	t.Run("a summary only when the referral ends", func(t *testing.T) {
		h, _, lw, sr := linkWorkerCase(t, nil)
		r := h.api("POST", "/api/v1/referrals/"+sr+"/transition", lw, `{"status":"in-progress","summary":"early","patientApprovedSharing":true}`)
		if r.status != http.StatusUnprocessableEntity {
			t.Errorf("a summary on a transition that does not end the referral: %d %s", r.status, r.body)
		}
	})
}

// Contact attempts count in the commissioners' report: attempts, the
// referrals with attempts, attempts per referral, and the time to the
// first successful contact, anonymous and suppressed below 5.
func TestContactAttemptsInTheReport(t *testing.T) {
	h := newHarness(t, nil)
	gp := h.token(auth.RolePractice, practice)
	lw := h.token(auth.RoleLinkWorker, "U00001")
	for i := range 5 {
		sr := withJSON(t, fixture(t, "servicerequest-general.json"), map[string]any{
			"identifier": []any{map[string]any{"system": referralSys, "value": "CA-" + string(rune('a'+i))}},
			"subject":    map[string]any{"type": "Patient", "identifier": map[string]any{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": adapter.SyntheticNHSNumber(300 + i)}}})
		post(t, h, "/fhir/ServiceRequest", gp, sr, http.StatusCreated)
	}
	for i := range 5 {
		r := claimFrom(h, "riverside-link-workers", lw)
		if r.status != http.StatusOK {
			t.Fatalf("claim %d: %d", i, r.status)
		}
		id := r.json(t)["task"].(map[string]any)["id"].(string)
		for _, res := range []string{"no-answer", "left-message", "reached"} {
			post(t, h, "/api/v1/referrals/"+id+"/contact-attempts", lw, []byte(`{"result":"`+res+`","channel":"phone"}`), http.StatusCreated)
		}
	}
	r := h.do("GET", "/api/v1/reports/capacity", h.token(auth.RoleAdmin, "ADMIN"), nil)
	var rep struct {
		Services []struct {
			Service         string
			ContactAttempts struct {
				Attempts, ReferralsWithAttempts json.RawMessage
				PerReferral                     float64
				Time                            struct{ Median string } `json:"timeToFirstSuccessfulContactHours"`
			}
		}
	}
	if err := json.Unmarshal(r.body, &rep); err != nil || r.status != http.StatusOK {
		t.Fatalf("report: %d %s", r.status, r.body)
	}
	for _, s := range rep.Services {
		c := s.ContactAttempts
		if s.Service == "riverside-link-workers" {
			if string(c.Attempts) != "15" || string(c.ReferralsWithAttempts) != "5" || c.PerReferral != 3 || c.Time.Median != "<=1" {
				t.Errorf("the link workers' contact attempts: %+v", c)
			}
		} else if string(c.Attempts) != "0" {
			t.Errorf("%s: %+v", s.Service, c)
		}
	}
	if strings.Contains(string(r.body), "9000000") {
		t.Error("the report names a patient")
	}
}

// An onward referral ending does not end the referral: no summary goes
// with it (422) and none is sent; when the link worker closes the referral
// its summary names the provider's approved outcome too.
func TestClosureSummaryAfterAnOnwardReferral(t *testing.T) {
	h, gp, lw, sr := linkWorkerCase(t, nil)
	r := h.api("POST", "/api/v1/referrals/"+sr+"/refer-on", lw, `{"service":"money-advice","reason":"debt"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("refer-on: %d %s", r.status, r.body)
	}
	child := idOf(t, r)
	ca := h.personToken(auth.RoleProvider, "X1V01", "Practitioner/ca-kim")
	if r := claimFrom(h, "money-advice", ca); r.status != http.StatusOK {
		t.Fatalf("claim: %d %s", r.status, r.body)
	}
	h.api("POST", "/api/v1/referrals/"+child+"/transition", ca, `{"status":"accepted"}`)
	obs := idOf(t, post(t, h, "/api/v1/referrals/"+child+"/outcomes", ca, []byte(outcomeBody(t, "observation-swemwbs.json", true)), http.StatusCreated))
	if r := h.api("POST", "/api/v1/referrals/"+child+"/transition", ca, `{"status":"completed","summary":"done","patientApprovedSharing":true}`); r.status != http.StatusUnprocessableEntity {
		t.Errorf("a summary on the onward referral: %d %s", r.status, r.body)
	}
	if r := h.api("POST", "/api/v1/referrals/"+child+"/transition", ca, `{"status":"completed"}`); r.status != http.StatusOK {
		t.Fatalf("the provider completes: %d %s", r.status, r.body)
	}
	if _, ok := closureOf(t, h, gp, sr); ok {
		t.Fatal("a closure summary while the referral goes on")
	}
	if r := h.api("POST", "/api/v1/referrals/"+sr+"/transition", lw, `{"status":"completed"}`); r.status != http.StatusOK {
		t.Fatalf("the link worker completes: %d %s", r.status, r.body)
	}
	v, ok := closureOf(t, h, gp, sr)
	if !ok || !slices.Equal(v.Refs, []string{"Observation/" + obs}) || v.Sender != "U00001" ||
		!strings.Contains(v.Texts[0], "Held by Riverside Social Prescribing Link Workers") {
		t.Errorf("the practice reads %+v", v)
	}
}

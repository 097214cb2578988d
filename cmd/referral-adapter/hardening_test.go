package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

// Hardening (issue 21), over HTTP.

// A physician associate's referral is counted as another clinician's, not
// a GP's: the whole title is matched before its words.
func TestPhysicianAssociateIsOtherClinician(t *testing.T) {
	h := newHarness(t, nil)
	pa := staff(t, practice, "pa@A81001", "Physician associate")
	if r := h.do("POST", "/fhir/ServiceRequest", pa, fixture(t, "servicerequest-crisis.json")); r.status != 201 {
		t.Fatalf("referral = %d %s", r.status, r.body)
	}
	pr := h.do("GET", "/api/v1/reports/practice", pa, nil).json(t)
	byRole := map[string]any{}
	for _, r := range pr["safetyScreensByReferrerRole"].([]any) {
		m := r.(map[string]any)
		byRole[m["referrerRole"].(string)] = m["clinicalRedirect"]
	}
	if _, ok := byRole["other-clinician"]; !ok || len(byRole) != 1 {
		t.Errorf("referrer roles %v, want the physician associate's as other-clinician only", fmt.Sprint(byRole))
	}
}

// signRaw signs a claims set written out by hand with the test secret, so a
// test can send what a JWT library would not produce (a string exp).
func signRaw(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	signing := enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc([]byte(payload))
	m := hmac.New(sha256.New, []byte(testSecret))
	m.Write([]byte(signing))
	return signing + "." + enc(m.Sum(nil))
}

// Tokens are strict: numeric exp, iat and nbf; iat not in the future; a
// lifetime no longer than AUTH_MAX_TOKEN_LIFETIME; no empty area.
func TestStrictTokens(t *testing.T) {
	h := newHarness(t, map[string]string{"AUTH_MAX_TOKEN_LIFETIME": "12h"})
	now := time.Now()
	mint := func(mut func(c *auth.Claims)) string {
		c := auth.Claims{RegisteredClaims: jwt.RegisteredClaims{Issuer: auth.DevIssuer, Subject: "dr.a@A81001",
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))},
			Role: "practice", Org: practice, Scope: "system/HealthcareService.rs system/Task.rs"}
		mut(&c)
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(testSecret))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	if r := h.do("GET", "/fhir/HealthcareService", mint(func(*auth.Claims) {}), nil); r.status != 200 {
		t.Fatalf("a good token = %d %s", r.status, r.body)
	}
	commissioner := func(areas ...string) string {
		return mint(func(c *auth.Claims) {
			c.Role, c.Org, c.Scope, c.Areas = "commissioner", "QWO", "system/MeasureReport.rs system/HealthcareService.rs", areas
		})
	}
	if r := h.do("GET", "/api/v1/reports/capacity", commissioner("LS6"), nil); r.status != 200 {
		t.Fatalf("a commissioner's report = %d %s", r.status, r.body)
	}
	for name, tok := range map[string]string{
		"exp as a string": signRaw(fmt.Sprintf(`{"iss":"referral-adapter-dev","sub":"x","role":"practice","org":"A81001","scope":"system/HealthcareService.rs","exp":"%d"}`,
			now.Add(time.Hour).Unix())),
		"iat in the future": mint(func(c *auth.Claims) { c.IssuedAt = jwt.NewNumericDate(now.Add(10 * time.Minute)) }),
		"300 years":         mint(func(c *auth.Claims) { c.ExpiresAt = jwt.NewNumericDate(now.AddDate(300, 0, 0)) }),
		"13 hours, no iat":  mint(func(c *auth.Claims) { c.IssuedAt, c.ExpiresAt = nil, jwt.NewNumericDate(now.Add(13*time.Hour)) }),
		"an empty area":     commissioner("LS6", ""),
	} {
		path := "/fhir/HealthcareService"
		if name == "an empty area" {
			path = "/api/v1/reports/capacity?area="
		}
		r := h.do("GET", path, tok, nil)
		if r.status != 401 {
			t.Errorf("%s: = %d, want 401: %.200s", name, r.status, r.body)
			continue
		}
		if is := issue(t, r); is["code"] != "login" {
			t.Errorf("%s: issue %v", name, is)
		}
	}
}

// claimed posts a referral and has the link workers claim and accept it;
// it returns the referral's id and the link worker's token.
func claimed(t *testing.T, h *harness) (id, lw string) {
	t.Helper()
	gp := h.token(auth.RolePractice, practice)
	lw = h.token(auth.RoleLinkWorker, "U00001")
	r := h.do("POST", "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-general.json"))
	if r.status != 201 {
		t.Fatalf("referral = %d %s", r.status, r.body)
	}
	id = r.json(t)["id"].(string)
	if r := h.api("POST", "/api/v1/queues/riverside-link-workers/claim", lw, ""); r.status != 200 {
		t.Fatalf("claim = %d %s", r.status, r.body)
	}
	if r := h.api("POST", "/api/v1/referrals/"+id+"/transition", lw, `{"status":"accepted"}`); r.status != 200 {
		t.Fatalf("accept = %d %s", r.status, r.body)
	}
	return id, lw
}

// The JSON API reads bodies as strictly as FHIR ones: a duplicated member
// (the last would win), a member in another case and trailing data are
// 400, naming the member and never echoing a value; nothing changes.
func TestJSONAPIBodiesAreStrict(t *testing.T) {
	h := newHarness(t, nil)
	id, lw := claimed(t, h)
	admin := h.token(auth.RoleAdmin, "U00001")
	cases := []struct {
		name, method, path, body string
		code, expr               string
	}{
		{"duplicate status", "POST", "/api/v1/referrals/" + id + "/transition", `{"status":"in-progress","status":"completed"}`, "structure", "status"},
		{"duplicate nested code", "POST", "/api/v1/referrals/" + id + "/transition",
			`{"status":"in-progress","businessStatus":{"code":"contacted","code":"support-started"}}`, "structure", "businessStatus.code"},
		{"status in another case", "POST", "/api/v1/referrals/" + id + "/transition", `{"status":"in-progress","Status":"completed"}`, "structure", "Status"},
		{"duplicate refer-on service", "POST", "/api/v1/referrals/" + id + "/refer-on", `{"service":"befriending","service":"money-advice"}`, "structure", "service"},
		{"duplicate capacity status", "PUT", "/api/v1/services/befriending/capacity", `{"status":"open","maxOpen":5,"status":"closed"}`, "structure", "status"},
		{"data after the body", "POST", "/api/v1/referrals/" + id + "/transition", `{"status":"in-progress"} {"status":"completed"}`, "structure", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok := lw
			if c.method == "PUT" {
				tok = admin
			}
			r := h.api(c.method, c.path, tok, c.body)
			if r.status != 400 {
				t.Fatalf("= %d, want 400: %s", r.status, r.body)
			}
			is := issue(t, r)
			if is["code"] != c.code {
				t.Errorf("issue %v, want %s", is, c.code)
			}
			if ex, _ := is["expression"].([]any); c.expr != "" && (len(ex) == 0 || ex[0] != c.expr) {
				t.Errorf("expression %v, want %s", is["expression"], c.expr)
			}
			for _, v := range []string{"completed", "money-advice", "closed", "support-started"} {
				if strings.Contains(string(r.body), v) {
					t.Errorf("the answer echoes the value %q: %s", v, r.body)
				}
			}
		})
	}
	if task := h.do("GET", "/fhir/Task/"+id, lw, nil).json(t); task["status"] != "accepted" {
		t.Errorf("a refused body moved the referral to %v", task["status"])
	}
	if c := h.do("GET", "/api/v1/services/befriending/capacity", admin, nil).json(t); c["status"] != "open" {
		t.Errorf("a refused body changed the capacity to %v", c["status"])
	}
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A body is never stored still encoded: gzip is decoded (and bounded by
// MAX_BODY_BYTES once decoded), any other Content-Encoding is 415.
func TestContentEncoding(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.token(auth.RolePractice, practice)
	before := h.dataKeys()
	sr := fixture(t, "servicerequest-debt.json")
	for _, enc := range []string{"br", "deflate", "zstd", "gzip, br", "gzip, gzip", "compress"} {
		r := h.do("POST", "/fhir/ServiceRequest", tok, sr, "Content-Encoding", enc)
		if r.status != 415 {
			t.Errorf("%s: = %d, want 415: %.200s", enc, r.status, r.body)
			continue
		}
		if is := issue(t, r); is["code"] != "not-supported" {
			t.Errorf("%s: issue %v", enc, is)
		}
	}
	admin := h.token(auth.RoleAdmin, "U00001")
	r := h.do("PUT", "/api/v1/services/befriending/capacity", admin, []byte(`{"status":"closed","maxOpen":1}`),
		"Content-Type", "application/json", "Content-Encoding", "br")
	if r.status != 415 {
		t.Errorf("JSON API, br = %d", r.status)
	}
	if c := h.do("GET", "/api/v1/services/befriending/capacity", admin, nil).json(t); c["status"] != "open" {
		t.Errorf("a body refused for its encoding changed the capacity: %v", c["status"])
	}
	// A plain body labelled gzip is not gzip: 400, nothing stored.
	if r := h.do("POST", "/fhir/ServiceRequest", tok, sr, "Content-Encoding", "gzip"); r.status != 400 {
		t.Errorf("plain body labelled gzip = %d %.200s", r.status, r.body)
	}
	if got := h.dataKeys(); !slices.Equal(got, before) {
		t.Errorf("refused encodings stored something: %v", got)
	}
	// Real gzip is decoded and stored as JSON.
	r = h.do("POST", "/fhir/ServiceRequest", tok, gzipped(t, sr), "Content-Encoding", "gzip")
	if r.status != 201 {
		t.Fatalf("gzip = %d %s", r.status, r.body)
	}
	id := r.json(t)["id"].(string)
	if got := h.do("GET", "/fhir/ServiceRequest/"+id, tok, nil).json(t); got["resourceType"] != "ServiceRequest" {
		t.Errorf("stored %v", got)
	}
	// Decoded, a small gzip body may be far over MAX_BODY_BYTES: 413.
	bomb := withJSON(t, sr, map[string]any{"identifier": []any{map[string]any{"system": referralSys, "value": "bomb"}}})
	bomb = append(bomb[:len(bomb)-1], []byte(`,"note":[{"text":"`+strings.Repeat("a", 2<<20)+`"}]}`)...)
	z := gzipped(t, bomb)
	if len(z) > 64<<10 {
		t.Fatalf("the test's gzip body is %d bytes", len(z))
	}
	r = h.do("POST", "/fhir/ServiceRequest", tok, z, "Content-Encoding", "gzip")
	if r.status != 413 {
		t.Fatalf("2 MiB decoded from %d bytes = %d %.200s", len(z), r.status, r.body)
	}
	if is := issue(t, r); is["code"] != "too-long" {
		t.Errorf("issue %v", is)
	}
}

// Free text on the JSON API is bounded: a reason of more than 1,000
// characters is 400 naming the member, and nothing is stored.
func TestJSONAPIFreeTextIsBounded(t *testing.T) {
	h := newHarness(t, nil)
	id, lw := claimed(t, h)
	huge := strings.Repeat("é", 900_000/2) // 900 kB of text
	cases := []struct {
		name, path, body, expr string
	}{
		{"refer-on reason of 900 kB", "/refer-on", `{"service":"befriending","reason":"` + huge + `"}`, "reason"},
		{"refer-on reason of 1,001 characters", "/refer-on", `{"service":"befriending","reason":"` + strings.Repeat("x", 1001) + `"}`, "reason"},
		{"refer-on service of 65 characters", "/refer-on", `{"service":"` + strings.Repeat("s", 65) + `"}`, "service"},
		{"transition reason of 1,001 characters", "/transition", `{"status":"in-progress","reason":"` + strings.Repeat("x", 1001) + `"}`, "reason"},
		{"transition code of 65 characters", "/transition", `{"status":"in-progress","businessStatus":{"code":"` + strings.Repeat("c", 65) + `"}}`, "businessStatus.code"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.api("POST", "/api/v1/referrals/"+id+c.path, lw, c.body)
			if r.status != 400 {
				t.Fatalf("= %d, want 400: %.300s", r.status, r.body)
			}
			is := issue(t, r)
			if ex, _ := is["expression"].([]any); is["code"] != "value" || len(ex) != 1 || ex[0] != c.expr {
				t.Errorf("issue %v, want value at %s", is, c.expr)
			}
			if len(r.body) > 1000 {
				t.Errorf("the answer echoes the text: %d bytes", len(r.body))
			}
		})
	}
	task := h.do("GET", "/fhir/Task/"+id, lw, nil).json(t)
	if task["status"] != "accepted" {
		t.Errorf("a refused body changed the Task: %v", task["status"])
	}
	// At the limit it goes through.
	if r := h.api("POST", "/api/v1/referrals/"+id+"/transition", lw, `{"status":"in-progress","reason":"`+strings.Repeat("é", 1000)+`"}`); r.status != 200 {
		t.Errorf("a reason of 1,000 characters = %d %.300s", r.status, r.body)
	}
}

// A practice's referral names the practice, or a person of it, as
// requester: another practice (by ODS identifier, conditional reference,
// contained Organization or a contained PractitionerRole's organization)
// or an Organization not named by ODS code is 422, and nothing is stored.
// People, the patient and a relative (self-referral) are accepted as
// before.
func TestRequesterMustBeThePractice(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.token(auth.RolePractice, practice)
	base := fixture(t, "servicerequest-debt.json")
	ods := func(v string) map[string]any {
		return map[string]any{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": v}
	}
	n := 0
	body := func(requester any, contained ...any) []byte {
		n++
		set := map[string]any{"requester": requester,
			"identifier": []any{map[string]any{"system": referralSys, "value": fmt.Sprintf("REQ-%d", n)}}}
		if len(contained) > 0 {
			set["contained"] = contained
		}
		return withJSON(t, base, set)
	}
	before := h.dataKeys()
	refused := map[string][]byte{
		"another practice by ODS identifier": body(map[string]any{"type": "Organization", "identifier": ods(otherPractice)}),
		"another practice, identifier only":  body(map[string]any{"identifier": ods(otherPractice)}),
		"another practice by conditional reference": body(map[string]any{
			"reference": "Organization?identifier=https://fhir.nhs.uk/Id/ods-organization-code|" + otherPractice}),
		"a contained Organization of another practice": body(map[string]any{"reference": "#org"},
			map[string]any{"resourceType": "Organization", "id": "org", "identifier": []any{ods(otherPractice)}}),
		"a contained PractitionerRole of another practice": body(map[string]any{"reference": "#role"},
			map[string]any{"resourceType": "PractitionerRole", "id": "role", "organization": map[string]any{"identifier": ods(otherPractice)}}),
		"a contained PractitionerRole of a contained other practice": body(map[string]any{"reference": "#role"},
			map[string]any{"resourceType": "PractitionerRole", "id": "role", "organization": map[string]any{"reference": "#org"}},
			map[string]any{"resourceType": "Organization", "id": "org", "identifier": []any{ods(otherPractice)}}),
		"an Organization not named by ODS code": body(map[string]any{"reference": "Organization/some-agency"}),
	}
	for name, b := range refused {
		r := h.do("POST", "/fhir/ServiceRequest", tok, b)
		if r.status != 422 {
			t.Errorf("%s: = %d, want 422: %.300s", name, r.status, r.body)
			continue
		}
		if is := issue(t, r); is["code"] != "business-rule" || fmt.Sprint(is["expression"]) != "[ServiceRequest.requester]" {
			t.Errorf("%s: issue %v", name, is)
		}
	}
	// In a transaction, the entry is named.
	tx := withJSON(t, fixture(t, "bundle-referral-transaction.json"), nil)
	var bundle map[string]any
	_ = json.Unmarshal(tx, &bundle)
	for _, e := range bundle["entry"].([]any) {
		if res := e.(map[string]any)["resource"].(map[string]any); res["resourceType"] == "ServiceRequest" {
			res["requester"] = map[string]any{"type": "Organization", "identifier": ods(otherPractice)}
		}
	}
	tx, _ = json.Marshal(bundle)
	if r := h.do("POST", "/fhir", tok, tx); r.status != 422 || !strings.Contains(string(r.body), ".resource.requester") {
		t.Errorf("transaction naming another practice = %d %.300s", r.status, r.body)
	}
	if got := h.dataKeys(); !slices.Equal(got, before) {
		t.Errorf("refused referrals stored something: %d keys, were %d", len(got), len(before))
	}

	accepted := map[string][]byte{
		"the practice by ODS identifier": body(map[string]any{"type": "Organization", "identifier": ods(practice)}),
		"no requester":                   body(nil),
		"a PractitionerRole":             body(map[string]any{"reference": "PractitionerRole/dr-a"}),
		"a Practitioner":                 body(map[string]any{"reference": "Practitioner/dr-a"}),
		"the patient (self-referral)":    body(map[string]any{"reference": "Patient/self"}),
		"a relative (self-referral)":     body(map[string]any{"reference": "RelatedPerson/mum"}),
		"a contained role of the practice": body(map[string]any{"reference": "#role"},
			map[string]any{"resourceType": "PractitionerRole", "id": "role", "organization": map[string]any{"identifier": ods(practice)}}),
	}
	for name, b := range accepted {
		if r := h.do("POST", "/fhir/ServiceRequest", tok, b); r.status != 201 {
			t.Errorf("%s: = %d, want 201: %.300s", name, r.status, r.body)
		}
	}
}

// At start-up every configuration problem is reported at once, each by its
// environment variable (never a Go field name or the value).
func TestConfigNamesEveryBadVariable(t *testing.T) {
	t.Setenv("AUTH_DEV_HS256_SECRET", testSecret)
	t.Setenv("REQUEST_TIMEOUT", "abc")
	t.Setenv("RATE_LIMIT_PER_MINUTE", "lots")
	t.Setenv("NOTIFY_DISPATCH", "perhaps")
	t.Setenv("MAX_BODY_BYTES", "10") // parses, fails its own check
	var out, errOut strings.Builder
	err := realMain(context.Background(), []string{"serve"}, &out, &errOut)
	if err == nil {
		t.Fatal("started with a bad configuration")
	}
	msg := err.Error()
	for _, want := range []string{"REQUEST_TIMEOUT: not a duration", "RATE_LIMIT_PER_MINUTE: not a whole number",
		"NOTIFY_DISPATCH: not a boolean", "MAX_BODY_BYTES must be at least 1024"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error lacks %q:\n%s", want, msg)
		}
	}
	for _, leak := range []string{"RequestTimeout", "RateLimit", "HTTP:", "abc", "lots", "perhaps"} {
		if strings.Contains(msg, leak) {
			t.Errorf("the error mentions %q:\n%s", leak, msg)
		}
	}
}

// A variable that looks like one of ours but is not refuses start-up,
// naming the closest known one, so a typo never leaves the service on its
// in-memory store; unrelated variables do not.
func TestConfigRefusesTyposOfOurVariables(t *testing.T) {
	base := map[string]string{"AUTH_DEV_HS256_SECRET": testSecret,
		// The environment of a pod, a shell and Go, none of them ours.
		"PATH": "/usr/bin", "HOME": "/home/sp", "GOMEMLIMIT": "460MiB", "GOGC": "100",
		"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_PORT_443_TCP": "tcp://10.0.0.1:443",
		"REDIS_PORT": "tcp://10.0.0.9:6379", "REDIS_SERVICE_HOST": "10.0.0.9", "REDIS_PORT_6379_TCP_ADDR": "10.0.0.9"}
	if _, _, err := loadConfig(context.Background(), base); err != nil {
		t.Fatalf("unrelated variables refused: %v", err)
	}
	env := maps.Clone(base)
	env["REDIS_URLL"] = "redis://10.0.0.9:6379/0"
	env["AUTH_JWKS_FIEL"] = "/etc/sp/jwks.json"
	env["log_level"] = "debug"
	_, _, err := loadConfig(context.Background(), env)
	if err == nil {
		t.Fatal("started with REDIS_URLL (on the in-memory store)")
	}
	for _, want := range []string{"REDIS_URLL is not a setting of this service: did you mean REDIS_URL?",
		"AUTH_JWKS_FIEL is not a setting of this service: did you mean AUTH_JWKS_FILE?", "log_level is not read (names are upper case): did you mean LOG_LEVEL?"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "10.0.0.9") || strings.Contains(err.Error(), "jwks.json") {
		t.Errorf("the error quotes a value: %v", err)
	}
}

// jobs list prints the table from the code and JOB_SCHEDULES alone: no
// token configuration, no store.
func TestJobsListNeedsNoAuthOrStore(t *testing.T) {
	for _, k := range []string{"AUTH_DEV_HS256_SECRET", "AUTH_JWKS_FILE", "AUTH_JWKS_URL", "AUTH_CLIENTS_FILE"} {
		t.Setenv(k, "")
	}
	t.Setenv("REDIS_URL", "redis://127.0.0.1:1/0") // nothing listens there
	t.Setenv("JOB_SCHEDULES", "daily-snapshot=50 23 * * *")
	var out, errOut strings.Builder
	if err := realMain(context.Background(), []string{"jobs", "list"}, &out, &errOut); err != nil {
		t.Fatalf("jobs list: %v", err)
	}
	for _, want := range []string{"NAME", "lease-sweep", "retention-purge", "notification-retry", "50 23 * * *"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("jobs list lacks %q:\n%s", want, out.String())
		}
	}
	t.Setenv("JOB_SCHEDULES", "no-such-job=* * * * *")
	if err := realMain(context.Background(), []string{"jobs", "list"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "no-such-job") {
		t.Errorf("a schedule for an unknown job: %v", err)
	}
}

// The audit trail cannot miss: a referral's record is written in the
// intake script itself, and every other record before the answer; when
// the record cannot be written the request fails with 503 and discloses
// nothing, and a referral whose record cannot be written is not stored.
func TestNoAnswerWithoutAuditRecord(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.token(auth.RolePractice, practice)
	admin := h.token(auth.RoleAdmin, "U00001")
	r := h.do("POST", "/fhir/ServiceRequest", tok, fixture(t, "servicerequest-debt.json"))
	if r.status != 201 {
		t.Fatalf("referral = %d %s", r.status, r.body)
	}
	id := r.json(t)["id"].(string)
	// Its record came with it, as a create answered 201.
	recs := h.do("GET", "/fhir/AuditEvent?entity=ServiceRequest/"+id, admin, nil)
	if !strings.Contains(string(recs.body), `"action":"C"`) || !strings.Contains(string(recs.body), `"outcome":"0"`) {
		t.Errorf("the referral's audit record: %s", recs.body)
	}

	// Break the audit stream: writing to it fails from now on.
	ctx := context.Background()
	auditKey := strings.TrimSuffix(h.app.store.KeyPattern(), "*") + "audit"
	trail, err := h.app.store.Client().Dump(ctx, auditKey).Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := h.app.store.Client().Set(ctx, auditKey, "not a stream", 0).Err(); err != nil {
		t.Fatal(err)
	}
	before := h.dataKeys()
	for _, c := range []struct{ method, path string }{
		{"GET", "/fhir/Task/" + id},
		{"GET", "/fhir/ServiceRequest/" + id},
		{"GET", "/fhir/ServiceRequest?identifier=" + referralSys + "|SP-2026-000101"},
		{"GET", "/fhir/Task/no-such-task"},
		{"POST", "/fhir/ServiceRequest"},
	} {
		var body []byte
		if c.method == "POST" {
			body = fixture(t, "servicerequest-loneliness.json")
		}
		r := h.do(c.method, c.path, tok, body)
		if r.status != 503 || r.header.Get("Retry-After") == "" {
			t.Errorf("%s %s with no audit trail = %d (Retry-After %q), want 503: %.200s", c.method, c.path, r.status, r.header.Get("Retry-After"), r.body)
			continue
		}
		if is := issue(t, r); is["code"] != "transient" {
			t.Errorf("%s %s: issue %v", c.method, c.path, is)
		}
		for _, leak := range []string{id, "9000000009", "Task", "ServiceRequest\""} {
			if strings.Contains(string(r.body), leak) {
				t.Errorf("%s %s discloses %q: %s", c.method, c.path, leak, r.body)
			}
		}
		if r.header.Get("Location") != "" || r.header.Get("ETag") != "" {
			t.Errorf("%s %s: headers of the held answer leaked: %v", c.method, c.path, r.header)
		}
	}
	// A claim is recorded in its own script: refused, it leaves the
	// referral in its queue.
	cab := h.token(auth.RoleProvider, "X1V01")
	if r := h.api("POST", "/api/v1/queues/money-advice/claim", cab, ""); r.status != 503 || strings.Contains(string(r.body), id) {
		t.Errorf("claim with no audit trail = %d %.200s", r.status, r.body)
	}
	if got := h.dataKeys(); !slices.Equal(got, before) {
		t.Errorf("a referral was stored without its audit record: %d keys, were %d", len(got), len(before))
	}
	if !strings.Contains(h.logs.String(), "audit record not written") {
		t.Error("the failed audit writes were not logged")
	}

	// With the trail back, reads answer again and are recorded.
	if err := h.app.store.Client().RestoreReplace(ctx, auditKey, 0, trail).Err(); err != nil {
		t.Fatal(err)
	}
	if r := h.do("GET", "/fhir/Task/"+id, tok, nil); r.status != 200 {
		t.Errorf("read after the trail is back = %d", r.status)
	}
	if r := h.api("POST", "/api/v1/queues/money-advice/claim", cab, ""); r.status != 200 || !strings.Contains(string(r.body), id) {
		t.Errorf("claim after the trail is back = %d %.200s", r.status, r.body)
	}
	if recs := h.do("GET", "/fhir/AuditEvent?entity=Task/"+id+"/claim", admin, nil).json(t); recs["total"] != 1.0 {
		t.Errorf("claim records: %v, want the one claim that happened", recs["total"])
	}
	if recs := h.do("GET", "/fhir/AuditEvent?entity=Task/"+id, admin, nil).json(t); recs["total"] != 2.0 {
		t.Errorf("Task records: %v, want the read and the claim after the trail came back (refused ones left none)", recs["total"])
	}
}

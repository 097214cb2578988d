package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

// Issue 18: what a generic FHIR client and an NHS integrator expect, over
// HTTP. (Every FHIR resource any test receives is also validated by the
// harness: see harness.validate.)

// searchPage is one searchset page: its entries' ids, total and links.
type searchPage struct {
	ids        []string
	total      *float64
	self, next string
	prev       string
}

func (h *harness) searchPage(token, urlOrPath string) searchPage {
	h.t.Helper()
	path := urlOrPath
	if u, err := url.Parse(urlOrPath); err == nil && u.IsAbs() {
		path = u.RequestURI()
	}
	r := h.do("GET", path, token, nil)
	if r.status != http.StatusOK {
		h.t.Fatalf("GET %s = %d %s", path, r.status, r.body)
	}
	var b struct {
		Total *float64
		Link  []struct{ Relation, URL string }
		Entry []struct{ Resource struct{ ID string } }
	}
	if err := json.Unmarshal(r.body, &b); err != nil {
		h.t.Fatal(err)
	}
	p := searchPage{total: b.Total}
	for _, e := range b.Entry {
		p.ids = append(p.ids, e.Resource.ID)
	}
	for _, l := range b.Link {
		switch l.Relation {
		case "self":
			p.self = l.URL
		case "next":
			p.next = l.URL
		case "previous":
			p.prev = l.URL
		}
	}
	return p
}

// newReferral posts the debt referral with its own identifier and NHS
// number, and returns its id.
func newReferral(t *testing.T, h *harness, gp string, n int) string {
	t.Helper()
	body := withJSON(t, fixture(t, "servicerequest-debt.json"), map[string]any{
		"identifier": []any{map[string]any{"system": "https://fhir.a81001.example.nhs.uk/Id/social-prescribing-referral", "value": fmt.Sprintf("SP-PAGE-%03d", n)}},
		"subject":    map[string]any{"type": "Patient", "identifier": map[string]any{"system": adapter.SystemNHSNumber, "value": adapter.SyntheticNHSNumber(500 + n)}}})
	return idOf(t, post(t, h, "/fhir/ServiceRequest", gp, body, http.StatusCreated))
}

// A client following next links sees every match once, in a stable order,
// even while new referrals arrive; the total is the number of matches;
// previous goes back; _count=0 answers the count alone; one maximum.
func TestSearchPaging(t *testing.T) {
	h := newHarness(t, nil)
	gp := h.token(auth.RolePractice, practice)
	var want []string
	for i := range 7 {
		want = append(want, newReferral(t, h, gp, i))
	}
	h.do("POST", "/fhir/ServiceRequest", h.token(auth.RolePractice, otherPractice), fixture(t, "servicerequest-general.json"))

	for _, query := range []string{"/fhir/Task?_count=3", "/fhir/Task?_lastUpdated=gt2026-01-01T00:00:00Z&_count=3", "/fhir/ServiceRequest?_count=3"} {
		t.Run(query, func(t *testing.T) {
			var got []string
			p := h.searchPage(gp, query)
			first := p
			added := ""
			for pages := 0; ; pages++ {
				if pages > 10 {
					t.Fatal("next links never end")
				}
				if len(p.ids) > 3 {
					t.Fatalf("a page of %d entries for _count=3", len(p.ids))
				}
				got = append(got, p.ids...)
				if pages == 0 { // a referral arrives while the client pages
					added = newReferral(t, h, gp, 100+len(query))
				}
				if p.next == "" {
					break
				}
				p = h.searchPage(gp, p.next)
			}
			seen := map[string]bool{}
			for _, id := range got {
				if seen[id] {
					t.Errorf("%s repeated across pages: %v", id, got)
				}
				seen[id] = true
			}
			for _, id := range want {
				if !seen[id] {
					t.Errorf("%s skipped: %v", id, got)
				}
			}
			if !seen[added] {
				t.Errorf("the referral that arrived while paging is not on a later page: %v", got)
			}
			want = append(want, added)
			if first.next == "" || first.prev != "" {
				t.Errorf("first page links: next %q previous %q", first.next, first.prev)
			}
			second := h.searchPage(gp, first.next)
			if back := h.searchPage(gp, second.prev); !slices.Equal(back.ids, first.ids) {
				t.Errorf("previous of the second page %v, want the first %v", back.ids, first.ids)
			}
		})
	}
	// The count alone, and the total of a search whose matches are known.
	count := h.searchPage(gp, "/fhir/Task?_count=0")
	if count.total == nil || int(*count.total) != len(want) || len(count.ids) != 0 {
		t.Errorf("_count=0: total %v, %d entries; want %d and none", count.total, len(count.ids), len(want))
	}
	poll := h.searchPage(gp, "/fhir/Task?_lastUpdated=gt2026-01-01T00:00:00Z&_count=2")
	if poll.total == nil || int(*poll.total) != len(want) {
		t.Errorf("total of a _lastUpdated search: %v, want %d", poll.total, len(want))
	}
	big := h.searchPage(gp, "/fhir/Task?_count=100000")
	if !strings.Contains(big.self, "_count=1000") {
		t.Errorf("a _count over the maximum: self %q should say 1000", big.self)
	}
	// The audit trail pages too, newest first.
	admin := h.token(auth.RoleAdmin, "ADMIN")
	a := h.searchPage(admin, "/fhir/AuditEvent?_count=2")
	b := h.searchPage(admin, a.next)
	if len(a.ids) != 2 || len(b.ids) != 2 || a.ids[1] <= b.ids[0] || b.prev == "" {
		t.Errorf("audit pages %v then %v (prev %q)", a.ids, b.ids, b.prev)
	}
}

// The searches EHRs use, each caller seeing only what it may.
func TestServiceRequestAndOutcomeSearches(t *testing.T) {
	h := newHarness(t, nil)
	gp := h.token(auth.RolePractice, practice)
	sr := idOf(t, post(t, h, "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-debt.json"), http.StatusCreated))
	for _, q := range []string{
		"subject:identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009",
		"patient:identifier=9000000009",
		"subject=Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009",
		"identifier=SP-2026-000101",
		"identifier=https://fhir.a81001.example.nhs.uk/Id/social-prescribing-referral|SP-2026-000101",
		"status=active",
		"_lastUpdated=gt2026-01-01T00:00:00Z",
		"_id=" + sr,
	} {
		if p := h.searchPage(gp, "/fhir/ServiceRequest?"+url.PathEscape(q)); !slices.Equal(p.ids, []string{sr}) {
			t.Errorf("?%s: %v", q, p.ids)
		}
	}
	for _, q := range []string{"subject:identifier=9000000017", "identifier=https://other.example|SP-2026-000101", "status=completed",
		"_lastUpdated=gt2099-01-01T00:00:00Z"} {
		if p := h.searchPage(gp, "/fhir/ServiceRequest?"+url.PathEscape(q)); len(p.ids) != 0 {
			t.Errorf("?%s: %v, want none", q, p.ids)
		}
	}
	if p := h.searchPage(h.token(auth.RolePractice, otherPractice), "/fhir/ServiceRequest?identifier=SP-2026-000101"); len(p.ids) != 0 {
		t.Errorf("another practice finds the referral: %v", p.ids)
	}
	if r := h.do("GET", "/fhir/ServiceRequest?status=ACTIVE", gp, nil); r.status != 400 {
		t.Errorf("a status code in capitals: %d", r.status)
	}
	// Observation?based-on: the outcomes of a referral the caller may see.
	provider := h.token(auth.RoleProvider, "X1V01")
	claimFrom(h, "money-advice", provider)
	h.api("POST", "/api/v1/referrals/"+sr+"/transition", provider, `{"status":"accepted"}`)
	shared := post(t, h, "/api/v1/referrals/"+sr+"/outcomes", provider, []byte(outcomeBody(t, "observation-swemwbs.json", true)), 201).json(t)["id"].(string)
	withheld := post(t, h, "/api/v1/referrals/"+sr+"/outcomes", provider, []byte(outcomeBody(t, "observation-swemwbs.json", false)), 201).json(t)["id"].(string)
	if p := h.searchPage(gp, "/fhir/Observation?based-on=ServiceRequest/"+sr); !slices.Equal(p.ids, []string{shared}) {
		t.Errorf("the GP's outcomes of the referral: %v, want only %s", p.ids, shared)
	}
	if p := h.searchPage(provider, "/fhir/Observation?based-on=ServiceRequest/"+sr); len(p.ids) != 2 || !slices.Contains(p.ids, withheld) {
		t.Errorf("the provider's: %v", p.ids)
	}
	if p := h.searchPage(h.token(auth.RolePractice, otherPractice), "/fhir/Observation?based-on=ServiceRequest/"+sr); len(p.ids) != 0 {
		t.Errorf("another practice's: %v", p.ids)
	}
}

// Locations name the version; vread answers for each type created;
// conditional reads answer 304.
func TestVersionsAndLocations(t *testing.T) {
	h := newHarness(t, nil)
	gp := h.token(auth.RolePractice, practice)
	r := post(t, h, "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-debt.json"), http.StatusCreated)
	loc := r.header.Get("Location")
	u, err := url.Parse(loc)
	if err != nil || !u.IsAbs() || !strings.HasSuffix(loc, "/_history/1") {
		t.Fatalf("Location %q", loc)
	}
	v := h.do("GET", u.Path, gp, nil)
	if v.status != 200 || v.header.Get("ETag") != `W/"1"` || v.header.Get("Last-Modified") == "" {
		t.Errorf("vread of the Location: %d ETag %q Last-Modified %q", v.status, v.header.Get("ETag"), v.header.Get("Last-Modified"))
	}
	if old := h.do("GET", strings.TrimSuffix(u.Path, "1")+"2", gp, nil); old.status != 404 {
		t.Errorf("a version that is not the current one: %d", old.status)
	}
	nm := h.do("GET", u.Path, gp, nil, "If-None-Match", `W/"1"`)
	if nm.status != http.StatusNotModified || len(nm.body) != 0 {
		t.Errorf("If-None-Match the current version: %d %s", nm.status, nm.body)
	}
	if changed := h.do("GET", u.Path, gp, nil, "If-None-Match", `W/"0"`); changed.status != 200 {
		t.Errorf("If-None-Match another version: %d", changed.status)
	}
	id := locationID(loc)
	if task := h.do("GET", "/fhir/Task/"+id+"/_history/1", gp, nil); task.status != 200 {
		t.Errorf("vread of the Task: %d", task.status)
	}
	// Every location of a transaction-response answers.
	tx := post(t, h, "/fhir", gp, fixture(t, "bundle-referral-transaction.json"), http.StatusOK)
	var b struct {
		Entry []struct{ Response struct{ Location string } }
	}
	_ = json.Unmarshal(tx.body, &b)
	patients := 0
	for _, e := range b.Entry {
		if strings.HasPrefix(e.Response.Location, "Patient/") {
			patients++
		}
		if g := h.do("GET", "/fhir/"+e.Response.Location, gp, nil); g.status != 200 || g.header.Get("ETag") == "" {
			t.Errorf("transaction-response location %s answers %d, ETag %q", e.Response.Location, g.status, g.header.Get("ETag"))
		}
	}
	if patients != 1 {
		t.Errorf("the transaction's Patient has no location: %+v", b.Entry)
	}
}

// What the adapter accepts is valid FHIR, and safe: each of these is a
// 400 naming the element and the rule, and nothing is stored.
func TestInvalidFHIRRefusedOverHTTP(t *testing.T) {
	h := newHarness(t, nil)
	gp := h.token(auth.RolePractice, practice)
	sr := fixture(t, "servicerequest-debt.json")
	div := `<div xmlns="http://www.w3.org/1999/xhtml"><p onmouseover="steal()">Referral</p></div>`
	cases := []struct {
		name string
		set  map[string]any
		code string
		at   string
	}{
		{"empty note", map[string]any{"note": []any{}}, "invariant", "ServiceRequest.note"},
		{"empty priority", map[string]any{"priority": ""}, "invariant", "ServiceRequest.priority"},
		{"whitespace identifier", map[string]any{"identifier": []any{map[string]any{"system": "https://x.example/id", "value": "  "}}}, "invariant", "ServiceRequest.identifier[0].value"},
		{"status in capitals", map[string]any{"status": "ACTIVE"}, "code-invalid", "ServiceRequest.status"},
		{"intent capitalised", map[string]any{"intent": "Order"}, "code-invalid", "ServiceRequest.intent"},
		{"extension with no value", map[string]any{"extension": []any{map[string]any{"url": "https://x.example/e"}}}, "invariant", "ServiceRequest.extension[0]"},
		{"contained nobody references", map[string]any{"contained": []any{map[string]any{"resourceType": "Patient", "id": "p", "active": true}}}, "invariant", "ServiceRequest.contained[0]"},
		{"narrative with an event handler", map[string]any{"text": map[string]any{"status": "generated", "div": div}}, "invariant", "ServiceRequest.text.div"},
		{"reference climbing out", map[string]any{"performer": []any{map[string]any{"reference": "HealthcareService/../money-advice"}}}, "invariant", "ServiceRequest.performer[0].reference"},
		{"a 100k-character id", map[string]any{"subject": map[string]any{"reference": "Patient/" + strings.Repeat("x", 100_000)}}, "invariant", "ServiceRequest.subject.reference"},
	}
	before := h.dataKeys()
	for _, tc := range cases {
		r := h.do("POST", "/fhir/ServiceRequest", gp, withJSON(t, sr, tc.set))
		if r.status != 400 {
			t.Errorf("%s: %d %s", tc.name, r.status, r.body)
			continue
		}
		is := issue(t, r)
		if is["code"] != tc.code || !slices.Contains(toStrings(is["expression"]), tc.at) {
			t.Errorf("%s: %v, want %s at %s", tc.name, is, tc.code, tc.at)
		}
	}
	if !slices.Equal(before, h.dataKeys()) {
		t.Error("a refused resource wrote keys")
	}
	// A Bundle type and a request method in the wrong case.
	for _, set := range []map[string]any{{"type": "Transaction"}} {
		if r := h.do("POST", "/fhir", gp, withJSON(t, fixture(t, "bundle-referral-transaction.json"), set)); r.status != 400 {
			t.Errorf("Bundle %v: %d", set, r.status)
		}
	}
}

// A transaction rewrites only the references to its entries, never an
// identifier that happens to hold the same urn:uuid.
func TestTransactionKeepsIdentifiersThatLookLikeFullUrls(t *testing.T) {
	h := newHarness(t, nil)
	gp := h.token(auth.RolePractice, practice)
	var b map[string]any
	_ = json.Unmarshal(fixture(t, "bundle-referral-transaction.json"), &b)
	entries := b["entry"].([]any)
	patientURL := entries[0].(map[string]any)["fullUrl"].(string)
	sr := entries[1].(map[string]any)["resource"].(map[string]any)
	sr["identifier"] = append(sr["identifier"].([]any), map[string]any{"system": "urn:ietf:rfc:3986", "value": patientURL})
	body, _ := json.Marshal(b)
	r := post(t, h, "/fhir", gp, body, http.StatusOK)
	if !strings.Contains(string(r.body), `"system":"urn:ietf:rfc:3986","value":"`+patientURL+`"`) {
		t.Errorf("the identifier was rewritten: %s", r.body)
	}
}

// NHS BaRS: a referral with intent plan is taken; a message Bundle is told
// it is not processed here. A FHIR Task status outside the lifecycle is a
// conflict naming what is allowed.
func TestBaRSAndLifecycleAnswers(t *testing.T) {
	h := newHarness(t, nil)
	gp := h.token(auth.RolePractice, practice)
	id := idOf(t, post(t, h, "/fhir/ServiceRequest", gp, withJSON(t, fixture(t, "servicerequest-debt.json"), map[string]any{"intent": "plan"}), http.StatusCreated))
	var b map[string]any
	_ = json.Unmarshal(fixture(t, "bundle-referral-transaction.json"), &b)
	b["type"] = "message"
	for _, e := range b["entry"].([]any) {
		delete(e.(map[string]any), "request")
	}
	body, _ := json.Marshal(b)
	r := h.do("POST", "/fhir", gp, body)
	if is := issue(t, r); r.status != 400 || is["code"] != "invariant" || !strings.Contains(is["diagnostics"].(string), "bdl-12") {
		t.Errorf("a message Bundle without a MessageHeader: %d %v", r.status, is)
	}
	provider := h.token(auth.RoleProvider, "X1V01")
	claimFrom(h, "money-advice", provider)
	d := h.api("POST", "/api/v1/referrals/"+id+"/transition", provider, `{"status":"draft"}`)
	if is := issue(t, d); d.status != 409 || !strings.Contains(is["diagnostics"].(string), "allowed: accepted, rejected, cancelled") {
		t.Errorf("a transition to draft: %d %v", d.status, is)
	}
}

// The CapabilityStatement lists exactly what is served: MeasureReport
// among the resources, SMART only when the token endpoint answers.
func TestCapabilityStatementIsExact(t *testing.T) {
	h := newHarness(t, nil)
	r := h.do("GET", "/fhir/metadata", "", nil)
	var compact strings.Builder
	_ = json.NewEncoder(&compact).Encode(r.json(t))
	cs := compact.String()
	if !strings.Contains(cs, `"type":"MeasureReport"`) || !strings.Contains(cs, `"code":"vread"`) {
		t.Errorf("metadata lacks MeasureReport or vread")
	}
	if strings.Contains(cs, "SMART-on-FHIR") {
		t.Error("SMART declared without a token endpoint")
	}
	if w := h.do("GET", "/.well-known/smart-configuration", "", nil); w.status != 404 {
		t.Errorf("smart-configuration without clients: %d", w.status)
	}
	s, _, _ := newSMARTHarness(t)
	smart := string(s.do("GET", "/fhir/metadata", "", nil).body)
	if !strings.Contains(smart, "SMART-on-FHIR") || !strings.Contains(smart, "oauth-uris") {
		t.Errorf("SMART not declared with a token endpoint: %s", smart)
	}
}

// A type this server reads only by id (Goal) has its type-level URL: a
// create or search there is 405 with an empty Allow, as FHIR's RESTful
// API answers an interaction a server does not support, not 404 as for a
// type it does not know.
func TestTypeReadOnlyByIDIsMethodNotAllowed(t *testing.T) {
	h := newHarness(t, nil)
	gp := h.token(auth.RolePractice, practice)
	for _, method := range []string{"POST", "GET"} {
		r := h.do(method, "/fhir/Goal", gp, []byte(`{"resourceType":"Goal"}`))
		if allow, ok := r.header["Allow"]; r.status != http.StatusMethodNotAllowed || !ok || len(allow) != 1 || allow[0] != "" ||
			issue(t, r)["code"] != "not-supported" {
			t.Errorf("%s /fhir/Goal = %d %v %s", method, r.status, r.header, r.body)
		}
	}
	if r := h.do("POST", "/fhir/Nothing", gp, []byte(`{}`)); r.status != http.StatusNotFound {
		t.Errorf("POST to an unknown type = %d %s", r.status, r.body)
	}
}

// Prefer: handling=lenient has an unknown search parameter ignored, and
// left out of the self link, as FHIR's search page asks servers to honour
// (search.html#errors); without it the parameter is refused.
func TestLenientSearchIgnoresUnknownParameters(t *testing.T) {
	h := newHarness(t, nil)
	gp := h.token(auth.RolePractice, practice)
	if r := h.do("POST", "/fhir/ServiceRequest", gp, fixture(t, "servicerequest-debt.json")); r.status != http.StatusCreated {
		t.Fatalf("referral = %d %s", r.status, r.body)
	}
	path := "/fhir/Task?status=requested&colour=blue"
	if r := h.do("GET", path, gp, nil); r.status != http.StatusBadRequest {
		t.Errorf("strict = %d %s", r.status, r.body)
	}
	r := h.do("GET", path, gp, nil, "Prefer", "handling=lenient")
	b := r.json(t)
	if r.status != http.StatusOK || b["total"] != float64(1) {
		t.Fatalf("lenient = %d %s", r.status, r.body)
	}
	for _, l := range b["link"].([]any) {
		if l := l.(map[string]any); l["relation"] == "self" && (strings.Contains(l["url"].(string), "colour") || !strings.Contains(l["url"].(string), "status=requested")) {
			t.Errorf("self link %v", l["url"])
		}
	}
	if r := h.do("GET", "/fhir/Task?status=requested&status=accepted", gp, nil, "Prefer", "handling=lenient"); r.status != http.StatusBadRequest {
		t.Errorf("a repeated parameter, lenient = %d: still refused, as it cannot be honoured", r.status)
	}
	// A token in the URL is refused however lenient the client asks the
	// search to be: it would end up in logs and browser history.
	com := commissioner(t, "LS6")
	for path, tok := range map[string]string{"/fhir/Task?access_token=" + gp: gp, "/fhir/Task?ACCESS_TOKEN=x": gp,
		"/dashboard?access_token=" + com: com, "/api/v1/reports/capacity?access_token=x": com} {
		if r := h.do("GET", path, tok, nil, "Prefer", "handling=lenient"); r.status != http.StatusBadRequest {
			t.Errorf("%.40s... with lenient handling = %d, want 400", path, r.status)
		}
	}
}

// A query pair Go's parser would drop without a word (one holding ';', a
// bad %-escape) refuses the request, rather than the filter vanishing and
// the search answering more.
func TestMalformedQueryRefused(t *testing.T) {
	h := newHarness(t, nil)
	gp := h.token(auth.RolePractice, practice)
	for _, path := range []string{"/fhir/Task?status=rejected;x", "/fhir/ServiceRequest?identifier=X-3;x", "/fhir/Task?status=%zz",
		"/fhir/Task?access_token=" + gp + ";x"} {
		r := h.do("GET", path, gp, nil)
		if r.status != http.StatusBadRequest || issue(t, r)["code"] != "invalid" {
			t.Errorf("%.50s = %d %s", path, r.status, r.body)
		}
	}
	if r := h.do("GET", "/fhir/Task?status=rejected%3Bx", gp, nil); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "status") {
		t.Errorf("an escaped ';' is part of the value (no such status): %d %s", r.status, r.body)
	}
}

// If-None-Exist where the CapabilityStatement offers no conditional create
// (a message, a Flag, a Subscription, a transaction as a whole) is refused,
// not ignored: ignoring it would create what the client asked to create
// only if absent.
func TestIfNoneExistRefusedWhereNotOffered(t *testing.T) {
	h := newHarness(t, nil)
	gp, lw := h.token(auth.RolePractice, practice), h.token(auth.RoleLinkWorker, "U00001")
	for path, tok := range map[string]string{"/fhir/Communication": gp, "/fhir/Flag": lw, "/fhir/Subscription": gp, "/fhir": gp} {
		r := h.do("POST", path, tok, []byte(`{}`), "If-None-Exist", "identifier=https://x.example/id|1")
		if r.status != http.StatusBadRequest || issue(t, r)["code"] != "not-supported" || !strings.Contains(string(r.body), "If-None-Exist") {
			t.Errorf("POST %s with If-None-Exist = %d %s", path, r.status, r.body)
		}
	}
}

// A token search value this server does not read as FHIR does is refused
// rather than answered wrongly: a list (FHIR's OR) and |value (an
// identifier with no system).
func TestIdentifierSearchRefusesWhatItCannotAnswer(t *testing.T) {
	h := newHarness(t, nil)
	gp := h.token(auth.RolePractice, practice)
	for _, q := range []string{"identifier=SP-1,SP-2", "identifier=" + url.QueryEscape("|SP-1"), "subject:identifier=9000000009,9000000017"} {
		if r := h.do("GET", "/fhir/ServiceRequest?"+q, gp, nil); r.status != http.StatusBadRequest || issue(t, r)["code"] != "not-supported" {
			t.Errorf("%s = %d %s", q, r.status, r.body)
		}
	}
	if r := h.do("GET", "/fhir/ServiceRequest?identifier="+url.QueryEscape(`SP\,1`), gp, nil); r.status != http.StatusOK {
		t.Errorf("an escaped comma is part of the value: %d %s", r.status, r.body)
	}
}

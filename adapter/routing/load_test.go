package routing_test

import (
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/routing"
	"github.com/social-prescribing/referral-adapter/mappings"
)

func loadDefault(t *testing.T) *routing.Mappings {
	t.Helper()
	m, err := routing.Load(mappings.Default, "mappings")
	if err != nil {
		t.Fatalf("the default mappings do not load: %v", err)
	}
	return m
}

// The shipped configuration: one primary care network with its link
// workers and a VCSE service for each need the issue names.
func TestDefaultMappingsLoad(t *testing.T) {
	m := loadDefault(t)
	n := m.Network
	if n.ID != "riverside-pcn" || n.Name != "Riverside Primary Care Network" || n.ODS != "U00001" || n.LinkWorker != "riverside-link-workers" ||
		len(n.Agreements) != 1 || n.Agreements[0].URI != "https://social-prescribing.github.io/referral-adapter/policy/social-prescribing-sharing" {
		t.Errorf("network %+v", m.Network)
	}
	// Partners under the agreement: the debt, housing, work, carers and
	// activity services; befriending and the wellbeing cafe need the
	// patient's consent naming them.
	for id, partner := range map[string]bool{"money-advice": true, "housing-options": true, "work-and-skills": true,
		"carers-support": true, "active-riverside": true, "befriending": false, "wellbeing-cafe": false} {
		r, ok := m.Recipient(id)
		if !ok || (len(r.Via) == 1) != partner {
			t.Errorf("%s: recipient %+v, partner %v", id, r, partner)
		}
	}
	if r, _ := m.Recipient("riverside-link-workers"); r.Org != "U00001" || len(r.Via) != 0 {
		t.Errorf("link workers' recipient %+v", r)
	}
	if !m.KnownOrg("X1V05") || !m.KnownOrg("u00001") || m.KnownOrg("A81001") {
		t.Error("KnownOrg: the directory's organisations are the network and the providers")
	}
	if m.RuleSet != "riverside-pcn-default" {
		t.Errorf("rule set %q", m.RuleSet)
	}
	wantServices := map[string]string{
		"riverside-link-workers": "U00001",
		"money-advice":           "X1V01",
		"housing-options":        "X1V02",
		"befriending":            "X1V03",
		"work-and-skills":        "X1V04",
		"wellbeing-cafe":         "X1V05",
		"carers-support":         "X1V06",
		"active-riverside":       "X1V07",
	}
	var ids []string
	for _, s := range m.Services() {
		ids = append(ids, s.ID)
		want := adapter.KindVCSE
		if s.ID == m.Network.LinkWorker {
			want = adapter.KindLinkWorker
		}
		if s.Kind != want || s.ProvidedBy.ODS != wantServices[s.ID] || s.Name == "" || s.ReferralMode != adapter.ModeFormalReferral {
			t.Errorf("service %+v", s)
		}
	}
	if len(ids) != len(wantServices) || ids[0] != "riverside-link-workers" {
		t.Errorf("services %v", ids)
	}
	var rules []string
	for _, r := range m.Rules {
		rules = append(rules, r.Name)
		if len(r.Fallback) == 0 || r.File != "mappings/20-rules.yaml" || r.Line == 0 {
			t.Errorf("rule %+v", r)
		}
	}
	want := []string{"debt-and-benefits", "housing", "loneliness", "employment", "mental-wellbeing", "carers", "physical-activity",
		"gravity-financial", "gravity-housing", "gravity-social-connection", "gravity-employment", "gravity-stress", "gravity-other-needs",
		"social-prescribing"}
	if !slices.Equal(rules, want) {
		t.Errorf("rules %v, want %v", rules, want)
	}
	if got := m.ServicesOf("X1V03"); !slices.Equal(got, []string{"befriending"}) {
		t.Errorf("ServicesOf(X1V03) = %v", got)
	}
	if _, ok := m.Service("nowhere"); ok {
		t.Error("Service found an id not in the directory")
	}
}

// base is a valid configuration in one file: the network, a link-worker
// service, a VCSE service with opening hours, and one rule.
const base = `network: {id: n, name: N, ods: U1, linkWorkerService: lw}
ruleSet: test-rules
services:
  - {id: lw, name: LW, kind: link-worker, providedBy: {ods: U1}}
  - id: vc
    name: VC
    kind: vcse
    providedBy: {ods: X1}
    hours:
      - {days: [mon], start: "09:00", end: "17:00"}
rules:
  - name: r
    match: {code: [{system: s, code: x}]}
    target: vc
    fallback: [waitlist]
    priority: routine
    firstContactWithin: 2wd
`

func mapFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return fsys
}

// rule appends a second rule to base's rules.
func rule(lines ...string) string {
	return base + "  - name: r2\n" + "    " + strings.Join(lines, "\n    ") + "\n"
}

// fileLine matches a problem naming its file and line.
var fileLine = regexp.MustCompile(`^m/[a-z]+\.yaml:\d+: `)

// A configuration with a mistake is refused, naming the file and line of
// the mistake.
func TestLoadFailures(t *testing.T) {
	if _, err := routing.Load(mapFS(map[string]string{"a.yaml": base}), "m"); err != nil {
		t.Fatalf("base does not load: %v", err)
	}
	cases := []struct {
		name  string
		files map[string]string
		want  string // the whole problem: file:line: message
	}{
		{"unknown field in a rule", map[string]string{"a.yaml": base + "    colour: red\n"}, `m/a.yaml:18: unknown field "colour"`},
		{"unknown field in a service", map[string]string{"a.yaml": strings.Replace(base, "    name: VC\n", "    name: VC\n    capacity: 3\n", 1)}, `m/a.yaml:7: unknown field "capacity"`},
		{"unknown top-level field", map[string]string{"a.yaml": base, "b.yaml": "servcies: []\n"}, `m/b.yaml:1: unknown field "servcies"`},
		{"duplicate rule name", map[string]string{"a.yaml": base, "b.yaml": "rules:\n  - {name: r, match: {code: [{system: s, code: y}]}, target: lw, fallback: [waitlist]}\n"},
			`m/b.yaml:2: duplicate rule name "r" (first defined at m/a.yaml:12)`},
		{"duplicate service id", map[string]string{"a.yaml": base, "b.yaml": "services:\n  - {id: vc, name: V2, kind: vcse, providedBy: {ods: X2}}\n"}, `m/b.yaml:2: duplicate service id "vc"`},
		{"route to a service not in the directory", map[string]string{"a.yaml": rule("match: {code: [{system: s, code: y}]}", "target: nowhere", "fallback: [lw]")},
			`m/a.yaml:18: rule "r2": target "nowhere" is not a service in the directory`},
		{"fallback to a service not in the directory", map[string]string{"a.yaml": rule("match: {code: [{system: s, code: y}]}", "target: vc", "fallback: [elsewhere, lw]")},
			`m/a.yaml:18: rule "r2": fallback "elsewhere" is not a service in the directory`},
		{"fallback listed twice", map[string]string{"a.yaml": rule("match: {code: [{system: s, code: y}]}", "target: vc", "fallback: [lw, lw]")},
			`m/a.yaml:18: rule "r2": fallback "lw" is listed twice`},
		{"performer not in the directory", map[string]string{"a.yaml": rule("match: {performer: [HealthcareService/ghost]}", "target: vc", "fallback: [lw]")},
			`m/a.yaml:18: rule "r2": match.performer "HealthcareService/ghost" is not a HealthcareService in the directory`},
		{"rule with no fallback", map[string]string{"a.yaml": rule("match: {code: [{system: s, code: y}]}", "target: vc")},
			`m/a.yaml:18: rule "r2": no fallback: every rule needs an ordered fallback list (service ids or "waitlist")`},
		{"rule that matches nothing", map[string]string{"a.yaml": rule("target: vc", "fallback: [lw]")},
			`m/a.yaml:18: rule "r2" matches nothing: give match.code, category, reasonCode or performer`},
		{"coding without a code", map[string]string{"a.yaml": rule("match: {reasonCode: [{system: s}]}", "target: vc", "fallback: [lw]")},
			`m/a.yaml:19: a coding needs both system and code`},
		{"bad priority", map[string]string{"a.yaml": rule("match: {code: [{system: s, code: y}]}", "target: vc", "fallback: [lw]", "priority: high")},
			`m/a.yaml:22: rule "r2": priority must be routine, urgent, asap or stat`},
		{"bad SLA", map[string]string{"a.yaml": rule("match: {code: [{system: s, code: y}]}", "target: vc", "fallback: [lw]", "firstContactWithin: soon")},
			`m/a.yaml:22: rule "r2": invalid deadline "soon" (want e.g. 48h, 14d or 2wd)`},
		{"zero working days", map[string]string{"a.yaml": rule("match: {code: [{system: s, code: y}]}", "target: vc", "fallback: [lw]", "firstContactWithin: 0wd")},
			`m/a.yaml:22: rule "r2": invalid working-day deadline "0wd" (want e.g. 2wd)`},
		{"hours ending before they start", map[string]string{"a.yaml": strings.Replace(base, `start: "09:00", end: "17:00"`, `start: "17:00", end: "09:00"`, 1)},
			`m/a.yaml:10: service "vc": hours need start and end as HH:MM with start before end`},
		{"hours not HH:MM", map[string]string{"a.yaml": strings.Replace(base, `start: "09:00"`, `start: "9am"`, 1)},
			`m/a.yaml:10: service "vc": hours need start and end as HH:MM with start before end`},
		{"unknown day", map[string]string{"a.yaml": strings.Replace(base, `days: [mon]`, `days: [monday]`, 1)},
			`m/a.yaml:10: service "vc": unknown day "monday" (use mon..sun)`},
		{"unknown kind", map[string]string{"a.yaml": strings.Replace(base, "kind: vcse", "kind: charity", 1)},
			`m/a.yaml:7: service "vc": kind must be link-worker or vcse, not "charity"`},
		{"service id not a FHIR id", map[string]string{"a.yaml": base, "b.yaml": "services:\n  - {id: \"money advice\", name: M, kind: vcse, providedBy: {ods: X2}}\n"},
			`m/b.yaml:2: service id "money advice" is not a valid FHIR id`},
		{"missing network", map[string]string{"a.yaml": strings.Replace(base, "network: {id: n, name: N, ods: U1, linkWorkerService: lw}\n", "", 1)},
			`m/a.yaml: no network section in any mapping file`},
		{"network twice", map[string]string{"a.yaml": base, "b.yaml": "network: {id: n2, name: N2, ods: U2, linkWorkerService: lw}\n"},
			`m/b.yaml:1: network is already defined in m/a.yaml`},
		{"incomplete network", map[string]string{"a.yaml": strings.Replace(base, "ods: U1, linkWorkerService: lw}", "ods: U1}", 1)},
			`m/a.yaml:1: network needs id, name, ods and linkWorkerService`},
		{"link-worker service of the wrong kind", map[string]string{"a.yaml": strings.Replace(base, "linkWorkerService: lw", "linkWorkerService: vc", 1)},
			`m/a.yaml: network.linkWorkerService "vc" is not a link-worker service in the directory`},
		{"YAML syntax error", map[string]string{"a.yaml": base, "b.yaml": "services:\n  - id: x\n   name: bad indent\n"},
			`m/b.yaml:3:4: YAML syntax: value is not allowed in this context`},
		{"key given twice", map[string]string{"a.yaml": base + "ruleSet: again\n"},
			`m/a.yaml:18: mapping key "ruleSet" already defined at line 2`},
		{"two documents", map[string]string{"a.yaml": base + "---\nruleSet: x\n"}, `m/a.yaml: more than one YAML document in the file`},
		{"empty file", map[string]string{"a.yaml": base, "b.yaml": ""}, `m/b.yaml: file is empty`},
		{"sharing agreement the network does not have", map[string]string{"a.yaml": strings.Replace(base, "    name: VC\n", "    name: VC\n    sharingAgreement: https://example.org/dsa\n", 1)},
			`m/a.yaml:7: service "vc": sharingAgreement "https://example.org/dsa" is not one of the network's sharingAgreements`},
		{"sharing agreement that is no URI", map[string]string{"a.yaml": strings.Replace(base, "linkWorkerService: lw}", "linkWorkerService: lw, sharingAgreements: [{uri: dsa}]}", 1)},
			`m/a.yaml:1: sharingAgreements: uri "dsa" must be an absolute URI (the policy a Consent cites)`},
		// The practice → area table (issue 20).
		{"unknown field in a practice", map[string]string{"a.yaml": base, "b.yaml": "practices:\n  - ods: A81001\n    area: LS6\n    postcode: LS6 1AA\n"},
			`m/b.yaml:4: unknown field "postcode"`},
		{"practice without an ODS code", map[string]string{"a.yaml": base, "b.yaml": "practices:\n  - {name: P, area: LS6}\n"},
			`m/b.yaml:2: practice has no ods code`},
		{"practice ODS code of the wrong shape", map[string]string{"a.yaml": base, "b.yaml": "practices:\n  - ods: a81-001\n    area: LS6\n"},
			`m/b.yaml:2: practice ods "a81-001" is not an ODS code (3 to 12 capital letters and digits, e.g. A81001)`},
		{"practice without an area", map[string]string{"a.yaml": base, "b.yaml": "practices:\n  - {ods: A81001, name: P}\n"},
			`m/b.yaml:2: practice "A81001" has no area: give the postcode district it serves, e.g. LS6`},
		{"practice area not a district", map[string]string{"a.yaml": base, "b.yaml": "practices:\n  - ods: A81001\n    area: Leeds 6\n"},
			`m/b.yaml:3: practice "A81001": area "Leeds 6" is not a postcode district in capitals (e.g. LS6)`},
		{"practice area in lower case", map[string]string{"a.yaml": base, "b.yaml": "practices:\n  - {ods: A81001, area: ls6}\n"},
			`m/b.yaml:2: practice "A81001": area "ls6" is not a postcode district in capitals (e.g. LS6)`},
		{"practice area a full postcode", map[string]string{"a.yaml": base, "b.yaml": "practices:\n  - {ods: A81001, area: LS6 1AA}\n"},
			`m/b.yaml:2: practice "A81001": area "LS6 1AA" is not a postcode district in capitals (e.g. LS6)`},
		{"practice area unknown", map[string]string{"a.yaml": base, "b.yaml": "practices:\n  - {ods: A81001, area: unknown}\n"},
			`m/b.yaml:2: practice "A81001": area "unknown" is not a postcode district in capitals (e.g. LS6)`},
		{"practice listed twice", map[string]string{"a.yaml": base, "b.yaml": "practices:\n  - {ods: A81001, area: LS6}\n  - {ods: A81001, area: LS7}\n"},
			`m/b.yaml:3: duplicate practice "A81001" (first defined at m/b.yaml:2)`},
		{"practices not a list", map[string]string{"a.yaml": base, "b.yaml": "practices: {A81001: LS6}\n"},
			`m/b.yaml:1: cannot unmarshal !!map into []routing.practiceDoc`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := routing.Load(mapFS(c.files), "m")
			if err == nil {
				t.Fatalf("loaded: %+v", m)
			}
			problems := strings.Split(err.Error(), "\n")
			if !slices.Contains(problems, c.want) {
				t.Errorf("problems:\n%s\nwant one to be:\n%s", err, c.want)
			}
			for _, p := range problems {
				if !strings.HasPrefix(p, "m/") {
					t.Errorf("problem %q does not name its file", p)
				}
			}
		})
	}
	_, err := routing.Load(fstest.MapFS{"README.md": {Data: []byte("x")}}, "m")
	if !errors.Is(err, routing.ErrNoMappings) {
		t.Errorf("no YAML files: %v", err)
	}
}

// Every problem of every file is reported at once, each with its file and
// line, so a deployment fixes its configuration in one pass.
func TestLoadReportsEveryProblem(t *testing.T) {
	files := map[string]string{
		"a.yaml": base + "    colour: red\n" +
			"  - name: r\n    match: {code: [{system: s, code: y}]}\n    target: vc\n    fallback: [lw]\n" +
			"  - name: r3\n    match: {code: [{system: s, code: z}]}\n    target: nowhere\n    priority: high\n    firstContactWithin: soon\n",
		"b.yaml": "services:\n  - {id: vc, name: V2, kind: vcse, providedBy: {ods: X2}}\n  - id: h\n    name: H\n    kind: vcse\n    providedBy: {ods: X3}\n    hours:\n      - {days: [funday], start: \"09:00\", end: \"10:00\"}\n",
	}
	_, err := routing.Load(mapFS(files), "m")
	if err == nil {
		t.Fatal("loaded")
	}
	want := []string{
		`m/a.yaml:18: unknown field "colour"`,
		`m/a.yaml:19: duplicate rule name "r" (first defined at m/a.yaml:12)`,
		`m/a.yaml:26: rule "r3": priority must be routine, urgent, asap or stat`,
		`m/a.yaml:27: rule "r3": invalid deadline "soon" (want e.g. 48h, 14d or 2wd)`,
		`m/a.yaml:23: rule "r3": target "nowhere" is not a service in the directory`,
		`m/a.yaml:23: rule "r3": no fallback: every rule needs an ordered fallback list (service ids or "waitlist")`,
		`m/b.yaml:2: duplicate service id "vc"`,
		`m/b.yaml:8: service "h": unknown day "funday" (use mon..sun)`,
	}
	problems := strings.Split(err.Error(), "\n")
	for _, w := range want {
		if !slices.Contains(problems, w) {
			t.Errorf("missing %q", w)
		}
	}
	for _, p := range problems {
		if !fileLine.MatchString(p) {
			t.Errorf("problem %q does not name file and line", p)
		}
	}
	if len(problems) != len(want) {
		t.Errorf("%d problems, want %d:\n%s", len(problems), len(want), err)
	}
}

// When a file cannot be read at all, only its own error and the other
// files' own problems are reported: not checks of the whole set that fail
// merely because that file's contents are missing.
func TestLoadUnreadableFileDoesNotCascade(t *testing.T) {
	files := map[string]string{
		"a.yaml": "network: {id: n, name: N, ods: U1, linkWorkerService: lw}\nruleSet: t\nservices: [\n",
		"b.yaml": "rules:\n  - {name: r, match: {code: [{system: s, code: x}]}, target: lw, fallback: [waitlist], priority: high}\n",
	}
	_, err := routing.Load(mapFS(files), "m")
	if err == nil {
		t.Fatal("loaded")
	}
	problems := strings.Split(err.Error(), "\n")
	want := []string{`m/a.yaml:3:11: YAML syntax: sequence end token ']' not found`, `m/b.yaml:2: rule "r": priority must be routine, urgent, asap or stat`}
	if !slices.Equal(problems, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}

// The practice → area table (issue 20): a referral without a postcode is
// counted in its practice's area; unknown only when neither is known. The
// network's areas are every service's and every practice's.
func TestPracticeTable(t *testing.T) {
	m := loadDefault(t)
	if got := m.PracticeArea("A81001"); got != "LS6" {
		t.Errorf("A81001 area %q", got)
	}
	if p, ok := m.Practice("B82002"); !ok || p.Area != "LS7" || p.Name != "Chapel Hill Surgery" || p.File != "mappings/40-practices.yaml" || p.Line != 13 {
		t.Errorf("B82002 %+v", p)
	}
	if got := len(m.Practices()); got != 5 || m.Practices()[0].ODS != "A81001" {
		t.Errorf("%d practices, first %+v", got, m.Practices()[0])
	}
	for _, c := range []struct{ district, practice, want string }{
		{"LS4", "A81001", "LS4"},            // the patient's postcode wins
		{"", "A81001", "LS6"},               // else the practice's area
		{"", "Z99999", adapter.AreaUnknown}, // neither known
		{"BD1", "Z99999", "BD1"},            // outside the network, but known
		{"", "", adapter.AreaUnknown},
	} {
		if got := m.AreaOf(c.district, c.practice); got != c.want {
			t.Errorf("AreaOf(%q, %q) = %q, want %q", c.district, c.practice, got, c.want)
		}
	}
	if got := m.NetworkAreas(); !slices.Equal(got, []string{"LS4", "LS5", "LS6", "LS7", "LS8"}) {
		t.Errorf("network areas %v", got)
	}
	b, err := routing.Load(mapFS(map[string]string{"a.yaml": base, "b.yaml": "practices:\n  - {ods: P11, area: BD3}\n"}), "m")
	if err != nil {
		t.Fatal(err)
	}
	if got := b.NetworkAreas(); !slices.Equal(got, []string{"BD3"}) || b.AreaOf("", "P11") != "BD3" {
		t.Errorf("network areas %v", got)
	}
}

// A syntax error in a shipped mapping file names the line the operator
// broke (or, for a collection left open, the line after it, where the
// parser finds out), not where the enclosing list began: yaml.v3 alone
// said line 8 for each of the first three.
func TestLoadSyntaxErrorNamesTheLine(t *testing.T) {
	raw, err := fs.ReadFile(mappings.Default, "20-rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(raw), "\n")
	for _, tc := range []struct {
		line     int
		edit     func(string) string
		wantLine int
	}{
		{19, func(l string) string { return l[1:] }, 19},                           // a key indented one space too few
		{17, func(l string) string { return l + ": x" }, 17},                       // a second colon in a value
		{14, func(l string) string { return strings.TrimSuffix(l, "}") }, 15},      // a flow mapping left open
		{18, func(l string) string { return strings.TrimSuffix(l, "]") }, 19},      // a flow sequence left open
		{27, func(l string) string { return strings.Replace(l, ",", "", 1) }, 27},  // a comma left out
		{31, func(l string) string { return "\t" + strings.TrimLeft(l, " ") }, 31}, // a tab for indent
	} {
		broken := slices.Clone(lines)
		broken[tc.line-1] = tc.edit(broken[tc.line-1])
		files := map[string]string{}
		for _, name := range []string{"00-network.yaml", "10-services.yaml", "30-safety.yaml", "40-practices.yaml"} {
			b, err := fs.ReadFile(mappings.Default, name)
			if err != nil {
				t.Fatal(err)
			}
			files[name] = string(b)
		}
		files["20-rules.yaml"] = strings.Join(broken, "\n")
		_, err := routing.Load(mapFS(files), "m")
		want := fmt.Sprintf("m/20-rules.yaml:%d:", tc.wantLine)
		if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "YAML syntax") {
			t.Errorf("line %d edited to %q: %v; want it to start %q", tc.line, broken[tc.line-1], err, want)
		}
	}
}

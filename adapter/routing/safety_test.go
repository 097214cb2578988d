package routing_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/routing"
	"github.com/social-prescribing/referral-adapter/mappings"
)

func TestDefaultSafetyScreens(t *testing.T) {
	m, err := routing.Load(mappings.Default, "mappings")
	if err != nil {
		t.Fatal(err)
	}
	sp := adapter.Coding{System: adapter.SystemSNOMED, Code: "871731000000106"}
	cases := []struct {
		reason adapter.Coding
		kind   adapter.SafetyKind
	}{
		{adapter.Coding{System: adapter.SystemSNOMED, Code: "6471006"}, adapter.SafetyClinicalRedirect},
		{adapter.Coding{System: adapter.SystemICD10, Code: "Z91.5"}, adapter.SafetyClinicalRedirect},
		{adapter.Coding{System: adapter.SystemICD10, Code: "F20"}, adapter.SafetyOutOfRemit},
		{adapter.Coding{System: adapter.SystemICD10, Code: "Z59.6"}, ""},
	}
	for _, tc := range cases {
		r := &adapter.Referral{Codes: []adapter.Coding{sp}, Reasons: []adapter.Coding{tc.reason}}
		f := m.Screen(r)
		if f.Kind != tc.kind {
			t.Errorf("%s: kind %q, want %q", tc.reason.Code, f.Kind, tc.kind)
		}
		if f.Matched() && (f.Pathway == "" || f.Screen == "") {
			t.Errorf("%s: finding lacks pathway or screen: %+v", tc.reason.Code, f)
		}
	}
}

func TestSafetyScreenValidation(t *testing.T) {
	fsys := fstest.MapFS{}
	for name, data := range testMappings() {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	fsys["safety.yaml"] = &fstest.MapFile{Data: []byte(`safety:
  - name: a
    kind: panic
    codes: [{system: s, code: c}]
    pathway: p
  - name: b
    kind: out-of-remit
    codes: []
    pathway: p
  - name: c
    kind: clinical-redirect
    codes: [{system: s, code: c}]
  - name: a
    kind: out-of-remit
    codes: [{system: s, code: c}]
    pathway: p
`)}
	_, err := routing.Load(fsys, "m")
	if err == nil {
		t.Fatal("bad screens accepted")
	}
	for _, want := range []string{"m/safety.yaml:3: safety screen \"a\": kind must be", "m/safety.yaml:6: safety screen \"b\" has no codes",
		"m/safety.yaml:10: safety screen \"c\" needs a pathway", "m/safety.yaml:13: duplicate safety screen \"a\""} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

// testMappings is a minimal valid configuration.
func testMappings() map[string]string {
	return map[string]string{"base.yaml": `network: {id: n, name: N, ods: U1, linkWorkerService: lw}
ruleSet: t
services:
  - {id: lw, name: LW, kind: link-worker, providedBy: {ods: U1}}
rules:
  - {name: r, match: {code: [{system: s, code: x}]}, target: lw, fallback: [waitlist]}
`}
}

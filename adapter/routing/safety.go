package routing

import (
	"gopkg.in/yaml.v3"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Screen is a clinical-safety screen: referrals carrying any of its codes
// (in code, category or reasonCode) are never queued.
type Screen struct {
	Name    string
	Kind    adapter.SafetyKind
	Codes   []adapter.Coding
	Pathway string
	File    string
	Line    int
}

type screenDoc struct {
	Name    string      `yaml:"name"`
	Kind    string      `yaml:"kind"`
	Codes   []codingDoc `yaml:"codes"`
	Pathway string      `yaml:"pathway"`
}

func (b *builder) screen(file string, n *yaml.Node, d screenDoc) {
	kind := adapter.SafetyKind(d.Kind)
	switch {
	case d.Name == "":
		b.fail(file, n, "safety screen has no name")
		return
	case kind != adapter.SafetyClinicalRedirect && kind != adapter.SafetyOutOfRemit:
		b.fail(file, child(n, "kind"), "safety screen %q: kind must be clinical-redirect or out-of-remit, not %q", d.Name, d.Kind)
	case len(d.Codes) == 0:
		b.fail(file, n, "safety screen %q has no codes", d.Name)
	case d.Pathway == "":
		b.fail(file, n, "safety screen %q needs a pathway: plain words telling the referrer where to turn", d.Name)
	}
	for _, s := range b.m.Screens {
		if s.Name == d.Name {
			b.fail(file, n, "duplicate safety screen %q (first defined at %s:%d)", d.Name, s.File, s.Line)
			return
		}
	}
	b.m.Screens = append(b.m.Screens, &Screen{Name: d.Name, Kind: kind, Pathway: d.Pathway, File: file, Line: line(n),
		Codes: b.codings(file, child(n, "codes"), d.Codes)})
}

// Screen checks a referral against the safety screens, before any routing:
// the first screen with a coding present in the referral's code, category
// or reasonCode decides.
func (m *Mappings) Screen(r *adapter.Referral) adapter.SafetyFinding {
	all := r.AllCodings()
	for _, s := range m.Screens {
		for _, want := range s.Codes {
			for _, have := range all {
				if want.Same(have) {
					return adapter.SafetyFinding{Screen: s.Name, Kind: s.Kind, Pathway: s.Pathway, Coding: want}
				}
			}
		}
	}
	return adapter.SafetyFinding{}
}

package routing

import (
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Practice is a GP practice of the network with the area it serves: the
// area a referral is counted in when it arrives without a Patient to take
// a postcode from (issue 20).
type Practice struct {
	ODS  string // ODS code, as the practice's tokens carry it in org
	Name string // for reports; optional
	Area string // postcode district (outward code), e.g. LS6
	File string
	Line int
}

type practiceDoc struct {
	ODS  string `yaml:"ods"`
	Name string `yaml:"name"`
	Area string `yaml:"area"`
}

// odsCode is the shape of an ODS organisation code: letters and digits,
// 3 to 12 of them (GP practices have 6, e.g. A81001).
var odsCode = regexp.MustCompile(`^[A-Z0-9]{3,12}$`)

func (b *builder) practice(file string, n *yaml.Node, d practiceDoc) {
	switch {
	case d.ODS == "":
		b.fail(file, n, "practice has no ods code")
		return
	case !odsCode.MatchString(d.ODS):
		b.fail(file, child(n, "ods"), "practice ods %q is not an ODS code (3 to 12 capital letters and digits, e.g. A81001)", d.ODS)
		return
	}
	if prev, ok := b.m.practices[d.ODS]; ok {
		b.fail(file, n, "duplicate practice %q (first defined at %s:%d)", d.ODS, prev.File, prev.Line)
		return
	}
	switch {
	case d.Area == "":
		b.fail(file, n, "practice %q has no area: give the postcode district it serves, e.g. LS6", d.ODS)
	case d.Area == adapter.AreaUnknown || adapter.PostcodeDistrict(d.Area) != d.Area:
		b.fail(file, child(n, "area"), "practice %q: area %q is not a postcode district in capitals (e.g. LS6)", d.ODS, d.Area)
	}
	if b.m.practices == nil {
		b.m.practices = map[string]*Practice{}
	}
	b.m.practices[d.ODS] = &Practice{ODS: d.ODS, Name: d.Name, Area: d.Area, File: file, Line: line(n)}
}

// PracticeArea is the area of a practice in the practice table, "" when
// the practice is not in it.
func (m *Mappings) PracticeArea(ods string) string {
	if p, ok := m.practices[ods]; ok {
		return p.Area
	}
	return ""
}

// Practice returns a practice of the practice table.
func (m *Mappings) Practice(ods string) (*Practice, bool) {
	p, ok := m.practices[ods]
	return p, ok
}

// Practices returns the practice table sorted by ODS code.
func (m *Mappings) Practices() []*Practice {
	out := make([]*Practice, 0, len(m.practices))
	for _, p := range m.practices {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *Practice) int { return strings.Compare(a.ODS, b.ODS) })
	return out
}

// NetworkAreas are the areas the network serves, sorted: every area a
// directory service names and every practice's area. A commissioner whose
// token covers all of them is the network's commissioner, and also sees
// referrals whose area is not known (issue 20).
func (m *Mappings) NetworkAreas() []string {
	seen := map[string]bool{}
	for _, s := range m.services {
		for _, a := range s.Areas {
			seen[strings.ToUpper(a)] = true
		}
	}
	for _, p := range m.practices {
		seen[p.Area] = true
	}
	out := make([]string, 0, len(seen))
	for a := range seen {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// AreaOf is the area a referral is counted in: the patient's postcode
// district when the referral came with a Patient that has one, else the
// referring practice's area from the practice table, else
// adapter.AreaUnknown.
func (m *Mappings) AreaOf(district, practice string) string {
	switch {
	case district != "":
		return district
	case m.PracticeArea(practice) != "":
		return m.PracticeArea(practice)
	}
	return adapter.AreaUnknown
}

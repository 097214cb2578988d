package routing

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// builder validates decoded files and assembles Mappings, collecting every
// problem rather than stopping at the first.
type builder struct {
	m        *Mappings
	problems []error
	netFile  string
	partial  bool // a file could not be read: skip the checks of the whole set
	// agreements are the services' sharingAgreements, checked in whole.
	agreements []pendingAgreement
}

func (b *builder) fail(file string, n *yaml.Node, format string, args ...any) {
	b.problems = append(b.problems, problem{file: file, line: line(n), msg: fmt.Sprintf(format, args...)})
}

func (b *builder) build(files []loadedFile) (*Mappings, error) {
	for _, f := range files {
		b.network(f)
		for i, s := range f.doc.Services {
			b.service(f.name, item(child(f.root, "services"), i), s)
		}
	}
	var ruleSetFile string
	for _, f := range files {
		if f.doc.RuleSet != "" {
			if b.m.RuleSet != "" && b.m.RuleSet != f.doc.RuleSet {
				b.fail(f.name, child(f.root, "ruleSet"), "ruleSet %q conflicts with %q in %s", f.doc.RuleSet, b.m.RuleSet, ruleSetFile)
			}
			b.m.RuleSet, ruleSetFile = f.doc.RuleSet, f.name
		}
		for i, r := range f.doc.Rules {
			b.rule(f.name, item(child(f.root, "rules"), i), r)
		}
		for i, sd := range f.doc.Safety {
			b.screen(f.name, item(child(f.root, "safety"), i), sd)
		}
		for i, pd := range f.doc.Practices {
			b.practice(f.name, item(child(f.root, "practices"), i), pd)
		}
	}
	if !b.partial {
		b.whole(files)
	}
	if len(b.problems) > 0 {
		return nil, errors.Join(b.problems...)
	}
	return b.m, nil
}

func (b *builder) network(f loadedFile) {
	if f.doc.Network == nil {
		return
	}
	n := child(f.root, "network")
	if b.netFile != "" {
		b.fail(f.name, n, "network is already defined in %s", b.netFile)
		return
	}
	b.netFile = f.name
	d := f.doc.Network
	if d.ID == "" || d.Name == "" || d.ODS == "" || d.LinkWorker == "" {
		b.fail(f.name, n, "network needs id, name, ods and linkWorkerService")
	}
	b.m.Network = Network{ID: d.ID, Name: d.Name, ODS: d.ODS, LinkWorker: d.LinkWorker}
	for i, a := range d.SharingAgreements {
		at := item(child(n, "sharingAgreements"), i)
		switch {
		case !absoluteURI(a.URI):
			b.fail(f.name, at, "sharingAgreements: uri %q must be an absolute URI (the policy a Consent cites)", a.URI)
		case slices.ContainsFunc(b.m.Network.Agreements, func(x Agreement) bool { return x.URI == a.URI }):
			b.fail(f.name, at, "sharingAgreements: uri %q is listed twice", a.URI)
		default:
			b.m.Network.Agreements = append(b.m.Network.Agreements, Agreement(a))
		}
	}
}

// absoluteURI reports whether s is an absolute http(s) or urn URI.
func absoluteURI(s string) bool {
	if strings.ContainsAny(s, " \t\n") {
		return false
	}
	return strings.HasPrefix(s, "https://") && len(s) > len("https://") ||
		strings.HasPrefix(s, "http://") && len(s) > len("http://") || strings.HasPrefix(s, "urn:") && len(s) > 4
}

func (b *builder) service(file string, n *yaml.Node, d serviceDoc) {
	switch {
	case d.ID == "":
		b.fail(file, n, "service has no id")
		return
	case !fhirID.MatchString(d.ID):
		b.fail(file, n, "service id %q is not a valid FHIR id", d.ID)
		return
	case b.m.services[d.ID] != nil:
		b.fail(file, n, "duplicate service id %q", d.ID)
		return
	}
	kind := adapter.ServiceKind(d.Kind)
	if kind != adapter.KindLinkWorker && kind != adapter.KindVCSE {
		b.fail(file, child(n, "kind"), "service %q: kind must be link-worker or vcse, not %q", d.ID, d.Kind)
	}
	if d.Name == "" || d.ProvidedBy.ODS == "" {
		b.fail(file, n, "service %q needs a name and providedBy.ods", d.ID)
	}
	mode := adapter.ReferralMode(d.ReferralMode)
	switch mode {
	case "":
		mode = adapter.ModeFormalReferral
	case adapter.ModeFormalReferral, adapter.ModeSelfReferralOnly, adapter.ModeSignpostOnly:
	default:
		b.fail(file, child(n, "referralMode"), "service %q: unknown referralMode %q", d.ID, d.ReferralMode)
	}
	if d.MaxOpen < 0 || d.Eligibility.MinAge < 0 || (d.Eligibility.MaxAge > 0 && d.Eligibility.MaxAge < d.Eligibility.MinAge) {
		b.fail(file, n, "service %q: maxOpen and ages must be non-negative and minAge <= maxAge", d.ID)
	}
	b.hours(file, child(n, "hours"), d.ID, d.Hours)
	s := &adapter.Service{
		ID: d.ID, Name: d.Name, Kind: kind, ProvidedBy: d.ProvidedBy,
		Categories: b.codings(file, child(n, "categories"), d.Categories),
		Types:      b.codings(file, child(n, "types"), d.Types),
		Areas:      d.Areas, ReferralMode: mode, Contact: d.Contact, Hours: d.Hours,
		Eligibility: adapter.Eligibility{MinAge: d.Eligibility.MinAge, MaxAge: d.Eligibility.MaxAge,
			Languages: d.Eligibility.Languages, Exclusions: d.Eligibility.Exclusions},
		InitialMaxOpen: d.MaxOpen, SharingAgreement: d.SharingAgreement,
	}
	b.agreements = append(b.agreements, pendingAgreement{file: file, node: child(n, "sharingAgreement"), svc: d.ID, uri: d.SharingAgreement})
	b.m.services[d.ID] = s
	b.m.order = append(b.m.order, d.ID)
}

func (b *builder) codings(file string, n *yaml.Node, ds []codingDoc) []adapter.Coding {
	out := make([]adapter.Coding, 0, len(ds))
	for i, d := range ds {
		if d.System == "" || d.Code == "" {
			b.fail(file, item(n, i), "a coding needs both system and code")
			continue
		}
		out = append(out, adapter.Coding{System: d.System, Code: d.Code, Display: d.Display})
	}
	return out
}

func (b *builder) rule(file string, n *yaml.Node, d ruleDoc) {
	if d.Name == "" {
		b.fail(file, n, "rule has no name")
		return
	}
	if prev, ok := b.m.RuleByName(d.Name); ok {
		b.fail(file, n, "duplicate rule name %q (first defined at %s:%d)", d.Name, prev.File, prev.Line)
		return
	}
	r := &Rule{
		Name: d.Name, Description: d.Description, Need: d.Need, File: file, Line: line(n),
		Code:      b.codings(file, child(child(n, "match"), "code"), d.Match.Code),
		Category:  b.codings(file, child(child(n, "match"), "category"), d.Match.Category),
		Reason:    b.codings(file, child(child(n, "match"), "reasonCode"), d.Match.ReasonCode),
		Performer: d.Match.Performer, Target: d.Target, Fallback: d.Fallback,
		Priority: adapter.Priority(d.Priority),
	}
	if len(r.Code)+len(r.Category)+len(r.Reason)+len(r.Performer) == 0 {
		b.fail(file, n, "rule %q matches nothing: give match.code, category, reasonCode or performer", d.Name)
	}
	if r.Priority == "" {
		r.Priority = adapter.PriorityRoutine
	} else if !r.Priority.Valid() {
		b.fail(file, child(n, "priority"), "rule %q: priority must be routine, urgent, asap or stat", d.Name)
	}
	sla, err := ParseSLA(d.FirstContactWithin)
	if err != nil {
		b.fail(file, child(n, "firstContactWithin"), "rule %q: %v", d.Name, err)
	}
	r.FirstContact = sla
	b.m.Rules = append(b.m.Rules, r)
}

// whole runs the checks that need every file: references between rules and
// services, and the network.
func (b *builder) whole(files []loadedFile) {
	first := files[0].name
	if b.netFile == "" {
		b.fail(first, nil, "no network section in any mapping file")
	} else if s, ok := b.m.services[b.m.Network.LinkWorker]; !ok || s.Kind != adapter.KindLinkWorker {
		b.fail(b.netFile, nil, "network.linkWorkerService %q is not a link-worker service in the directory", b.m.Network.LinkWorker)
	}
	if b.m.RuleSet == "" {
		b.fail(first, nil, "no ruleSet name in any mapping file")
	}
	if len(b.m.Rules) == 0 {
		b.fail(first, nil, "no routing rules in any mapping file")
	}
	for _, r := range b.m.Rules {
		b.ruleTargets(r)
	}
	for _, a := range b.agreements {
		if a.uri != "" && !slices.ContainsFunc(b.m.Network.Agreements, func(x Agreement) bool { return x.URI == a.uri }) {
			b.fail(a.file, a.node, "service %q: sharingAgreement %q is not one of the network's sharingAgreements", a.svc, a.uri)
		}
	}
}

// pendingAgreement is a service's sharingAgreement, checked against the
// network's once every file is read.
type pendingAgreement struct {
	file, svc, uri string
	node           *yaml.Node
}

func (b *builder) ruleTargets(r *Rule) {
	at := problem{file: r.File, line: r.Line}
	fail := func(format string, args ...any) {
		at.msg = fmt.Sprintf("rule %q: ", r.Name) + fmt.Sprintf(format, args...)
		b.problems = append(b.problems, at)
	}
	if _, ok := b.m.services[r.Target]; !ok {
		fail("target %q is not a service in the directory", r.Target)
	}
	if len(r.Fallback) == 0 {
		fail("no fallback: every rule needs an ordered fallback list (service ids or %q)", Waitlist)
	}
	for i, f := range r.Fallback {
		switch {
		case f == Waitlist:
		case f == r.Target || slices.Contains(r.Fallback[:i], f):
			fail("fallback %q is listed twice", f)
		case b.m.services[f] == nil:
			fail("fallback %q is not a service in the directory", f)
		}
	}
	for _, p := range r.Performer {
		if _, ok := b.m.services[serviceIDFromRef(p)]; !ok {
			fail("match.performer %q is not a HealthcareService in the directory", p)
		}
	}
}

var weekdays = map[string]bool{"mon": true, "tue": true, "wed": true, "thu": true, "fri": true, "sat": true, "sun": true}

// hours checks opening hours: known day codes and HH:MM start before end.
func (b *builder) hours(file string, n *yaml.Node, svc string, hs []adapter.OpeningHours) {
	for i, h := range hs {
		start, err1 := time.Parse("15:04", h.Start)
		end, err2 := time.Parse("15:04", h.End)
		if err1 != nil || err2 != nil || !start.Before(end) {
			b.fail(file, item(n, i), "service %q: hours need start and end as HH:MM with start before end", svc)
		}
		for _, d := range h.Days {
			if !weekdays[d] {
				b.fail(file, item(n, i), "service %q: unknown day %q (use mon..sun)", svc, d)
			}
		}
	}
}

package intake

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/consent"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/adapter/routing"
)

// Entry is one resource to create: either a raw body of the given Kind (a
// single POST) or an already parsed transaction entry.
type Entry struct {
	Kind        string
	Body        []byte
	Tx          *fhir.TxEntry
	IfNoneExist adapter.Identifier
}

// plan is one entry on its way to the store.
type plan struct {
	entry    Entry
	at       string // error expression prefix; "" for single POSTs
	res      *fhir.Resource
	ref      *adapter.Referral
	decision routing.Decision
	safety   adapter.SafetyFinding // ServiceRequest only: a matched safety screen
	consent  *fhir.ConsentSummary
	engine   consent.Consent // Consent only: for consent decisions
	patient  adapter.Identifier
	facts    adapter.PatientFacts // Patient only: for eligibility
	keys     []adapter.IdemKey
	sub      *adapter.Submission
}

// Transact creates every entry or none. It returns one Result per entry, in
// order; entries whose identifier the practice already used return the
// earlier resource with Existing set.
func (s *Service) Transact(ctx context.Context, c Caller, entries []Entry) ([]*Result, error) {
	plans := make([]*plan, len(entries))
	for i, e := range entries {
		p, err := s.prepare(c, e)
		if err != nil {
			return nil, err
		}
		plans[i] = p
	}
	linkEntries(plans)
	if err := requesters(plans, c.Org); err != nil {
		return nil, err
	}
	if err := duplicateIdentifiers(plans); err != nil {
		return nil, err
	}
	if err := s.checkConsents(c, plans); err != nil {
		return nil, err
	}
	if err := unresolvedReferences(plans); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		batch, err := s.build(ctx, c, plans, attempt == 0 && optimistic(plans))
		if err != nil {
			return nil, err
		}
		err = s.store.Intake(ctx, batch)
		if errors.Is(err, adapter.ErrConcurrentCreate) && attempt+1 < maxAttempts {
			continue
		}
		if err != nil {
			return nil, err
		}
		s.count(plans) // the Tasks' notification events and report counters went with the write
		results, err := s.results(ctx, plans)
		if err != nil {
			return nil, err
		}
		// Consent holds follow what was written (issue 4). Should this
		// fail, everything is stored: a retry of a withdrawal reconciles
		// again, and the consent-hold-expiry job releases a referral whose
		// consent arrived unreconciled.
		if err := s.reconcileAfter(ctx, c, plans, results); err != nil {
			return nil, err
		}
		return results, nil
	}
}

// optimistic says whether a request may be written without first looking
// up its identifiers (issue 22): a request of Consents only, each
// identified by its own identifier alone (no If-None-Exist naming
// another), whose intake reads nothing else. The intake script checks
// every identifier atomically and writes nothing when one is taken, so a
// new Consent costs one round trip, and one sent again (a retry, or a
// withdrawal) is looked up and planned as before on the next attempt.
func optimistic(plans []*plan) bool {
	for _, p := range plans {
		if p.consent == nil || len(p.keys) > 1 || (len(p.keys) == 1 && p.keys[0].Identifier != p.identifier()) {
			return false
		}
	}
	return true
}

// prepare parses and validates one entry and decides its route. A
// Consent the practice already sent with the same bytes is not parsed
// again (fhir.Parser.ParseSentConsent).
func (s *Service) prepare(c Caller, e Entry) (*plan, error) {
	p := &plan{entry: e}
	switch {
	case e.Tx != nil:
		p.res, p.at = e.Tx.Resource, e.Tx.Path()
	case e.Kind == adapter.KindConsent:
		var err error
		if p.res, p.consent, p.engine, err = s.parser.ParseSentConsent(e.Body, c.Org); err != nil {
			return nil, err
		}
	default:
		res, err := s.parser.Parse(e.Body, e.Kind)
		if err != nil {
			return nil, err
		}
		p.res = res
	}
	if p.consent == nil {
		if err := s.understand(p); err != nil {
			return nil, locate(err, p)
		}
	}
	for _, id := range append([]adapter.Identifier{e.IfNoneExist}, p.identifiers()...) {
		if k := (adapter.IdemKey{Kind: p.res.Type, Identifier: id}); !id.IsZero() && !slices.Contains(p.keys, k) {
			p.keys = append(p.keys, k)
		}
	}
	return p, nil
}

func (s *Service) understand(p *plan) error {
	var err error
	switch p.res.Type {
	case adapter.KindServiceRequest:
		if p.ref, err = fhir.ReferralFrom(p.res); err != nil {
			return err
		}
		// Safety comes before routing: a crisis referral is accepted for
		// the record and rejected at once, even if no routing rule matches.
		if p.safety = s.mappings.Screen(p.ref); p.safety.Matched() {
			return nil
		}
		p.decision, err = s.mappings.Route(p.ref)
	case adapter.KindConsent:
		if p.consent, err = fhir.ConsentSummaryFrom(p.res); err != nil {
			return err
		}
		p.engine, err = fhir.ConsentFrom(p.res)
	case adapter.KindPatient:
		if err := fhir.OneNHSNumber(p.res.Raw); err != nil {
			return err
		}
		p.patient = fhir.PatientIdentifier(p.res)
		p.facts = fhir.PatientFactsFrom(p.res)
	}
	return err
}

func (p *plan) identifier() adapter.Identifier {
	switch {
	case p.ref != nil:
		return p.ref.Identifier
	case p.consent != nil:
		return p.consent.Identifier
	}
	return p.patient
}

// identifiers are every business identifier of the entry's resource (a
// Patient's is its NHS number alone): each names it for idempotent and
// conditional creates.
func (p *plan) identifiers() []adapter.Identifier {
	switch {
	case p.ref != nil && len(p.ref.Identifiers) > 0:
		return p.ref.Identifiers
	case p.consent != nil && len(p.consent.Identifiers) > 0:
		return p.consent.Identifiers
	}
	if id := p.identifier(); !id.IsZero() {
		return []adapter.Identifier{id}
	}
	return nil
}

// locate points an entry's error at the entry within its Bundle.
func locate(err error, p *plan) error {
	var e *adapter.Error
	if p.at == "" || !errors.As(err, &e) {
		return err
	}
	c := *e
	c.Message = fmt.Sprintf("entry %d: %s", p.entry.Tx.Index, e.Message)
	c.Expression = nil
	for _, x := range e.Expression {
		_, rest, _ := strings.Cut(x, ".")
		c.Expression = append(c.Expression, strings.TrimSuffix(p.at+"."+rest, "."))
	}
	if len(c.Expression) == 0 {
		c.Expression = []string{p.at}
	}
	return &c
}

// checkConsents refuses an active Consent the consent engine could not
// interpret (consent.Check: an actor, role or action it cannot read, a
// dateTime in the future), naming each problem's element, rather than store
// it as if it meant nothing. Organisations may be named literally when
// they are the directory's or the sending practice itself. A withdrawal
// (any other status) is always taken: it only ever narrows what is shared.
func (s *Service) checkConsents(c Caller, plans []*plan) error {
	known := func(ods string) bool { return s.mappings.KnownOrg(ods) || strings.EqualFold(ods, c.Org) }
	now := s.now()
	for _, p := range plans {
		if p.consent == nil || p.engine.Status != consent.StatusActive {
			continue
		}
		if errs := consent.Check(p.engine, known, now); len(errs) > 0 {
			first := *errs[0]
			first.Issues = errs[1:]
			return locate(&first, p)
		}
	}
	return nil
}

// requesters refuses a referral whose requester is another organisation
// than the practice sending it (adapter.Referral.CheckRequester).
func requesters(plans []*plan, practice string) error {
	for _, p := range plans {
		if p.ref != nil {
			if err := p.ref.CheckRequester(practice); err != nil {
				return locate(err, p)
			}
		}
	}
	return nil
}

func duplicateIdentifiers(plans []*plan) error {
	seen := map[adapter.IdemKey]int{}
	for i, p := range plans {
		for _, k := range p.keys {
			if j, ok := seen[k]; ok && j != i {
				return locate(adapter.Errorf(adapter.EBUSINESSRULE, "the same identifier is used by entry %d", j), p)
			}
			seen[k] = i
		}
	}
	return nil
}

// unresolvedReferences refuses a referral or consent whose patient (or
// requester) is a urn:uuid / urn:oid reference that no Patient entry of the
// request has as its fullUrl. Such a reference cannot be resolved later
// (a single POST never can), so storing it would leave the referral and its
// Task pointing nowhere.
func unresolvedReferences(plans []*plan) error {
	types := map[string]string{}
	for _, p := range plans {
		if p.entry.Tx != nil && p.entry.Tx.FullURL != "" {
			types[p.entry.Tx.FullURL] = p.res.Type
		}
	}
	for _, p := range plans {
		refs := map[string]string{}
		switch {
		case p.ref != nil:
			refs["subject"], refs["requester"] = p.ref.Subject, p.ref.Requester
		case p.consent != nil:
			refs["patient"] = p.consent.Patient
		}
		for _, el := range []string{"patient", "subject"} {
			if ref := refs[el]; isURN(ref) && types[ref] != adapter.KindPatient {
				return locate(adapter.Errorf(adapter.EINVALID,
					"%s refers to a fullUrl that no Patient entry of this request has", el).At(p.res.Type+"."+el), p)
			}
		}
		// A requester in the request can only be the patient (a
		// self-referral): the practitioners and organisations that refer
		// are named by reference or identifier, not created here.
		if ref := refs["requester"]; isURN(ref) && types[ref] != adapter.KindPatient {
			return locate(adapter.Errorf(adapter.EINVALID,
				"requester refers to a fullUrl that no entry of this request can be: a transaction creates only %s; name the requester by its reference or identifier",
				strings.Join(fhir.TxEntryTypes, ", ")).At(p.res.Type+".requester"), p)
		}
	}
	return nil
}

package intake

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/adapter/mapping"
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
	decision mapping.Decision
	consent  *fhir.ConsentSummary
	patient  adapter.Identifier
	keys     []adapter.IdemKey
	sub      *adapter.Submission
}

// Transact creates every entry or none. It returns one Result per entry, in
// order; entries whose identifier the practice already used return the
// earlier resource with Existing set.
func (s *Service) Transact(ctx context.Context, c Caller, entries []Entry) ([]*Result, error) {
	plans := make([]*plan, len(entries))
	for i, e := range entries {
		p, err := s.prepare(e)
		if err != nil {
			return nil, err
		}
		plans[i] = p
	}
	if err := duplicateIdentifiers(plans); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		batch, err := s.build(ctx, c, plans)
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
		s.publish(ctx, batch)
		return s.results(ctx, plans)
	}
}

// publish tells the notification stream about each Task the batch
// created. It runs after the write and cannot undo it, so a failure is
// counted, not returned: the referral is safely stored and the practice
// can still read its Task. (Interim: the XADD is to move into intake.lua,
// making it atomic with the write.)
func (s *Service) publish(ctx context.Context, b *adapter.IntakeBatch) {
	for _, sub := range b.Items {
		t := sub.Task
		if t == nil || sub.Existing != "" {
			continue
		}
		ev := adapter.TaskEvent{TaskID: t.ID, ReferralID: t.ReferralID, Practice: t.Practice, Status: t.Status, Time: t.LastModified}
		if err := s.store.PublishTaskEvent(ctx, ev); err != nil {
			publishFailures.Inc()
		}
	}
}

// prepare parses and validates one entry and decides its route.
func (s *Service) prepare(e Entry) (*plan, error) {
	p := &plan{entry: e}
	if e.Tx != nil {
		p.res, p.at = e.Tx.Resource, e.Tx.Path()
	} else {
		res, err := s.parser.Parse(e.Body, e.Kind)
		if err != nil {
			return nil, err
		}
		p.res = res
	}
	if err := s.understand(p); err != nil {
		return nil, locate(err, p)
	}
	for _, id := range []adapter.Identifier{e.IfNoneExist, p.identifier()} {
		if !id.IsZero() {
			p.keys = append(p.keys, adapter.IdemKey{Kind: p.res.Type, Identifier: id})
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
		p.decision, err = s.mappings.Route(p.ref)
	case adapter.KindConsent:
		p.consent, err = fhir.ConsentSummaryFrom(p.res)
	case adapter.KindPatient:
		p.patient = fhir.PatientIdentifier(p.res)
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

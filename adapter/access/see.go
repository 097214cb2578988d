package access

import (
	"context"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/consent"
)

// SeeTask is the door of every read, search, claim and lifecycle call on a
// referral: whether the caller may see the Task t and the referral it
// tracks (see the package doc). It answers false for anything the caller
// may not see; callers answer that as adapter.NotFound, as for a Task that
// does not exist.
func (p *Policy) SeeTask(ctx context.Context, c adapter.Caller, t *adapter.Task) (bool, error) {
	switch c.Role {
	case adapter.RolePractice:
		return c.Org != "" && t.Practice == c.Org, nil
	case adapter.RoleLinkWorker, adapter.RoleProvider:
		to, ok, err := p.holderRecipient(ctx, c, t)
		if err != nil || !ok {
			return false, err
		}
		d, err := p.Release(ctx, t, to, Referral(t))
		return d.Permit, err
	}
	return false, nil
}

// Candidate is a cheap necessary condition of SeeTask, reading nothing:
// searches pass by the many Tasks it rules out before asking SeeTask of
// the rest.
func (p *Policy) Candidate(c adapter.Caller, t *adapter.Task) bool {
	switch c.Role {
	case adapter.RolePractice:
		return c.Org != "" && t.Practice == c.Org
	case adapter.RoleLinkWorker:
		return p.Works(c, t.Owner) || t.PartOf != ""
	case adapter.RoleProvider:
		return p.Works(c, t.Owner)
	}
	return false
}

// holderRecipient is the caller as the recipient of a Task it holds (or, a
// link worker, follows): its organisation by the service it works, and
// the person acting. ok is false when the caller neither holds nor follows
// the Task.
func (p *Policy) holderRecipient(ctx context.Context, c adapter.Caller, t *adapter.Task) (consent.Recipient, bool, error) {
	if p.Holds(c, t) {
		to, ok := p.serviceRecipient(t.Owner, &c)
		return to, ok, nil
	}
	if c.Role != adapter.RoleLinkWorker || t.PartOf == "" {
		return consent.Recipient{}, false, nil
	}
	parent, err := p.tasks.Task(ctx, t.PartOf)
	if adapter.ErrorCode(err) == adapter.ENOTFOUND {
		return consent.Recipient{}, false, nil
	}
	if err != nil || !p.Holds(c, parent) {
		return consent.Recipient{}, false, err
	}
	to, ok := p.serviceRecipient(parent.Owner, &c)
	return to, ok, nil
}

// Record is something a holder recorded on a referral: an outcome or a
// message, with its patient's approval for the practice.
type Record struct {
	Info     consent.Information
	Approved bool   // the patient approved sharing it with the GP
	Org      string // ODS code of the organisation that recorded it ("" for the practice)
}

// SeeRecord is the door of outcomes and messages: whether the caller, who
// may see the Task t (SeeTask), may see a record made on it. Its own
// organisation's records it always sees; the practice sees a holder's
// record only when the patient approved sharing it and their consent
// permits it to go to the practice; a holder sees another organisation's
// record (a link worker reading the outcome a VCSE provider recorded on an
// onward referral) when the consent permits it to go to them.
func (p *Policy) SeeRecord(ctx context.Context, c adapter.Caller, t *adapter.Task, r Record) (consent.Decision, error) {
	switch {
	case r.Org != "" && r.Org == c.Org || r.Org == "" && c.Role == adapter.RolePractice && c.Org == t.Practice:
		return consent.Decision{Permit: true, Reason: "recorded by the reader's own organisation"}, nil
	case c.Role == adapter.RolePractice:
		if !r.Approved {
			what := "outcome"
			if r.Info.Type == adapter.KindCommunication {
				what = "message"
			}
			return consent.Decision{Reason: "the patient did not approve sharing this " + what}, nil
		}
		return p.Release(ctx, t, Practice(c.Org, &c), r.Info)
	}
	to, ok, err := p.holderRecipient(ctx, c, t)
	if err != nil || !ok {
		return consent.Decision{Reason: "the reader does not hold the referral"}, err
	}
	return p.Release(ctx, t, to, r.Info)
}

// Practice is the referring practice as the recipient of what goes back to
// it: by its ODS code and, when c is given, the person (or system) of it
// reading now.
func Practice(ods string, c *adapter.Caller) consent.Recipient {
	r := consent.Recipient{Org: ods}
	if c != nil {
		r.PersonLevel, r.Person = true, c.Person
	}
	return r
}

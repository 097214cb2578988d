package consent

import (
	"slices"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// matches reports whether every criterion p populates matches req at now.
// t is the provision's effective type: an unknown request attribute matches
// a deny criterion and never a permit one.
func (p *Provision) matches(c *Consent, req *Request, now time.Time, t Type) bool {
	unknown := t == Deny
	return p.Period.Contains(now) &&
		p.matchActors(c, &req.Actor, t) &&
		matchAction(p.Actions, req.Action, t) &&
		matchCoding(p.Purposes, req.Purpose, unknown) &&
		anyShared(p.Classes, req.Classes) &&
		anyShared(p.Codes, req.Codes) &&
		anyShared(p.SecurityLabels, req.SecurityLabels) &&
		p.matchData(req, unknown) &&
		matchTime(p.DataPeriod, req.DataTime, unknown)
}

// matchActors: some actor entry names the request's recipient, in a role
// that covers the request's. An actor entry without a role matches any
// role; one without a usable reference (display only), or with one the
// engine cannot read, matches any recipient in a deny and none in a permit.
func (p *Provision) matchActors(c *Consent, a *RequestActor, t Type) bool {
	if len(p.Actors) == 0 {
		return true
	}
	deny := t == Deny
	if a.Reference == "" && (!a.PersonLevel || a.Person == "") {
		return deny // nobody stated
	}
	for _, pa := range p.Actors {
		if !pa.roleMatches(a.Role, deny) {
			continue
		}
		parties := pa.parties()
		if len(parties) == 0 && deny {
			return true
		}
		for _, pt := range parties {
			if a.is(c, pt, deny) {
				return true
			}
		}
	}
	return false
}

// is reports whether the party a provision names is this recipient in
// Consent c: its organisation (or, in a Consent citing an agreement the
// recipient is a partner under, the organisation it partners); its person,
// for a request made by a person. A provision naming a person does not
// apply to a disclosure to the organisation as a whole: it applies when
// that organisation's people act. When who acts cannot be told, or cannot
// be compared with the person named (another kind of reference), a deny
// applies and a permit does not.
func (a *RequestActor) is(c *Consent, pt party, deny bool) bool {
	switch pt.kind {
	case partyOrg:
		return identify(a.Reference).key == pt.key || a.via(c, pt.key)
	case partyPerson:
		if !a.PersonLevel {
			return false
		}
		me := identify(a.Person)
		if me.kind != partyPerson || me.form != pt.form {
			return deny
		}
		return me.key == pt.key
	}
	return deny
}

// via reports whether the recipient is a partner, under an agreement c
// cites, of the organisation ods.
func (a *RequestActor) via(c *Consent, ods string) bool {
	for _, ag := range a.Via {
		if slices.Contains(c.Policies, ag.Policy) && identify(ag.Reference).key == ods {
			return true
		}
	}
	return false
}

func (pa Actor) roleMatches(role adapter.Coding, unknown bool) bool {
	if len(pa.Role) == 0 {
		return true
	}
	if role.IsZero() {
		return unknown
	}
	return slices.ContainsFunc(pa.Role, func(c adapter.Coding) bool { return subsumes(c, role) })
}

// implied lists, for an action a request states, the actions it entails: a
// disclosure lets the recipient collect, access and use the information, so
// a deny of any of them stops it. A permit must name the action itself.
var implied = map[adapter.Coding][]adapter.Coding{
	ActionDisclose: {ActionCollect, ActionAccess, ActionUse, ActionDisclose},
}

// matchAction: a permit matches when it names the request's action (or a
// generalisation of it); a deny also when it names an action the request's
// entails.
func matchAction(want []adapter.Coding, have adapter.Coding, t Type) bool {
	if !matchCoding(want, have, t == Deny) {
		if t == Permit || have.IsZero() {
			return false
		}
		entailed := implied[adapter.Coding{System: have.System, Code: have.Code}]
		return slices.ContainsFunc(want, func(w adapter.Coding) bool { return slices.ContainsFunc(entailed, w.Same) })
	}
	return true
}

// matchCoding: the request's code is one of want, or a specialisation of
// one of them.
func matchCoding(want []adapter.Coding, have adapter.Coding, unknown bool) bool {
	if len(want) == 0 {
		return true
	}
	if have.IsZero() {
		return unknown
	}
	return slices.ContainsFunc(want, func(c adapter.Coding) bool { return subsumes(c, have) })
}

// anyShared: the information carries at least one of the wanted codes.
// These are facts about the information, never unknown: no codes means
// none.
func anyShared(want, have []adapter.Coding) bool {
	if len(want) == 0 {
		return true
	}
	for _, w := range want {
		if slices.ContainsFunc(have, w.Same) {
			return true
		}
	}
	return false
}

// matchData: some data entry names the request's information (instance),
// or it or a resource it belongs to (related, dependents). authoredby
// needs the author, which requests do not carry: it is treated as unknown.
func (p *Provision) matchData(req *Request, unknown bool) bool {
	if len(p.Data) == 0 {
		return true
	}
	if req.Data == "" && len(req.Related) == 0 {
		return unknown
	}
	for _, d := range p.Data {
		switch d.Meaning {
		case MeaningInstance:
			if d.Reference == req.Data {
				return true
			}
		case MeaningRelated, MeaningDependents:
			if d.Reference == req.Data || slices.Contains(req.Related, d.Reference) {
				return true
			}
		default:
			if unknown {
				return true
			}
		}
	}
	return false
}

func matchTime(p Period, t time.Time, unknown bool) bool {
	if p.IsZero() {
		return true
	}
	if t.IsZero() {
		return unknown
	}
	return p.Contains(t)
}

package consent

import (
	"slices"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// matches reports whether every criterion p populates matches req at now.
// t is the provision's effective type: an unknown request attribute matches
// a deny criterion and never a permit one.
func (p *Provision) matches(req *Request, now time.Time, t Type) bool {
	unknown := t == Deny
	return p.Period.Contains(now) &&
		p.matchActors(req.Actor, unknown) &&
		matchCoding(p.Actions, req.Action, unknown) &&
		matchCoding(p.Purposes, req.Purpose, unknown) &&
		anyShared(p.Classes, req.Classes) &&
		anyShared(p.Codes, req.Codes) &&
		anyShared(p.SecurityLabels, req.SecurityLabels) &&
		p.matchData(req, unknown) &&
		matchTime(p.DataPeriod, req.DataTime, unknown)
}

// matchActors: some actor's role subsumes the request's role and its
// reference is the request's. An actor entry without a role matches any
// role; one without a usable reference (display only) matches any actor
// in a deny and none in a permit.
func (p *Provision) matchActors(a RequestActor, unknown bool) bool {
	if len(p.Actors) == 0 {
		return true
	}
	if a.Reference == "" {
		return unknown
	}
	for _, pa := range p.Actors {
		if pa.roleMatches(a.Role, unknown) && (pa.Reference == a.Reference || pa.Reference == "" && unknown) {
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

package intake

import (
	"bytes"
	"context"
	"strings"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/access"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/adapter/routing"
)

// build looks up earlier submissions, assigns ids, resolves urn:uuid
// references between entries, and assembles the batch for the store.
// With guess (see optimistic), it reads nothing first and plans every
// entry as new: the intake script refuses the batch if one is not.
func (s *Service) build(ctx context.Context, c Caller, plans []*plan, guess bool) (*adapter.IntakeBatch, error) {
	q := s.lookup(c, plans)
	var found *adapter.IntakeFound
	if guess && len(q.Patients) == 0 && len(q.Active) == 0 && len(q.Records) == 0 {
		found = &adapter.IntakeFound{Existing: make([]string, len(q.Keys)), Consents: map[string][][]byte{}, Active: map[string]string{},
			Records: map[string][]byte{}}
	} else {
		var err error
		if found, err = s.store.IntakeLookups(ctx, q); err != nil {
			return nil, err
		}
	}
	if err := markExisting(plans, found.Existing); err != nil {
		return nil, err
	}
	if err := s.supersede(ctx, c, plans); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	urns := map[string]string{}
	for _, p := range plans {
		id := p.sub.Existing
		if id == "" {
			id = p.sub.ID
		}
		if id == "" {
			id = s.newID()
		}
		p.sub.ID = id
		if p.entry.Tx != nil && isURN(p.entry.Tx.FullURL) {
			urns[p.entry.Tx.FullURL] = p.res.Type + "/" + id
		}
	}
	batch := &adapter.IntakeBatch{Practice: c.Org, Now: now, Routing: s.mappings.Routing(now, s.staleAfter)}
	facts := s.patientFacts(ctx, c, plans, q.Records, found.Records)
	consents := s.batchConsents(ctx, c, plans, urns, found.Consents)
	for _, p := range plans {
		if err := s.fill(p, c, urns, now, facts, consents); err != nil {
			return nil, err
		}
		batch.Items = append(batch.Items, p.sub)
	}
	if err := s.flagDuplicates(ctx, plans, found.Active, subjectAliases(plans, found.Records)); err != nil {
		return nil, err
	}
	if err := s.tellContactsArrived(ctx, c, plans, now); err != nil {
		return nil, err
	}
	if s.stats != nil { // the report counters go with the referral (issue 22)
		day := adapter.StatsDay(now, s.loc)
		for _, p := range plans {
			if t := p.sub.Task; t != nil && p.sub.Existing == "" {
				p.sub.Stats = intakeStats(t, day)
			}
		}
	}
	return batch, nil
}

// lookup names what build reads before it writes, so the store can read
// it all at once: every entry's identifiers and, for each referral whose
// patient is named outright, the patient's Consents and the active
// referral for the same need. (A patient named by a urn:uuid of the
// request is known only once ids are assigned; build reads theirs then.)
func (s *Service) lookup(c Caller, plans []*plan) adapter.IntakeLookup {
	q := adapter.IntakeLookup{Practice: c.Org}
	asked, read := map[string]bool{}, map[string]bool{}
	for _, p := range plans {
		q.Keys = append(q.Keys, p.keys...)
		if p.ref == nil || p.ref.Subject == "" || isURN(p.ref.Subject) || p.safety.Matched() {
			continue
		}
		if !read[p.ref.Subject] {
			read[p.ref.Subject] = true
			q.Records = append(q.Records, p.ref.Subject)
		}
		if k := adapter.ActiveKey(c.Org, p.ref.Subject, p.decision.Need); k != "" {
			q.Active = append(q.Active, k)
		}
		if s.cfg.ConsentRequired && !asked[p.ref.Subject] {
			asked[p.ref.Subject] = true
			q.Patients = append(q.Patients, p.ref.Subject)
		}
	}
	return q
}

// flagDuplicates stops a second active referral for the same patient and
// need (issue 11): it is accepted for the record and its Task rejected as a
// possible duplicate, naming the active one, instead of being queued twice.
// known holds what the lookup already read.
//
// The patient is looked for under both references it goes by (aliases: by
// NHS number, and as the Patient the practice sent with it), so a second
// referral naming the patient the other way is caught too.
func (s *Service) flagDuplicates(ctx context.Context, plans []*plan, known, aliases map[string]string) error {
	var keys []string
	var subs []*adapter.Submission
	var of []int // keys[i] is subs[of[i]]'s
	for _, p := range plans {
		if t := p.sub.Task; t != nil && p.sub.Existing == "" && (t.Status == adapter.TaskRequested || t.Held()) {
			if k := adapter.ActiveKey(t.Practice, t.Patient, t.Need); k != "" {
				subs = append(subs, p.sub)
				keys, of = append(keys, k), append(of, len(subs)-1)
				if alias := adapter.ActiveKey(t.Practice, aliases[t.Patient], t.Need); alias != "" {
					keys, of = append(keys, alias), append(of, len(subs)-1)
				}
			}
		}
	}
	found, err := s.activeReferrals(ctx, keys, known)
	if err != nil {
		return err
	}
	active := make([]string, len(subs))
	for i, id := range found {
		if id != "" && active[of[i]] == "" {
			active[of[i]] = id
		}
	}
	for i, sub := range subs {
		if active[i] == "" {
			sub.Active = adapter.ActiveKey(sub.Task.Practice, sub.Task.Patient, sub.Task.Need)
			continue
		}
		bs, _ := adapter.BusinessStatus(adapter.BSDuplicate)
		t := sub.Task
		t.Status, t.BusinessStatus, t.FirstContactDue = adapter.TaskRejected, bs, time.Time{}
		t.StatusReason = "Possible duplicate: Task/" + active[i] + " for the same patient and need is still active; update that referral instead"
		sub.Candidates, sub.Route, t.Route = nil, nil, nil
		t.HeldSince, t.HeldFrom, t.HeldBS = time.Time{}, "", "" // not waiting for consent either
		t.SignOffSince = time.Time{}                            // nor for sign-off
	}
	return nil
}

// subjectAliases maps each referral's patient reference to the other
// reference the patient goes by, where the practice sent its Patient: by
// NHS number to Patient/{id}, and back. A Patient of the request gives
// its own; a stored one, what the lookup read of it (its stamped id and
// its NHS number).
func subjectAliases(plans []*plan, stored map[string][]byte) map[string]string {
	out := map[string]string{}
	pair := func(id string, nhs adapter.Identifier) {
		if id != "" && nhs.System == adapter.SystemNHSNumber {
			refs := access.PatientRefs(id, nhs) // Patient/{id}, Patient?identifier=...
			out[refs[0]], out[refs[1]] = refs[1], refs[0]
		}
	}
	for _, p := range plans {
		if p.res.Type == adapter.KindPatient {
			pair(p.sub.ID, p.patient)
		}
	}
	for _, body := range stored {
		pair(fhir.ResourceID(body), fhir.ReadStoredPatient(body).Identifier)
	}
	return out
}

func isURN(u string) bool {
	return strings.HasPrefix(u, "urn:uuid:") || strings.HasPrefix(u, "urn:oid:")
}

// activeReferrals answers, per key, from what the lookup read, and asks
// the store about the rest.
func (s *Service) activeReferrals(ctx context.Context, keys []string, known map[string]string) ([]string, error) {
	out := make([]string, len(keys))
	var ask []string
	var at []int
	for i, k := range keys {
		if id, ok := known[k]; ok {
			out[i] = id
		} else {
			ask, at = append(ask, k), append(at, i)
		}
	}
	if len(ask) == 0 {
		return out, nil
	}
	ids, err := s.store.ActiveReferrals(ctx, ask)
	if err != nil {
		return nil, err
	}
	for j, i := range at {
		out[i] = ids[j]
	}
	return out, nil
}

// markExisting sets each plan's Submission, marking those whose
// identifiers (or If-None-Exist condition) the practice already used:
// found holds the ids the lookup found, one per key of the plans in order.
// Keys of one entry naming two different earlier resources refuse it:
// with an If-None-Exist condition 412, as FHIR's conditional create has
// for more than one match (http.html#ccreate); else 409, since the
// resource cannot be both.
func markExisting(plans []*plan, found []string) error {
	i := 0
	for _, p := range plans {
		p.sub = &adapter.Submission{Kind: p.res.Type, Identifier: p.identifier(), Identifiers: p.identifiers()}
		for range p.keys {
			switch f := found[i]; {
			case p.sub.Existing == "":
				p.sub.Existing = f
			case f != "" && f != p.sub.Existing:
				return locate(twoMatches(p), p)
			}
			i++
		}
	}
	return nil
}

func twoMatches(p *plan) error {
	if !p.entry.IfNoneExist.IsZero() {
		return adapter.Errorf(adapter.EPRECONDITION,
			"the If-None-Exist condition and the %s's identifiers match more than one %s the practice sent", p.res.Type, p.res.Type)
	}
	return adapter.Errorf(adapter.ECONFLICT,
		"the %s's identifiers name two different %ss the practice sent before", p.res.Type, p.res.Type).At(p.res.Type + ".identifier")
}

// fill completes a new entry's Submission: stamped JSON, Task and route.
func (s *Service) fill(p *plan, c Caller, urns map[string]string, now time.Time, facts factsFunc, consents consentsFunc) error {
	if p.sub.Existing != "" {
		return nil
	}
	raw := fhir.RewriteReferences(p.res.Raw, urns)
	stamped, err := fhir.Stamp(raw, p.sub.ID, max(1, p.sub.Version), now)
	if err != nil {
		return adapter.Errorf(adapter.ESTRUCTURE, "could not store the resource: %v", err)
	}
	p.sub.JSON = stamped
	switch {
	case p.ref != nil:
		// A copy: after a concurrent create the batch is planned again with
		// new ids, so the parsed referral must keep its urn:uuid references.
		ref := *p.ref
		ref.ID, ref.Practice = p.sub.ID, c.Org
		ref.Subject = resolve(ref.Subject, urns)
		ref.Requester = resolve(ref.Requester, urns)
		p.sub.Task = s.newTask(&ref, p.decision, now)
		p.sub.Task.Source = adapter.SourceOf(c.Title, ref.Requester, c.Org)
		p.sub.Task.Area, p.sub.Task.Need = s.mappings.AreaOf(facts(ref.Subject).District, c.Org), p.decision.Need
		p.sub.Task.AgeBand, p.sub.Task.Sex = adapter.AgeBand(facts(ref.Subject), now), adapter.SexOf(facts(ref.Subject).Gender)
		if p.safety.Matched() {
			safetyReject(p.sub.Task, p.safety)
			return nil
		}
		p.sub.Candidates = p.decision.Candidates()
		p.sub.Route = s.mappings.RouteSteps(p.decision, facts(ref.Subject), now)
		p.sub.Task.Route = p.sub.Route
		if s.cfg.SignOffRequired && !p.sub.Task.Source.Clinical() {
			holdForSignOff(p, now)
			return nil
		}
		return s.holdUnlessConsented(p, consents, now)
	case p.consent != nil:
		p.sub.Patient = resolve(p.consent.Patient, urns)
		if bytes.Equal(raw, p.res.Raw) { // no reference rewritten: the parse stands
			e := p.engine
			e.ID = p.sub.ID
			s.parser.KeepConsent(stamped, e)
		}
	}
	return nil
}

func resolve(ref string, urns map[string]string) string {
	if to, ok := urns[ref]; ok {
		return to
	}
	return ref
}

// newTask creates the referral's Task: requested, routed by the decision.
// The store sets its owner from the decision's candidates.
func (s *Service) newTask(r *adapter.Referral, d routing.Decision, now time.Time) *adapter.Task {
	bs, _ := adapter.BusinessStatus(adapter.BSRouted)
	t := &adapter.Task{
		ID: r.ID, ReferralID: r.ID, Practice: r.Practice, Patient: r.Subject, Requester: r.Requester,
		Status: adapter.TaskRequested, BusinessStatus: bs, Priority: d.Priority, Rule: d.Rule,
		AuthoredOn: now, LastModified: now, Version: 1, Labels: r.Labels, Written: r.AuthoredOn,
	}
	if !d.FirstContact.IsZero() {
		t.FirstContactDue = d.FirstContact.Due(now.In(s.loc)).UTC()
	}
	return t
}

// safetyReject turns a new Task into a safety rejection: never queued, no
// owner, the kind as businessStatus and the pathway as the reason, so the
// referrer reads it in the response to the POST.
func safetyReject(t *adapter.Task, f adapter.SafetyFinding) {
	bs, _ := adapter.BusinessStatus(string(f.Kind))
	t.Status, t.BusinessStatus, t.StatusReason = adapter.TaskRejected, bs, f.Pathway
	t.Rule, t.FirstContactDue = "safety:"+f.Screen, time.Time{}
	if !t.Priority.Valid() {
		t.Priority = adapter.PriorityRoutine
	}
}

// results loads what each entry resolved to, for the response.
func (s *Service) results(ctx context.Context, plans []*plan) ([]*Result, error) {
	out := make([]*Result, len(plans))
	for i, p := range plans {
		r := &Result{Kind: p.res.Type, ID: p.sub.ID, JSON: p.sub.JSON, Task: p.sub.Task, Existing: p.sub.Existing != "",
			Placement: p.sub.Placement, Version: max(1, p.sub.Version)}
		if r.Existing {
			if err := s.loadExisting(ctx, r); err != nil {
				return nil, err
			}
		}
		out[i] = r
	}
	return out, nil
}

func (s *Service) loadExisting(ctx context.Context, r *Result) error {
	var err error
	switch r.Kind {
	case adapter.KindServiceRequest:
		if r.JSON, err = s.store.ServiceRequest(ctx, r.ID); err != nil {
			return err
		}
		r.Task, err = s.store.Task(ctx, r.ID)
	case adapter.KindConsent:
		r.JSON, _, err = s.store.Consent(ctx, r.ID)
		r.Version = fhir.StoredVersion(r.JSON)
	case adapter.KindPatient:
		r.JSON, _, err = s.store.Patient(ctx, r.ID)
	}
	return err
}

package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Consent holds (issue 4): the indexes that find a patient's referrals and
// the referrals waiting for consent, and the atomic write of consent moves.

// consentIndexCmds indexes a new referral under its patient, and among the
// consent holds or the sign-off holds when it is created waiting for
// consent or sign-off. They run inside intake.lua with the referral's
// other writes.
func (s *conn) consentIndexCmds(practice string, sub *adapter.Submission) [][]string {
	t := sub.Task
	if t == nil {
		return nil
	}
	var cmds [][]string
	if t.Patient != "" {
		cmds = append(cmds, []string{"SADD", s.k.patientReferrals(practice, t.Patient), sub.ID})
	}
	if t.ConsentHeld() {
		cmds = append(cmds, []string{"ZADD", s.k.consentHolds(), msString(t.HeldSince), sub.ID})
	}
	if t.SignOffHeld() {
		cmds = append(cmds, []string{"ZADD", s.k.signOffHolds(), msString(t.SignOffSince), sub.ID})
	}
	return cmds
}

// PatientConsents returns the JSON of every Consent the practice sent for
// the patient, under either reference it goes by (patient_alias_lib.lua).
func (s *ConsentStore) PatientConsents(ctx context.Context, practice, patient string) ([][]byte, error) {
	vals, err := patientConsentsScript.Run(ctx, s.c, []string{s.k.patientConsents(patient)},
		s.patientConsentsArgs(practice, patient)...).StringSlice()
	if err != nil {
		return nil, s.fail(err)
	}
	return unpackConsents(vals)
}

// patientConsentsArgs are patient_consents.lua's arguments: the patient
// is read under both references it goes by (patient_alias_lib.lua).
func (s *conn) patientConsentsArgs(practice, patient string) []any {
	return []any{s.k.consentPrefix(), practice, patient, s.k.patientConsents(""), s.k.patientAliasArgs(practice)}
}

// unpackConsents reads patient_consents.lua's answer, the stored json field
// of each Consent, as their JSON (nil when there are none).
func unpackConsents(vals []string) ([][]byte, error) {
	if len(vals) == 0 {
		return nil, nil
	}
	out := make([][]byte, len(vals))
	for i, v := range vals {
		j, err := consentCodec.unpack([]byte(v))
		if err != nil {
			return nil, err
		}
		out[i] = j
	}
	return out, nil
}

// PatientReferrals returns the Tasks of the referrals the practice sent for
// the patient, under either reference it goes by (by NHS number, or as the
// Patient the practice sent), with their onward-referral Tasks.
func (s *ConsentStore) PatientReferrals(ctx context.Context, practice, patient string) ([]*adapter.Task, error) {
	ids, err := patientReferralsScript.Run(ctx, s.c, []string{s.k.patientReferrals(practice, patient)},
		s.k.patientReferrals(practice, ""), patient, s.k.patientAliasArgs(practice)).StringSlice()
	if err != nil {
		return nil, s.fail(err)
	}
	var out []*adapter.Task
	for _, id := range ids {
		ts, err := s.referrals.TasksForReferral(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, ts...)
	}
	return out, nil
}

// ConsentHolds returns up to limit Tasks that began waiting for consent at
// or before cutoff, longest waiting first. Entries of Tasks that no longer
// wait (cancelled by a caller meanwhile) are dropped from the index.
func (s *ConsentStore) ConsentHolds(ctx context.Context, cutoff time.Time, limit int64) ([]*adapter.Task, error) {
	return s.heldSince(ctx, s.k.consentHolds(), (*adapter.Task).ConsentHeld, cutoff, limit)
}

// SignOffHolds returns up to limit Tasks that began waiting for a
// clinician's sign-off at or before cutoff, longest waiting first, dropping
// entries of Tasks that no longer wait, as ConsentHolds does.
func (s *ConsentStore) SignOffHolds(ctx context.Context, cutoff time.Time, limit int64) ([]*adapter.Task, error) {
	return s.heldSince(ctx, s.k.signOffHolds(), (*adapter.Task).SignOffHeld, cutoff, limit)
}

func (s *ConsentStore) heldSince(ctx context.Context, key string, held func(*adapter.Task) bool, cutoff time.Time, limit int64) ([]*adapter.Task, error) {
	ids, err := s.c.ZRangeArgs(ctx, goredis.ZRangeArgs{Key: key, Start: "-inf",
		Stop: msString(cutoff), ByScore: true, Count: limit}).Result()
	if err != nil {
		return nil, s.fail(err)
	}
	tasks, err := s.tasks(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := tasks[:0]
	var stale []any
	for _, t := range tasks {
		if held(t) {
			out = append(out, t)
		} else {
			stale = append(stale, t.ID)
		}
	}
	if len(stale) > 0 {
		if err := s.c.ZRem(ctx, key, stale...).Err(); err != nil {
			return nil, s.fail(err)
		}
	}
	return out, nil
}

// UpdatePatientHolds reads the patient's referral Tasks, lets decide
// choose consent moves, and writes them all atomically if no Task changed
// meanwhile, retrying otherwise. decide may run several times and must
// have no side effects. routing places released referrals by capacity.
func (s *ConsentStore) UpdatePatientHolds(ctx context.Context, practice, patient string, routing *adapter.Routing,
	decide func([]*adapter.Task) []adapter.ConsentMove) ([]adapter.ConsentMove, error) {
	for range maxUpdateAttempts {
		tasks, err := s.PatientReferrals(ctx, practice, patient)
		if err != nil {
			return nil, err
		}
		moves := decide(tasks)
		err = s.ApplyConsentMoves(ctx, routing, moves)
		if errors.Is(err, adapter.ErrStaleConsentMove) {
			continue
		}
		return moves, err
	}
	return nil, adapter.Errorf(adapter.ECONFLICT, "the patient's referrals are changing too often; try again")
}

// consentMoveJSON is one move of apply_consent_moves.lua's payload.
type consentMoveJSON struct {
	ID      string       `json:"id"`
	Key     string       `json:"key"`
	Expect  int          `json:"expect"`
	Set     []string     `json:"set"`
	Del     []string     `json:"del"`
	ZRem    []string     `json:"zrem"`
	ZAdd    []zaddJSON   `json:"zadd"`
	Place   []stepJSON   `json:"place,omitempty"`
	Score   float64      `json:"score"`
	Release *releaseJSON `json:"release,omitempty"`
	// The duplicate-check index and this referral's field in it, freed
	// when the referral ends.
	Active  string `json:"active,omitempty"`
	ActiveF string `json:"activeField,omitempty"`
	Hist    string `json:"hist"`
	Entry   string `json:"entry"`
	// The Task event that announces the move (eventFields).
	Ev []string `json:"ev"`
	// The placing counters of a referral released from a hold it waited in
	// from the start, and the service it is queued at when not placed.
	Stats *intakeStats `json:"stats,omitempty"`
	Owner string       `json:"owner,omitempty"`
}

type zaddJSON struct {
	Key   string  `json:"key"`
	Score float64 `json:"score"`
}

type releaseJSON struct {
	Cap string `json:"cap"`
	Svc string `json:"svc"`
}

// ApplyConsentMoves writes consent moves, all or none, with what each
// implies: a paused referral leaves its queue, lease and waitlist and joins
// the consent holds; a released one (by consent or by a clinician's
// sign-off) leaves the holds and, back to requested, rejoins its queue
// (keeping its capacity slot) or is placed by capacity along its route; a
// signed-off one still without consent moves from the sign-off holds to
// the consent holds; an expired one is cancelled and gives back its slot. A placement is recorded on the move (Placement, and After's owner,
// business status, reason and slot). adapter.ErrStaleConsentMove when a
// Task is no longer at its Before version.
func (s *ConsentStore) ApplyConsentMoves(ctx context.Context, routing *adapter.Routing, moves []adapter.ConsentMove) error {
	if len(moves) == 0 {
		return nil
	}
	// A request's moves (a clinician's sign-off) carry its audit record;
	// those of a Consent's intake were recorded by the intake script, those
	// of a job have none.
	slot, recs := stepAudit(ctx, http.StatusOK)
	payload := struct {
		Routing *routingJSON      `json:"routing,omitempty"`
		Now     int64             `json:"now"`
		Moves   []consentMoveJSON `json:"moves"`
		Audit   *scriptAudit      `json:"audit,omitempty"`
		taskLog
	}{taskLog: s.taskLog(), Now: moves[0].After.LastModified.UnixMilli(), Audit: s.auditInScript(recs)}
	if routing != nil {
		payload.Routing = s.routing(routing)
	}
	for _, m := range moves {
		j := s.consentMove(m, routing != nil)
		if len(m.Stats) > 0 {
			var err error
			if j.Stats, err = s.referrals.intakeStats(m.Stats); err != nil {
				return err
			}
			j.Owner = m.After.Owner
		}
		payload.Moves = append(payload.Moves, j)
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("redis: consent moves: %w", err)
	}
	raw, err := applyConsentMovesScript.Run(ctx, s.c, []string{s.k.consentHolds()}, body).Text()
	if err != nil {
		return s.fail(err)
	}
	var res struct {
		Conflict   string          `json:"conflict"`
		Placements []placementJSON `json:"placements"`
	}
	if err := json.Unmarshal([]byte(raw), &res); err != nil {
		return fmt.Errorf("redis: consent moves result: %w", err)
	}
	if res.Conflict != "" {
		return adapter.ErrStaleConsentMove
	}
	if slot != nil {
		slot.Wrote(recs...)
	}
	for i := range moves {
		if i < len(res.Placements) && res.Placements[i].Own != "" {
			res.Placements[i].apply(moves[i].After)
			pl := res.Placements[i].placement()
			moves[i].Placement = &pl
		}
	}
	return nil
}

func (s *ConsentStore) consentMove(m adapter.ConsentMove, routing bool) consentMoveJSON {
	b, a := &m.Before, m.After
	entry, _ := json.Marshal(m.History)
	j := consentMoveJSON{ID: a.ID, Key: s.k.task(a.ID), Expect: b.Version, Set: taskFields(a), Del: consentCleared(a),
		ZRem: []string{}, ZAdd: []zaddJSON{}, Score: queueScore(a), Hist: s.k.history(a.ID), Entry: string(entry),
		Ev: s.eventFields(a.Event())}
	leave := []string{s.k.queue(b.Owner), s.k.leases(b.Owner), s.k.waitlist(b.Owner)}
	switch m.Kind {
	case adapter.MovePause:
		j.ZRem = leave
		j.ZAdd = []zaddJSON{{Key: s.k.consentHolds(), Score: float64(a.HeldSince.UnixMilli())}}
	case adapter.MoveAwaitConsent:
		j.ZRem = []string{s.k.signOffHolds()}
		j.ZAdd = []zaddJSON{{Key: s.k.consentHolds(), Score: float64(a.HeldSince.UnixMilli())}}
	case adapter.MoveRelease:
		j.ZRem = []string{s.k.consentHolds(), s.k.signOffHolds()}
		if a.Status != adapter.TaskRequested {
			break
		}
		place := m.Place
		if len(place) == 0 {
			place = a.Route
		}
		if b.Reserved == "" && routing && len(place) > 0 {
			j.Place = s.steps(place, "")
		} else {
			j.ZAdd = []zaddJSON{{Key: s.k.queue(a.Owner), Score: j.Score}}
		}
	case adapter.MoveExpire:
		j.ZRem = append(leave, s.k.consentHolds(), s.k.signOffHolds())
		j.Active, j.ActiveF = s.k.activeReferrals(), adapter.ActiveKey(a.Practice, a.Patient, a.Need)
		if b.Reserved != "" {
			j.Release = &releaseJSON{Cap: s.k.capacity(b.Reserved), Svc: b.Reserved}
		}
	}
	return j
}

// consentCleared are the fields a consent move may empty (HSET cannot
// write ""): the holds, the lease, the reason.
func consentCleared(t *adapter.Task) []string {
	out := []string{}
	for f, v := range map[string]string{fHeldSince: msString(t.HeldSince), fHeldFrom: string(t.HeldFrom), fHeldBS: t.HeldBS,
		fSignOff: msString(t.SignOffSince), fClaimant: t.Claimant, fClaimNm: t.ClaimantName, fClaimTitle: t.ClaimantTitle,
		fLease: msString(t.LeaseUntil), fReason: t.StatusReason} {
		if v == "" {
			out = append(out, f)
		}
	}
	return out
}

package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// FindExisting returns, for each (kind, identifier), the id of the resource
// of that kind the practice already sent with that identifier ("" when none).
func (s *ReferralStore) FindExisting(ctx context.Context, practice string, ids []adapter.IdemKey) ([]string, error) {
	if len(ids) == 0 {
		return make([]string, 0), nil
	}
	vals, err := s.c.HMGet(ctx, s.k.idempotency(), idemFields(practice, ids)...).Result()
	if err != nil {
		return nil, s.fail(err)
	}
	return existingIDs(ids, vals), nil
}

func idemFields(practice string, ids []adapter.IdemKey) []string {
	fields := make([]string, len(ids))
	for i, id := range ids {
		fields[i] = idemField(practice, id.Kind, id.Identifier.String())
	}
	return fields
}

// existingIDs reads an HMGET of idemFields: the ids found, "" for none.
func existingIDs(ids []adapter.IdemKey, vals []any) []string {
	out := make([]string, len(ids))
	for i, v := range vals {
		if str, ok := v.(string); ok && !ids[i].Identifier.IsZero() {
			out[i] = str
		}
	}
	return out
}

// intakeItem is one item of intake.lua's payload.
type intakeItem struct {
	ID string `json:"id"`
	// Idems are the idempotency hash's fields for the resource's
	// identifiers (idemField): the script refuses the batch when one is
	// taken, and sets each to the id.
	Idems    []string    `json:"idems,omitempty"`
	Existing bool        `json:"existing"`
	Cmds     [][]string  `json:"cmds"`
	Task     *intakeTask `json:"task,omitempty"`
	// Event is the Task's notification trigger (field, value, ...), added
	// to the stream in the same script so no Task goes unannounced.
	Event []string `json:"ev,omitempty"`
	// The script SETs BlobKey to ARGV[Blob] (or, with BlobField, sets
	// that field of the hash BlobKey): the resource's bytes travel as their
	// own script argument, not escaped inside the JSON payload (which
	// carries text only, and a compressed ServiceRequest is binary).
	// Intake numbers the arguments.
	BlobKey   string `json:"blobkey,omitempty"`
	BlobField string `json:"blobfield,omitempty"`
	Blob      int    `json:"blob,omitempty"`
	blob      []byte
	// Refs (Consent only) are the patient's referral sets, under both
	// references the patient goes by (patient_alias_lib.lua), whose size
	// the script returns once the whole batch is written.
	Refs *intakeRefs `json:"refs,omitempty"`
	// ByValues (ServiceRequest only) index the referral by each of its
	// identifiers' values (keys.go referralsByIdentifier).
	ByValues []intakeByValue `json:"byvalues,omitempty"`
	// Stats are the new referral's report counters (adapter.IntakeStat),
	// added once the script has placed it.
	Stats *intakeStats `json:"stats,omitempty"`
	// Tell (Patient only) are Task changes written with it
	// (adapter.Submission.Tell; task_write_lib.lua).
	Tell []*taskWriteJSON `json:"tell,omitempty"`
}

// intakeStats are a referral's counters as intake.lua reads them: for each
// of Incs, HINCRBY of field M|S|R by N in each hash of Keys (the day's and
// its month's roll-up) and, with P, of field M in the practice's day PKey,
// M and S filled in as the flags say.
type intakeStats struct {
	Keys []string     `json:"keys"`
	PKey string       `json:"pkey"`
	Incs []intakeStat `json:"incs"`
}

type intakeStat struct {
	M        string `json:"m"`
	S        string `json:"s"`
	R        string `json:"r"` // area|need
	N        int64  `json:"n"`
	P        bool   `json:"p,omitempty"`
	Owner    bool   `json:"own,omitempty"`
	Placed   bool   `json:"pl,omitempty"`
	Unplaced bool   `json:"nopl,omitempty"`
	Outcome  bool   `json:"out,omitempty"`
	Skipped  bool   `json:"skip,omitempty"`
}

// intakeStats encodes a referral's counters for the script, as Count
// writes them: the day's hash, its month's roll-up and, for the counters
// practices see, the practice's day. Every counter of one referral is of
// the same day and practice (adapter.Submission.Stats).
func (s *ReferralStore) intakeStats(stats []adapter.IntakeStat) (*intakeStats, error) {
	var out *intakeStats
	for _, st := range stats {
		in := st.StatInc
		if in.N == 0 {
			continue
		}
		if out == nil {
			out = &intakeStats{Keys: []string{s.k.stats(in.Day)}}
			if len(in.Day) == 10 {
				out.Keys = append(out.Keys, s.k.stats(in.Day[:7]))
			}
		}
		is := intakeStat{M: in.Key.Metric, S: in.Key.Service, R: in.Key.Area + "|" + in.Key.Need, N: in.N,
			P: in.Practice != "" && in.Key.PracticeCounted(), Owner: st.Owner, Placed: st.Placed, Unplaced: st.Unplaced,
			Outcome: st.Outcome, Skipped: st.Skipped}
		if is.P {
			pk := s.k.practiceStats(in.Day, in.Practice)
			if out.PKey != "" && out.PKey != pk {
				return nil, errMixedStats
			}
			out.PKey = pk
		}
		if k := s.k.stats(in.Day); k != out.Keys[0] {
			return nil, errMixedStats
		}
		out.Incs = append(out.Incs, is)
	}
	return out, nil
}

var errMixedStats = errors.New("redis: a referral's report counters must be of one day and practice")

// intakeByValue indexes a referral by its identifier's value: field Field
// of hash Key names it, unless it names another referral already, and then
// the set Set holds it.
type intakeByValue struct {
	Key   string `json:"key"`
	Field string `json:"field"`
	Set   string `json:"set"`
}

// intakeRefs are a Consent's patient's referral sets, read by intake.lua
// under both references the patient goes by: Prefix holds the practice's
// sets, Ref the Consent's patient, Args patient_alias_lib.lua's arguments.
type intakeRefs struct {
	Prefix string          `json:"prefix"`
	Ref    string          `json:"ref"`
	Args   json.RawMessage `json:"args"`
}

type intakeTask struct {
	Key        string            `json:"key"`
	Fields     []string          `json:"fields"`
	Score      float64           `json:"score"`
	Candidates []intakeCandidate `json:"candidates"`
	Queued     bool              `json:"queued"`
	Steps      []stepJSON        `json:"steps,omitempty"` // with routing: place by capacity
	Mod        int64             `json:"mod"`             // last change (unix ms), for the Task index
}

type intakeCandidate struct {
	Service string `json:"svc"`
	Queue   string `json:"queue"`
}

// Intake writes every Submission of the batch not marked Existing, all or
// nothing, in one Lua script. With b.Routing, each ServiceRequest's Task is
// placed by live capacity along its Route: a slot is reserved at the first
// service that can take it, or it is waitlisted, or it goes to the link
// workers (Submission.Placement says which). Without, it goes to its first
// candidate. Either way it is queued where it went when requested, and
// Task.Owner is set. If a Submission's identifier was taken concurrently,
// nothing is written and adapter.ErrConcurrentCreate is returned.
func (s *ReferralStore) Intake(ctx context.Context, b *adapter.IntakeBatch) error {
	items := make([]intakeItem, len(b.Items))
	args := []any{nil} // ARGV[1] is the payload
	for i, sub := range b.Items {
		var err error
		if items[i], err = s.intakeItem(b, sub); err != nil {
			return err
		}
		if it := &items[i]; it.blob != nil {
			args = append(args, it.blob)
			it.Blob = len(args)
		}
	}
	var routing *routingJSON
	if b.Routing != nil {
		routing = s.routing(b.Routing)
		var steps [][]stepJSON
		for _, it := range items {
			if it.Task != nil {
				steps = append(steps, it.Task.Steps)
			}
		}
		routing.only(steps...)
	}
	slot := adapter.AuditSlotFrom(ctx)
	var recs []adapter.AuditRecord
	if slot != nil {
		recs = intakeAudit(slot.Base, b)
	}
	payload, err := json.Marshal(struct {
		Items   []intakeItem `json:"items"`
		Routing *routingJSON `json:"routing,omitempty"`
		taskLog
		Audit *scriptAudit `json:"audit,omitempty"`
	}{items, routing, s.taskLog(), s.auditInScript(recs)})
	if err != nil {
		return fmt.Errorf("redis: intake payload: %w", err)
	}
	args[0] = payload
	raw, err := intakeScript.Run(ctx, s.c, []string{s.k.idempotency()}, args...).Text()
	if err != nil {
		return s.fail(err)
	}
	var res struct {
		Retry      bool            `json:"retry"`
		Owners     []string        `json:"owners"`
		Placements []placementJSON `json:"placements"`
		Refs       []int           `json:"refs"`
	}
	if err := json.Unmarshal([]byte(raw), &res); err != nil {
		return fmt.Errorf("redis: intake result: %w", err)
	}
	if res.Retry {
		return adapter.ErrConcurrentCreate
	}
	if slot != nil {
		slot.Wrote(recs...)
	}
	return applyOwners(b, res.Owners, res.Placements, res.Refs)
}

// intakeAudit is the audit record of each resource of an intake request,
// which the intake script writes with them: created (201), a new version
// of a withdrawn Consent (200), or found already sent with its identifier
// (200).
func intakeAudit(base adapter.AuditRecord, b *adapter.IntakeBatch) []adapter.AuditRecord {
	recs := make([]adapter.AuditRecord, 0, len(b.Items))
	for _, sub := range b.Items {
		r := base
		r.Action, r.Outcome, r.Entity = adapter.AuditCreate, http.StatusCreated, sub.Kind+"/"+sub.ID
		switch {
		case sub.Existing != "":
			r.Outcome, r.Entity = http.StatusOK, sub.Kind+"/"+sub.Existing
		case sub.Version > 1:
			r.Action, r.Outcome = adapter.AuditUpdate, http.StatusOK
		}
		recs = append(recs, r)
	}
	return recs
}

func applyOwners(b *adapter.IntakeBatch, owners []string, placements []placementJSON, refs []int) error {
	if len(owners) != len(b.Items) || (placements != nil && len(placements) != len(b.Items)) || len(refs) != len(b.Items) {
		return errors.New("redis: intake result does not match the batch")
	}
	for i, sub := range b.Items {
		sub.Referrals = refs[i]
		if sub.Task == nil || sub.Existing != "" {
			continue
		}
		sub.Task.Owner = owners[i]
		if placements != nil && placements[i].Own != "" {
			placements[i].apply(sub.Task)
			pl := placements[i].placement()
			sub.Placement = &pl
		}
	}
	return nil
}

func (s *ReferralStore) intakeItem(b *adapter.IntakeBatch, sub *adapter.Submission) (intakeItem, error) {
	practice := b.Practice
	it := intakeItem{ID: sub.ID, Existing: sub.Existing != ""}
	idents := identifiersOf(sub)
	if sub.Version <= 1 {
		for _, id := range idents {
			it.Idems = append(it.Idems, idemField(practice, sub.Kind, id.String()))
		}
	}
	switch sub.Kind {
	case adapter.KindServiceRequest:
		it.BlobKey, it.blob = s.k.serviceRequest(sub.ID), srCodec.pack(sub.JSON)
		it.Cmds = append([][]string{}, s.consentIndexCmds(practice, sub)...) // never null for cjson
		if t := sub.Task; t != nil && sub.Existing == "" {
			it.Cmds = append(it.Cmds, []string{"ZADD", s.k.taskCreated(), msString(t.AuthoredOn), sub.ID})
		}
		if sub.Existing == "" {
			for _, id := range idents {
				it.ByValues = append(it.ByValues, intakeByValue{Key: s.k.referralsByIdentifier(), Field: id.Value,
					Set: s.k.referralIdentifier(id.Value)})
			}
		}
	case adapter.KindConsent:
		// Compressed (codec.go), with the identifier it was created under
		// beside it for the retention purge, whose Lua cannot decompress.
		it.BlobKey, it.BlobField, it.blob = s.k.consent(sub.ID), hJSON, consentCodec.pack(sub.JSON)
		it.Cmds = [][]string{{"HSET", s.k.consent(sub.ID), hPractice, practice, hPatient, sub.Patient, hIdent, consentIdent(sub)}}
		if sub.Patient != "" {
			it.Cmds = append(it.Cmds, []string{"SADD", s.k.patientConsents(sub.Patient), sub.ID})
			it.Refs = &intakeRefs{Prefix: s.k.patientReferrals(practice, ""), Ref: sub.Patient, Args: json.RawMessage(s.k.patientAliasArgs(practice))}
		}
	case adapter.KindPatient:
		it.BlobKey, it.BlobField, it.blob = s.k.patient(sub.ID), hJSON, sub.JSON
		it.Cmds = [][]string{{"HSET", s.k.patient(sub.ID), hPractice, practice}}
		for _, w := range sub.Tell {
			it.Tell = append(it.Tell, s.taskWrite(w))
		}
	}
	if sub.Active != "" {
		it.Cmds = append(it.Cmds, []string{"HSET", s.k.activeReferrals(), sub.Active, sub.ID})
	}
	if t := sub.Task; t != nil && sub.Existing == "" {
		var err error
		if it.Stats, err = s.intakeStats(sub.Stats); err != nil {
			return it, err
		}
		it.Event = s.eventFields(t.Event())
	}
	if t := sub.Task; t != nil {
		// Candidates is never null: cjson decodes null as userdata.
		it.Task = &intakeTask{Key: s.k.task(t.ID), Fields: taskFields(t), Score: queueScore(t),
			Queued: t.Status == adapter.TaskRequested, Candidates: []intakeCandidate{}, Mod: t.LastModified.UnixMilli()}
		for _, c := range sub.Candidates {
			it.Task.Candidates = append(it.Task.Candidates, intakeCandidate{Service: c, Queue: s.k.queue(c)})
		}
		if b.Routing != nil && len(sub.Route) > 0 {
			it.Task.Steps = s.steps(sub.Route, "")
		}
	}
	return it, nil
}

// Fields of the Consent and Patient hashes. A Consent's json is
// compressed (consentCodec; plain JSON when stored before compression), a
// Patient's plain JSON. A Consent's ident is the identifier that names it
// in the practice's idempotency entry (system|value, "" when it has none),
// which the retention purge reads; Consents stored before it was written
// have none (the purge then reads their plain JSON).
const (
	hJSON     = "json"
	hPractice = "prac"
	hPatient  = "pat"
	hIdent    = "ident"
)

// identifiersOf are a Submission's identifiers: Identifiers, else
// Identifier alone (none when zero).
func identifiersOf(sub *adapter.Submission) []adapter.Identifier {
	if len(sub.Identifiers) > 0 {
		return sub.Identifiers
	}
	if sub.Identifier.IsZero() {
		return nil
	}
	return []adapter.Identifier{sub.Identifier}
}

// consentIdent is a Consent's ident field: the identifiers intake names it
// by (identifiersOf), which a new version of a withdrawn Consent shares
// with the one it replaces, joined by identSep for the retention purge,
// whose Lua removes their idempotency entries.
func consentIdent(sub *adapter.Submission) string {
	ids := identifiersOf(sub)
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = id.String()
	}
	return strings.Join(parts, identSep)
}

// identSep separates identifiers in a Consent's ident field: U+001F, which
// no FHIR string may hold.
const identSep = "\x1f"

// ReferralsByIdentifier returns the ids of the ServiceRequests with a
// business identifier of the value (any of theirs), whatever its system and whichever
// practice sent them: callers check the system and who may see them. They
// are the one the value's field of the hash names and those of its set
// (keys.go referralsByIdentifier), read in one step.
func (s *ReferralStore) ReferralsByIdentifier(ctx context.Context, value string) ([]string, error) {
	var first *goredis.StringCmd
	var more *goredis.StringSliceCmd
	_, err := s.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		first = p.HGet(ctx, s.k.referralsByIdentifier(), value)
		more = p.SMembers(ctx, s.k.referralIdentifier(value))
		return nil
	})
	if err != nil && !errors.Is(err, goredis.Nil) {
		return nil, s.fail(err)
	}
	if err := first.Err(); err != nil && !errors.Is(err, goredis.Nil) {
		return nil, s.fail(err)
	}
	if err := more.Err(); err != nil {
		return nil, s.fail(err)
	}
	ids := more.Val()
	if id := first.Val(); id != "" {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// ServiceRequest returns the stored ServiceRequest JSON.
func (s *ReferralStore) ServiceRequest(ctx context.Context, id string) ([]byte, error) {
	v, err := s.getJSON(ctx, s.k.serviceRequest(id), "ServiceRequest")
	if err != nil {
		return nil, err
	}
	return srCodec.unpack(v)
}

// Consent returns the stored Consent JSON and the practice that sent it.
func (s *ReferralStore) Consent(ctx context.Context, id string) (body []byte, practice string, err error) {
	v, practice, err := s.getOwned(ctx, s.k.consent(id), "Consent")
	if err != nil {
		return nil, "", err
	}
	if body, err = consentCodec.unpack(v); err != nil {
		return nil, "", err
	}
	return body, practice, nil
}

// Patient returns the stored Patient JSON and the practice that sent it.
func (s *ReferralStore) Patient(ctx context.Context, id string) (body []byte, practice string, err error) {
	return s.getOwned(ctx, s.k.patient(id), "Patient")
}

func (s *ReferralStore) getOwned(ctx context.Context, key, kind string) ([]byte, string, error) {
	v, err := s.c.HMGet(ctx, key, hJSON, hPractice).Result()
	if err != nil {
		return nil, "", s.fail(err)
	}
	j, _ := v[0].(string)
	p, _ := v[1].(string)
	if j == "" {
		return nil, "", adapter.Errorf(adapter.ENOTFOUND, "%s not found", kind)
	}
	return []byte(j), p, nil
}

func (s *ReferralStore) getJSON(ctx context.Context, key, kind string) ([]byte, error) {
	b, err := s.c.Get(ctx, key).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, adapter.Errorf(adapter.ENOTFOUND, "%s not found", kind)
	}
	if err != nil {
		return nil, s.fail(err)
	}
	return b, nil
}

// Task returns the Task with the given id.
func (s *ReferralStore) Task(ctx context.Context, id string) (*adapter.Task, error) {
	h, err := s.c.HGetAll(ctx, s.k.task(id)).Result()
	if err != nil {
		return nil, s.fail(err)
	}
	t := taskFromHash(id, h)
	if t == nil {
		return nil, adapter.Errorf(adapter.ENOTFOUND, "Task not found")
	}
	return t, nil
}

// TasksForReferral returns the referral's own Task (which shares the
// ServiceRequest's id) and any onward-referral Tasks, in that order.
func (s *ReferralStore) TasksForReferral(ctx context.Context, srID string) ([]*adapter.Task, error) {
	ids, err := s.c.SMembers(ctx, s.k.referralTasks(srID)).Result()
	if err != nil {
		return nil, s.fail(err)
	}
	out := make([]*adapter.Task, 0, 1+len(ids))
	for _, id := range append([]string{srID}, ids...) {
		t, err := s.Task(ctx, id)
		if adapter.ErrorCode(err) == adapter.ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// ActiveReferrals returns, for each key, the Task id of the practice's
// active referral for that patient and need ("" when none is active).
func (s *ReferralStore) ActiveReferrals(ctx context.Context, keys []string) ([]string, error) {
	if len(keys) == 0 {
		return make([]string, 0), nil
	}
	vals, err := s.c.HMGet(ctx, s.k.activeReferrals(), keys...).Result()
	if err != nil {
		return nil, s.fail(err)
	}
	return s.stillActive(ctx, vals)
}

// stillActive reads an HMGET of the active-referral index: the Task ids
// found whose Task has not ended ("" for the rest), the index being
// checked against the Task itself.
func (s *ReferralStore) stillActive(ctx context.Context, vals []any) ([]string, error) {
	out := make([]string, len(vals))
	for i, v := range vals {
		id, _ := v.(string)
		if id == "" {
			continue
		}
		if t, err := s.Task(ctx, id); err == nil && !t.Status.Terminal() {
			out[i] = id
		}
	}
	return out, nil
}

package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// maxUpdateAttempts bounds retries of an update that lost a race.
const maxUpdateAttempts = 8

// Claim gives claimant the next referral of a service's queue under a lease
// until the given time; nil when the queue is empty. Expired leases of the
// queue go back first.
//
// The claimant (name and title) becomes the named contact; a claim by
// someone other than the previous named contact is a handover, timestamped.
//
// The Tasks named in exclude are passed by, left in the queue where they
// are (the caller may not have them: issue 17). Each claim made is
// recorded in the audit trail with the claim, naming the Task taken.
func (s *LifecycleStore) Claim(ctx context.Context, service, claimant, name, title string, now, until time.Time, exclude ...string) (*adapter.Task, error) {
	slot, recs := everyStepAudit(ctx, http.StatusOK) // the script names the Task claimed
	res, err := claimScript.Run(ctx, s.c, []string{s.k.queue(service), s.k.leases(service)},
		now.UnixMilli(), until.UnixMilli(), claimant, name, s.k.task(""), s.k.taskIndex(), title, s.auditArg(recs), strings.Join(exclude, " ")).Result()
	if errors.Is(err, goredis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, s.fail(err)
	}
	id, _ := res.(string)
	if slot != nil {
		recs[0].Entity = claimEntity(id)
		slot.Wrote(recs...)
	}
	return s.referrals.Task(ctx, id)
}

// claimEntity is the audit entity of a claim: the Task claimed (claim.lua
// writes the same).
func claimEntity(id string) string { return "Task/" + id + "/claim" }

// Unclaim gives back a claim that must not stand, as if it had not been
// made: the Task returns to its queue at its place, its lease ends and its
// business status and named contact are what they were. It is recorded in
// the audit trail with the change. false when the claimant no longer holds
// it.
func (s *LifecycleStore) Unclaim(ctx context.Context, t *adapter.Task, claimant string, now time.Time) (bool, error) {
	slot, recs := everyStepAudit(ctx, http.StatusOK)
	for i := range recs {
		recs[i].Entity = "Task/" + t.ID + "/claim"
		recs[i].Detail = "given back at once: the patient's consent does not let the claimant have this referral"
	}
	n, err := unclaimScript.Run(ctx, s.c, []string{s.k.queue(t.Owner), s.k.leases(t.Owner), s.k.task(t.ID), s.k.taskIndex()},
		t.ID, claimant, now.UnixMilli(), s.auditArg(recs)).Int()
	if err != nil {
		return false, s.fail(err)
	}
	if slot != nil && n == 1 {
		slot.Wrote(recs...)
	}
	return n == 1, nil
}

// Renew extends claimant's live lease on a Task; false when the caller does
// not hold one (never claimed, someone else's, or expired).
func (s *LifecycleStore) Renew(ctx context.Context, t *adapter.Task, claimant string, now, until time.Time) (bool, error) {
	slot, recs := stepAudit(ctx, http.StatusOK)
	if len(recs) > 0 && recs[0].Entity == "" {
		recs[0].Entity = "Task/" + t.ID + "/lease"
	}
	n, err := renewScript.Run(ctx, s.c, []string{s.k.leases(t.Owner), s.k.task(t.ID)},
		t.ID, claimant, until.UnixMilli(), now.UnixMilli(), s.auditArg(recs)).Int()
	if err != nil {
		return false, s.fail(err)
	}
	if n == 1 && slot != nil {
		slot.Wrote(recs...)
	}
	return n == 1, nil
}

// SweepLeases returns the expired leases of the given services' queues to
// their queues, and says how many went back.
func (s *LifecycleStore) SweepLeases(ctx context.Context, services []string, now time.Time) (int, error) {
	total := 0
	for _, svc := range services {
		n, err := sweepLeasesScript.Run(ctx, s.c, []string{s.k.queue(svc), s.k.leases(svc)}, now.UnixMilli(), "", "", "", s.k.task(""), s.k.taskIndex()).Int()
		if err != nil {
			return total, s.fail(err)
		}
		total += n
	}
	return total, nil
}

// UpdateTask reads a Task, lets fn change it, and writes the change
// atomically if nobody changed the Task meanwhile, retrying otherwise. fn
// may run several times and must not have side effects.
func (s *LifecycleStore) UpdateTask(ctx context.Context, id string, fn func(*adapter.Task) (adapter.TaskChange, error)) (*adapter.Task, error) {
	for range maxUpdateAttempts {
		t, err := s.referrals.Task(ctx, id)
		if err != nil {
			return nil, err
		}
		before := *t
		ch, err := fn(t)
		if err != nil {
			return nil, err
		}
		res, err := s.writeChange(ctx, &before, t, ch)
		if err != nil {
			return nil, err
		}
		switch res {
		case "ok":
			return t, nil
		case "full":
			return nil, adapter.ErrNoCapacity
		}
	}
	return nil, adapter.Errorf(adapter.ECONFLICT, "the Task is changing too often; try again")
}

type transitionJSON struct {
	// The Task's own change (fields, history entry, Task event), written
	// by task_write_lib.lua as a parent's or an outcome's Task change is,
	// only while the Task is at the version read.
	taskWriteJSON
	Leave    bool       `json:"leave"`
	Leases   string     `json:"leases"`
	Queue    string     `json:"queue"`
	WL       string     `json:"wl"`
	Cap      string     `json:"cap"`
	Rsv      string     `json:"rsv"`
	Terminal bool       `json:"terminal"`
	Active   string     `json:"active"`
	ActiveF  string     `json:"activeField"`
	Child    *childJSON `json:"child,omitempty"`

	// Where the change is recorded (and Child's creation, announced by
	// childJSON.Ev).
	taskLog

	// Due is the closure summary the change owes the practice, if any.
	Due *dueJSON `json:"due,omitempty"`
	// Incs are the change's report counters (incArgs: key, field, n, ...).
	Incs []string `json:"incs"`
	// Parent is the change of the Task this one is part of, if any.
	Parent *taskWriteJSON `json:"parent,omitempty"`

	// Audit is the request's record, written with the change.
	Audit *scriptAudit `json:"audit,omitempty"`
}

// taskWriteJSON is an adapter.TaskWrite as task_write_lib.lua writes it.
type taskWriteJSON struct {
	ID     string   `json:"id"`
	Key    string   `json:"key"`
	Expect int      `json:"expect"`
	Set    []string `json:"set"`
	Del    []string `json:"del"`
	Hist   string   `json:"hist"`
	Entry  string   `json:"entry"`
	Now    int64    `json:"now"`
	Ev     []string `json:"ev"`
}

func (s *conn) taskWrite(w *adapter.TaskWrite) *taskWriteJSON {
	if w == nil {
		return nil
	}
	entry, _ := json.Marshal(w.History)
	t := w.Task
	return &taskWriteJSON{ID: t.ID, Key: s.k.task(t.ID), Expect: w.Version, Set: taskFields(t), Del: clearedFields(t),
		Hist: s.k.history(t.ID), Entry: string(entry), Now: t.LastModified.UnixMilli(), Ev: s.eventFields(t.Event())}
}

type dueJSON struct {
	Key  string `json:"key"`  // keys.closureDue
	Idx  string `json:"idx"`  // keys.closuresDue
	JSON string `json:"json"` // adapter.ClosureDue
}

type childJSON struct {
	ID    string   `json:"id"`
	Key   string   `json:"key"`
	Set   []string `json:"set"`
	Queue string   `json:"queue"`
	Score float64  `json:"score"`
	Idx   string   `json:"idx"`
	Cap   string   `json:"cap"`
	Svc   string   `json:"svc"`
	// Created is the creation index (taskCreated) and At the child's
	// creation time (unix ms).
	Created string   `json:"created"`
	At      int64    `json:"at"`
	Ev      []string `json:"ev"`
}

func (s *LifecycleStore) writeChange(ctx context.Context, before, after *adapter.Task, ch adapter.TaskChange) (string, error) {
	p := transitionJSON{
		taskWriteJSON: *s.taskWrite(&adapter.TaskWrite{Version: before.Version, Task: after, History: ch.History}),
		Leave:         before.Status == adapter.TaskRequested && after.Status != adapter.TaskRequested,
		Leases:        s.k.leases(before.Owner), Queue: s.k.queue(before.Owner), WL: s.k.waitlist(before.Owner),
		Cap: s.k.capacity(before.Reserved), Rsv: before.Reserved, Terminal: after.Status.Terminal(), taskLog: s.taskLog(),
		Active: s.k.activeReferrals(), ActiveF: adapter.ActiveKey(after.Practice, after.Patient, after.Need),
		Incs: s.incArgs(ch.Stats),
	}
	if c := ch.Child; c != nil {
		p.Child = &childJSON{ID: c.ID, Key: s.k.task(c.ID), Set: taskFields(c), Queue: s.k.queue(c.Owner), Score: queueScore(c),
			Idx: s.k.referralTasks(c.ReferralID), Cap: s.k.capacity(c.Owner), Svc: c.Owner,
			Created: s.k.taskCreated(), At: c.AuthoredOn.UnixMilli(), Ev: s.eventFields(c.Event())}
	}
	p.Parent = s.taskWrite(ch.Parent)
	if ch.Closure != nil {
		due, err := json.Marshal(ch.Closure)
		if err != nil {
			return "", fmt.Errorf("redis: closure due: %w", err)
		}
		p.Due = &dueJSON{Key: s.k.closureDue(after.ID), Idx: s.k.closuresDue(), JSON: string(due)}
	}
	// The request's record rides with its change: an onward referral is a
	// create (201), any other change 200.
	outcome := http.StatusOK
	if ch.Child != nil {
		outcome = http.StatusCreated
	}
	slot, recs := stepAudit(ctx, outcome)
	if len(recs) > 0 && recs[0].Entity == "" {
		recs[0].Entity = "Task/" + after.ID
	}
	p.Audit = s.auditInScript(recs)
	payload, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("redis: transition: %w", err)
	}
	res, err := updateTaskScript.Run(ctx, s.c, []string{p.Key}, payload).Text()
	if err != nil {
		return "", s.fail(err)
	}
	if res == "ok" && slot != nil {
		slot.Wrote(recs...)
	}
	return res, nil
}

// clearedFields are the fields an update emptied (HSET cannot write "").
func clearedFields(t *adapter.Task) []string {
	out := []string{}
	for f, v := range map[string]string{fClaimant: t.Claimant, fClaimNm: t.ClaimantName, fClaimTitle: t.ClaimantTitle, fLease: msString(t.LeaseUntil),
		fReason: t.StatusReason, fPartOf: t.PartOf} {
		if v == "" {
			out = append(out, f)
		}
	}
	return out
}

// History returns a Task's recorded changes, oldest first.
func (s *LifecycleStore) History(ctx context.Context, id string) ([]adapter.HistoryEntry, error) {
	raw, err := s.c.LRange(ctx, s.k.history(id), 0, -1).Result()
	if err != nil {
		return nil, s.fail(err)
	}
	out := make([]adapter.HistoryEntry, 0, len(raw))
	for _, r := range raw {
		var h adapter.HistoryEntry
		if json.Unmarshal([]byte(r), &h) == nil {
			out = append(out, h)
		}
	}
	return out, nil
}

// QueueItem is one waiting referral as a queue listing shows it.
type QueueItem struct {
	Task  *adapter.Task
	Since time.Time
}

// Waiting lists a service's queue in service order (at most limit), and
// its claimed-but-not-accepted referrals.
func (s *LifecycleStore) Waiting(ctx context.Context, service string, limit int64) (waiting, claimed []*adapter.Task, err error) {
	ids, err := s.c.ZRange(ctx, s.k.queue(service), 0, limit-1).Result()
	if err != nil {
		return nil, nil, s.fail(err)
	}
	if waiting, err = s.tasks(ctx, ids); err != nil {
		return nil, nil, err
	}
	ids, err = s.c.ZRange(ctx, s.k.leases(service), 0, limit-1).Result()
	if err != nil {
		return nil, nil, s.fail(err)
	}
	claimed, err = s.tasks(ctx, ids)
	return waiting, claimed, err
}

// QueueDepth is the number of referrals waiting in a service's queue.
func (s *LifecycleStore) QueueDepth(ctx context.Context, service string) (int64, error) {
	n, err := s.c.ZCard(ctx, s.k.queue(service)).Result()
	return n, s.fail(err)
}

// tasks loads several Tasks in one round trip, skipping missing ones.
func (s *conn) tasks(ctx context.Context, ids []string) ([]*adapter.Task, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	pipe := s.c.Pipeline()
	cmds := make([]*goredis.MapStringStringCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HGetAll(ctx, s.k.task(id))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, s.fail(err)
	}
	out := make([]*adapter.Task, 0, len(ids))
	for i, c := range cmds {
		if t := taskFromHash(ids[i], c.Val()); t != nil {
			out = append(out, t)
		}
	}
	return out, nil
}

// TasksByCreation returns up to n Tasks in the order they were created
// (creation time, then id), after the position (created, id), or before
// it when backwards (nearest first); id "" starts at the beginning (or,
// backwards, the end). more says whether Tasks lie beyond those returned.
// The order never changes as Tasks change, and Tasks created later come
// last, so a search paging through it neither skips nor repeats a Task.
func (s *LifecycleStore) TasksByCreation(ctx context.Context, created time.Time, id string, backwards bool, n int) ([]*adapter.Task, bool, error) {
	key := s.k.taskCreated()
	var skip int64
	start, stop := "-inf", "+inf"
	if id != "" {
		score := strconv.FormatInt(created.UnixMilli(), 10)
		tied, err := s.c.ZRangeByScore(ctx, key, &goredis.ZRangeBy{Min: score, Max: score}).Result()
		if err != nil {
			return nil, false, s.fail(err)
		}
		for _, m := range tied { // those at the same time on the near side of id, and id itself
			if !backwards && m <= id || backwards && m >= id {
				skip++
			}
		}
		start = score
	}
	args := goredis.ZRangeArgs{Key: key, Start: start, Stop: stop, ByScore: true, Offset: skip, Count: int64(n + 1)}
	if backwards {
		args = goredis.ZRangeArgs{Key: key, Start: stop, Stop: "-inf", ByScore: true, Rev: true, Offset: skip, Count: int64(n + 1)}
		if id != "" {
			args.Start = start
		}
	}
	ids, err := s.c.ZRangeArgs(ctx, args).Result()
	if err != nil {
		return nil, false, s.fail(err)
	}
	more := len(ids) > n
	if more {
		ids = ids[:n]
	}
	tasks, err := s.tasks(ctx, ids)
	return tasks, more, err
}

// ChangedTasks returns Tasks changed after since (exclusive), oldest
// change first, at most limit, from the Task index: for polling with
// _lastUpdated=gt.
func (s *LifecycleStore) ChangedTasks(ctx context.Context, since time.Time, limit int64) ([]*adapter.Task, error) {
	min := "-inf"
	if !since.IsZero() {
		min = "(" + strconv.FormatInt(since.UnixMilli(), 10)
	}
	ids, err := s.c.ZRangeArgs(ctx, goredis.ZRangeArgs{Key: s.k.taskIndex(), Start: min, Stop: "+inf", ByScore: true, Count: limit}).Result()
	if err != nil {
		return nil, s.fail(err)
	}
	return s.tasks(ctx, ids)
}

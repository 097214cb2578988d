package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// MaxDialogueRecords bounds the messages (and, separately, the safeguarding
// Flags) kept on one referral, so one thread cannot grow without limit.
const MaxDialogueRecords = 1000

// Dialogue hash fields (messages and Flags share the common ones).
const (
	dRef   = "ref"  // ServiceRequest id
	dTask  = "task" // Task id
	dOrg   = "org"  // ODS code of the writer's organisation
	dRole  = "role" // writer's role
	dBy    = "by"   // writer's token subject
	dAt    = "at"   // stored, unix ms
	dDir   = "dir"  // message direction: "p" from the practice, "h" from the holder
	dOK    = "ok"   // patient approved sharing (holder → practice)
	dReply = "irt"  // id of the message answered
	dMeta  = "meta" // categories and security labels (JSON)
	dKind  = "kind" // "closure" for a closure summary (issue 19); absent for a message
	dSum   = "sum"  // "1" when a closure summary carries the holder's summary text
)

type messageMeta struct {
	Categories     []adapter.Coding `json:"cat,omitempty"`
	SecurityLabels []adapter.Coding `json:"sec,omitempty"`
}

// SaveMessage stores a message with its Communication JSON in the
// referral's thread and, when ev is not nil, announces ev on the
// notification stream in the same step.
func (s *DialogueStore) SaveMessage(ctx context.Context, m adapter.Message, body []byte, ev *adapter.TaskEvent) error {
	dir := "h"
	if m.FromPractice {
		dir = "p"
	}
	meta, _ := json.Marshal(messageMeta{m.Categories, m.SecurityLabels})
	fields := []any{hJSON, body, dRef, m.ReferralID, dTask, m.TaskID, hPractice, m.Practice, dDir, dir, dOrg, m.SenderOrg,
		dRole, m.SenderRole, dBy, m.By, dOK, strconv.FormatBool(m.Approved), dReply, m.InResponseTo, dAt, m.Sent.UnixMilli(), dMeta, meta}
	if m.Closure {
		fields = append(fields, dKind, "closure", dSum, boolFlag(m.HasSummary))
	}
	return s.saveDialogue(ctx, s.k.message(m.ID), s.k.thread(m.ReferralID), m.ID, m.Sent, fields, ev, "Communication/"+m.ID, adapter.FlagRecords{})
}

// SaveFlag stores a safeguarding Flag with its JSON under its referral,
// with the audit record of its disclosure and its report counters, and,
// when ev is not nil, announces ev, all in one step.
func (s *DialogueStore) SaveFlag(ctx context.Context, f adapter.SafeguardingFlag, body []byte, ev *adapter.TaskEvent, with adapter.FlagRecords) error {
	fields := []any{hJSON, body, dRef, f.ReferralID, dTask, f.TaskID, hPractice, f.Practice, dOrg, f.AuthorOrg,
		dRole, f.AuthorRole, dBy, f.By, dAt, f.Raised.UnixMilli()}
	return s.saveDialogue(ctx, s.k.flag(f.ID), s.k.referralFlags(f.ReferralID), f.ID, f.Raised, fields, ev, "Flag/"+f.ID, with)
}

// saveDialogue stores one record; the request's audit record (entity
// entity, created) is written with it, and so are with's records.
func (s *DialogueStore) saveDialogue(ctx context.Context, key, index, id string, at time.Time, fields []any, ev *adapter.TaskEvent,
	entity string, with adapter.FlagRecords) error {
	slot, recs := stepAudit(ctx, http.StatusCreated)
	for i := range recs {
		recs[i].Entity = entity
	}
	incs, err := json.Marshal(s.incArgs(with.Stats))
	if err != nil {
		return fmt.Errorf("redis: dialogue counters: %w", err)
	}
	all := append(slices.Clip(recs), with.Disclosure...)
	args := append([]any{id, at.UnixMilli(), MaxDialogueRecords, maxTaskEvents, s.auditArg(all), incs, len(fields)}, fields...)
	if ev != nil {
		args = append(args, s.triggerArgs(adapter.NotifyTrigger{Type: adapter.NotifyEvent, Event: *ev}).Values.([]any)...)
	}
	n, err := saveDialogueScript.Run(ctx, s.c, []string{key, index, s.k.taskEvents()}, args...).Int()
	switch {
	case err != nil:
		return s.fail(err)
	case n == 0:
		return adapter.Errorf(adapter.ECONFLICT, "a record with this id exists")
	case n < 0:
		return adapter.Errorf(adapter.EBUSINESSRULE, "this referral already has %d of these; no more can be added", MaxDialogueRecords)
	}
	if slot != nil {
		slot.Wrote(recs...)
	}
	return nil
}

var messageFields = []string{dRef, dTask, hPractice, dDir, dOrg, dRole, dBy, dOK, dReply, dAt, dMeta, dKind, dSum}

// Message returns a message and its Communication JSON.
func (s *DialogueStore) Message(ctx context.Context, id string) (*adapter.Message, []byte, error) {
	h, err := s.record(ctx, s.k.message(id), "Communication")
	if err != nil {
		return nil, nil, err
	}
	return messageFromHash(id, h), []byte(h[hJSON]), nil
}

// Thread returns a referral's messages, oldest first, with their JSON
// when withBody (else nil bodies).
func (s *DialogueStore) Thread(ctx context.Context, referral string, withBody bool) ([]*adapter.Message, [][]byte, error) {
	var out []*adapter.Message
	var bodies [][]byte
	err := s.dialogue(ctx, s.k.thread(referral), s.k.message, messageFields, withBody, func(id string, h map[string]string) {
		out = append(out, messageFromHash(id, h))
		bodies = append(bodies, bodyOf(h, withBody))
	})
	return out, bodies, err
}

var flagFields = []string{dRef, dTask, hPractice, dOrg, dRole, dBy, dAt}

// Flag returns a safeguarding Flag and its JSON.
func (s *DialogueStore) Flag(ctx context.Context, id string) (*adapter.SafeguardingFlag, []byte, error) {
	h, err := s.record(ctx, s.k.flag(id), "Flag")
	if err != nil {
		return nil, nil, err
	}
	return flagFromHash(id, h), []byte(h[hJSON]), nil
}

// Flags returns a referral's safeguarding Flags, oldest first, with their
// JSON when withBody (else nil bodies).
func (s *DialogueStore) Flags(ctx context.Context, referral string, withBody bool) ([]*adapter.SafeguardingFlag, [][]byte, error) {
	var out []*adapter.SafeguardingFlag
	var bodies [][]byte
	err := s.dialogue(ctx, s.k.referralFlags(referral), s.k.flag, flagFields, withBody, func(id string, h map[string]string) {
		out = append(out, flagFromHash(id, h))
		bodies = append(bodies, bodyOf(h, withBody))
	})
	return out, bodies, err
}

// dialogue reads an index's records in one round trip, skipping any that
// are gone.
func (s *DialogueStore) dialogue(ctx context.Context, index string, key func(string) string, fields []string, withBody bool,
	each func(id string, h map[string]string)) error {
	ids, err := s.c.ZRange(ctx, index, 0, -1).Result()
	if err != nil || len(ids) == 0 {
		return s.fail(err)
	}
	if withBody {
		fields = append([]string{hJSON}, fields...)
	}
	pipe := s.c.Pipeline()
	cmds := make([]*goredis.SliceCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HMGet(ctx, key(id), fields...)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return s.fail(err)
	}
	for i, c := range cmds {
		h := map[string]string{}
		for j, f := range fields {
			if v, ok := c.Val()[j].(string); ok {
				h[f] = v
			}
		}
		if h[dRef] != "" {
			each(ids[i], h)
		}
	}
	return nil
}

func bodyOf(h map[string]string, withBody bool) []byte {
	if !withBody {
		return nil
	}
	return []byte(h[hJSON])
}

func messageFromHash(id string, h map[string]string) *adapter.Message {
	var meta messageMeta
	_ = json.Unmarshal([]byte(h[dMeta]), &meta)
	return &adapter.Message{ID: id, ReferralID: h[dRef], TaskID: h[dTask], Practice: h[hPractice], FromPractice: h[dDir] == "p",
		SenderOrg: h[dOrg], SenderRole: h[dRole], By: h[dBy], Approved: h[dOK] == "true", InResponseTo: h[dReply],
		Sent: msTime(h[dAt]), Categories: meta.Categories, SecurityLabels: meta.SecurityLabels,
		Closure: h[dKind] == "closure", HasSummary: h[dSum] == "1"}
}

func boolFlag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func flagFromHash(id string, h map[string]string) *adapter.SafeguardingFlag {
	return &adapter.SafeguardingFlag{ID: id, ReferralID: h[dRef], TaskID: h[dTask], Practice: h[hPractice],
		AuthorOrg: h[dOrg], AuthorRole: h[dRole], By: h[dBy], Raised: msTime(h[dAt])}
}

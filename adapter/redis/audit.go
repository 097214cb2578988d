package redis

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Audit appends records to the audit stream, returning once they are
// stored; concurrent requests' records share a round trip (groupCommit).
func (s *AuditStore) Audit(ctx context.Context, recs ...adapter.AuditRecord) error {
	if len(recs) == 0 {
		return nil
	}
	return s.fail(s.writes.do(ctx, func(pipe goredis.Pipeliner) {
		for _, r := range recs {
			pipe.XAdd(ctx, &goredis.XAddArgs{Stream: s.k.audit(), Values: auditFields(r)})
		}
	}))
}

// auditFields are the stream entry of a record (field, value, ...): the
// one spelling of a record, whether Audit or a script writes it.
func auditFields(r adapter.AuditRecord) []string {
	return []string{"t", strconv.FormatInt(r.Time.UnixMilli(), 10), "sub", r.Subject, "role", r.Role, "org", r.Org,
		"act", string(r.Action), "kind", r.Kind, "ent", r.Entity, "out", strconv.Itoa(r.Outcome), "rid", r.RequestID, "det", r.Detail}
}

// scriptAudit is the audit records a script adds to the stream before it
// writes anything else, so they are stored with its change or not at all.
type scriptAudit struct {
	Key  string     `json:"key"`
	Recs [][]string `json:"recs"` // auditFields of each record
}

// stepAudit returns the request's audit record, to be written in the same
// step as the change the caller is about to make, with the given outcome
// (the caller may set its entity). None (and a nil slot) when ctx carries
// no slot (background work), or when the request's change was already
// recorded with an earlier step. After the step, the caller tells the
// slot the record was written (AuditSlot.Wrote).
func stepAudit(ctx context.Context, outcome int) (*adapter.AuditSlot, []adapter.AuditRecord) {
	slot := adapter.AuditSlotFrom(ctx)
	if slot == nil || len(slot.Written()) > 0 {
		return nil, nil
	}
	r := slot.Base
	r.Outcome = outcome
	return slot, []adapter.AuditRecord{r}
}

// everyStepAudit is stepAudit for a request that may change several
// things, each recorded (a claim that passes referrals by gives each back
// and takes the next): a record even when one was written already.
func everyStepAudit(ctx context.Context, outcome int) (*adapter.AuditSlot, []adapter.AuditRecord) {
	slot := adapter.AuditSlotFrom(ctx)
	if slot == nil {
		return nil, nil
	}
	r := slot.Base
	r.Outcome = outcome
	return slot, []adapter.AuditRecord{r}
}

// auditArg is what a script needs to write recs, as a script argument
// (audit_lib.lua audit_arg; "" for none).
func (s *conn) auditArg(recs []adapter.AuditRecord) string {
	a := s.auditInScript(recs)
	if a == nil {
		return ""
	}
	b, _ := json.Marshal(a)
	return string(b)
}

// auditInScript returns what a script needs to write recs (nil for none).
func (s *conn) auditInScript(recs []adapter.AuditRecord) *scriptAudit {
	if len(recs) == 0 {
		return nil
	}
	a := &scriptAudit{Key: s.k.audit()}
	for _, r := range recs {
		a.Recs = append(a.Recs, auditFields(r))
	}
	return a
}

// AuditRecords returns matching records, newest first.
func (s *AuditStore) AuditRecords(ctx context.Context, q adapter.AuditQuery) ([]adapter.AuditRecord, error) {
	end, start := "+", "-"
	if !q.Until.IsZero() {
		end = strconv.FormatInt(q.Until.UnixMilli(), 10)
	}
	if !q.Since.IsZero() {
		start = strconv.FormatInt(q.Since.UnixMilli(), 10)
	}
	if q.Before != "" {
		end = "(" + q.Before
	}
	if q.After != "" {
		start = "(" + q.After
	}
	if q.Limit <= 0 || q.Limit > 1001 {
		q.Limit = 100
	}
	forward := q.After != ""
	var out []adapter.AuditRecord
	for len(out) < q.Limit {
		var msgs []goredis.XMessage
		var err error
		if forward {
			msgs, err = s.c.XRangeN(ctx, s.k.audit(), start, end, 500).Result()
		} else {
			msgs, err = s.c.XRevRangeN(ctx, s.k.audit(), end, start, 500).Result()
		}
		if err != nil {
			return nil, s.fail(err)
		}
		for _, m := range msgs {
			r := auditRecord(m)
			if (q.Subject == "" || r.Subject == q.Subject) && strings.HasPrefix(r.Entity, q.Entity) {
				out = append(out, r)
				if len(out) == q.Limit {
					break
				}
			}
		}
		if len(msgs) < 500 {
			break
		}
		if forward {
			start = "(" + msgs[len(msgs)-1].ID
		} else {
			end = "(" + msgs[len(msgs)-1].ID
		}
	}
	return out, nil
}

func auditRecord(m goredis.XMessage) adapter.AuditRecord {
	str := func(k string) string { v, _ := m.Values[k].(string); return v }
	ms, _ := strconv.ParseInt(str("t"), 10, 64)
	out, _ := strconv.Atoi(str("out"))
	return adapter.AuditRecord{ID: m.ID, Time: time.UnixMilli(ms).UTC(), Subject: str("sub"), Role: str("role"), Org: str("org"),
		Action: adapter.AuditAction(str("act")), Kind: str("kind"), Entity: str("ent"), Outcome: out,
		RequestID: str("rid"), Detail: str("det")}
}

package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// outcomeMeta is the stored description of an outcome beside its JSON.
type outcomeMeta struct {
	Categories     []adapter.Coding `json:"cat,omitempty"`
	SecurityLabels []adapter.Coding `json:"sec,omitempty"`
	Codes          []adapter.Coding `json:"code,omitempty"`
	Org            string           `json:"org,omitempty"`
	Effective      int64            `json:"eff,omitempty"` // unix ms
}

// SaveOutcome stores an outcome resource and links it to its Task, in one
// script; a wellbeing score (o.Score) also updates the referral's pair of
// that measure and moves the anonymous wellbeing counters with it (issue
// 20, lua/save_outcome.lua).
func (s *OutcomeStore) SaveOutcome(ctx context.Context, o adapter.OutcomeRecord, body []byte) error {
	return s.SaveOutcomeOn(ctx, o, body, nil)
}

// SaveOutcomeOn stores an outcome as SaveOutcome does, with the change of
// its Task that records it (a new version, its history entry and its Task
// event) in the same step: only while the Task is at the version w read it
// at, else adapter.ErrTaskMoved and nothing is written.
func (s *OutcomeStore) SaveOutcomeOn(ctx context.Context, o adapter.OutcomeRecord, body []byte, w *adapter.TaskWrite) error {
	m := outcomeMeta{Categories: o.Categories, SecurityLabels: o.SecurityLabels, Codes: o.Codes, Org: o.Org}
	if !o.Effective.IsZero() {
		m.Effective = o.Effective.UnixMilli()
	}
	meta, _ := json.Marshal(m)
	slot, recs := stepAudit(ctx, http.StatusCreated) // the request's record, in the same step
	for i := range recs {
		recs[i].Entity = o.Type + "/" + o.ID
	}
	fields := []any{hJSON, body, "task", o.TaskID, "type", o.Type, hPractice, o.Practice,
		"ok", strconv.FormatBool(o.Approved), "at", o.Recorded.UnixMilli(), "by", o.By, "meta", meta}
	tw := ""
	if w != nil {
		b, err := json.Marshal(struct {
			W *taskWriteJSON `json:"w"`
			taskLog
		}{s.taskWrite(w), s.taskLog()})
		if err != nil {
			return fmt.Errorf("redis: outcome's Task change: %w", err)
		}
		tw = string(b)
	}
	args := append([]any{o.ID, s.auditArg(recs), tw, len(fields)}, fields...)
	if sc := o.Score; sc != nil {
		if m, ok := adapter.Measure(sc.Measure); ok {
			args = append(args, m.Key, hundredths(sc.Value), sc.At.UnixMilli(), adapter.StatsDay(sc.At, london),
				hundredths(m.Meaningful), m.Direction(), s.k.wellbeingPairs(""), s.k.task(""), s.k.datedStats(""))
		}
	}
	n, err := saveOutcomeScript.Run(ctx, s.c, []string{s.k.outcome(o.ID), s.k.taskOutcomes(o.TaskID), s.k.task(o.TaskID)}, args...).Int()
	if err != nil {
		return s.fail(err)
	}
	if n < 0 {
		return adapter.ErrTaskMoved
	}
	if slot != nil {
		slot.Wrote(recs...)
	}
	return nil
}

// hundredths is a score in hundredths of a point, as the wellbeing
// counters keep it (whole numbers, so HINCRBY can add them).
func hundredths(v float64) int64 { return int64(math.Round(v * 100)) }

// Outcome returns an outcome and its JSON.
func (s *OutcomeStore) Outcome(ctx context.Context, id string) (*adapter.OutcomeRecord, []byte, error) {
	h, err := s.record(ctx, s.k.outcome(id), "outcome")
	if err != nil {
		return nil, nil, err
	}
	return outcomeFromHash(id, h), []byte(h[hJSON]), nil
}

// Outcomes returns the outcomes recorded on a Task (without their JSON).
func (s *OutcomeStore) Outcomes(ctx context.Context, taskID string) ([]*adapter.OutcomeRecord, error) {
	ids, err := s.c.SMembers(ctx, s.k.taskOutcomes(taskID)).Result()
	if err != nil {
		return nil, s.fail(err)
	}
	out := make([]*adapter.OutcomeRecord, 0, len(ids))
	for _, id := range ids {
		h, err := s.c.HMGet(ctx, s.k.outcome(id), "task", "type", hPractice, "ok", "at", "by", "meta").Result()
		if err != nil {
			return nil, s.fail(err)
		}
		m := map[string]string{}
		for i, f := range []string{"task", "type", hPractice, "ok", "at", "by", "meta"} {
			if v, ok := h[i].(string); ok {
				m[f] = v
			}
		}
		out = append(out, outcomeFromHash(id, m))
	}
	return out, nil
}

func outcomeFromHash(id string, h map[string]string) *adapter.OutcomeRecord {
	ms, _ := strconv.ParseInt(h["at"], 10, 64)
	var meta outcomeMeta
	_ = json.Unmarshal([]byte(h["meta"]), &meta)
	o := &adapter.OutcomeRecord{ID: id, TaskID: h["task"], Type: h["type"], Practice: h[hPractice], Approved: h["ok"] == "true",
		Recorded: time.UnixMilli(ms).UTC(), By: h["by"], Org: meta.Org, Categories: meta.Categories, SecurityLabels: meta.SecurityLabels, Codes: meta.Codes}
	if meta.Effective != 0 {
		o.Effective = time.UnixMilli(meta.Effective).UTC()
	}
	return o
}

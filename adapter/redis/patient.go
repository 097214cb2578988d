package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// PatientOf returns the Patient the practice sent that a referral's patient
// reference names (issue 19): "Patient/{id}", or "Patient?identifier=s|v"
// with the identifier the Patient was created under. ENOTFOUND when the
// practice sent none (a referral with an NHS number only).
func (s *PatientStore) PatientOf(ctx context.Context, practice, ref string) (id string, body []byte, err error) {
	direct, field, ok := s.patientOfArgs(practice, ref)
	if !ok {
		return "", nil, adapter.NotFound(adapter.KindPatient)
	}
	res, err := patientOfScript.Run(ctx, s.c, []string{s.k.idempotency()}, s.k.patient(""), direct, field, practice).StringSlice()
	if errors.Is(err, goredis.Nil) {
		return "", nil, adapter.NotFound(adapter.KindPatient)
	}
	if err != nil {
		return "", nil, s.fail(err)
	}
	if len(res) != 2 {
		return "", nil, fmt.Errorf("redis: patient_of answered %d values", len(res))
	}
	return res[0], []byte(res[1]), nil
}

// patientOfArgs are patient_of.lua's arguments for a patient reference:
// the Patient's id, or the idempotency field of the identifier it was
// created under. ok is false for a reference of neither form.
func (s *conn) patientOfArgs(practice, ref string) (direct, field string, ok bool) {
	if rest, ok := strings.CutPrefix(ref, adapter.KindPatient+"?identifier="); ok {
		return "", idemField(practice, adapter.KindPatient, rest), true
	}
	if rest, ok := strings.CutPrefix(ref, adapter.KindPatient+"/"); ok && rest != "" && !strings.Contains(rest, "/") {
		return rest, "", true
	}
	return "", "", false
}

// MaxContactAttempts bounds the contact attempts kept on one Task.
const MaxContactAttempts = 200

// AddContactAttempt records a contact attempt on its Task and says how many
// the Task has now, and whether this is the first that reached the patient.
func (s *PatientStore) AddContactAttempt(ctx context.Context, a adapter.ContactAttempt, stats adapter.AttemptStats) (n int, firstReached bool, err error) {
	b, err := json.Marshal(a)
	if err != nil {
		return 0, false, fmt.Errorf("redis: contact attempt: %w", err)
	}
	reached := "0"
	if a.Result == adapter.ContactReached {
		reached = "1"
	}
	slot, recs := stepAudit(ctx, http.StatusCreated) // the request's record, in the same step
	for i := range recs {
		recs[i].Entity = "Task/" + a.TaskID + "/contact-attempts"
	}
	incs, err := json.Marshal([3][]string{s.incArgs(stats.Every), s.incArgs(stats.First), s.incArgs(stats.Reached)})
	if err != nil {
		return 0, false, fmt.Errorf("redis: contact attempt: %w", err)
	}
	res, err := addContactAttemptScript.Run(ctx, s.c, []string{s.k.contactAttempts(a.TaskID)}, b, MaxContactAttempts, reached, s.auditArg(recs), incs).Int64Slice()
	if err != nil {
		return 0, false, s.fail(err)
	}
	if len(res) != 2 {
		return 0, false, fmt.Errorf("redis: add_contact_attempt answered %d values", len(res))
	}
	if res[0] < 0 {
		return 0, false, adapter.Errorf(adapter.EBUSINESSRULE, "this referral already has %d contact attempts; no more can be recorded", MaxContactAttempts)
	}
	if slot != nil {
		slot.Wrote(recs...)
	}
	return int(res[0]), res[1] == 1, nil
}

// ContactAttempts returns a Task's contact attempts, oldest first.
func (s *PatientStore) ContactAttempts(ctx context.Context, taskID string) ([]adapter.ContactAttempt, error) {
	vals, err := s.c.LRange(ctx, s.k.contactAttempts(taskID), 0, -1).Result()
	if err != nil {
		return nil, s.fail(err)
	}
	out := make([]adapter.ContactAttempt, 0, len(vals))
	for _, v := range vals {
		var a adapter.ContactAttempt
		if err := json.Unmarshal([]byte(v), &a); err != nil {
			return nil, fmt.Errorf("redis: stored contact attempt: %w", err)
		}
		out = append(out, a)
	}
	return out, nil
}

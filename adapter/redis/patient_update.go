package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// ReplacePatient stores body as the new version of a Patient the practice
// sent, if the stored one is still at version from, with the request's
// audit record and tell (the change of each Task of the patient's live
// referrals that says its contact details changed) in the same step
// (replace_patient.lua: a compare-and-set on the stored Patient as read,
// and on each Task's version). ENOTFOUND when the practice sent no such
// Patient; EVERSION when another version is stored now;
// adapter.ErrTaskMoved, nothing written, when a Task to tell changed
// meanwhile.
func (s *PatientStore) ReplacePatient(ctx context.Context, id, practice string, from int, body []byte, tell []*adapter.TaskWrite) error {
	key := s.k.patient(id)
	v, err := s.c.HMGet(ctx, key, hJSON, hPractice).Result()
	if err != nil {
		return s.fail(err)
	}
	stored, _ := v[0].(string)
	if p, _ := v[1].(string); stored == "" || p != practice {
		return adapter.NotFound(adapter.KindPatient)
	}
	if now := fhir.StoredVersion([]byte(stored)); now != from {
		return adapter.Errorf(adapter.EVERSION, "the Patient is at version %d, not %d: read it again", now, from)
	}
	slot, recs := stepAudit(ctx, http.StatusOK)
	for i := range recs {
		recs[i].Entity = adapter.KindPatient + "/" + id
	}
	payload := replacePatientJSON{Key: key, Field: hJSON, PField: hPractice, Practice: practice, Tell: []*taskWriteJSON{},
		taskLog: s.taskLog(), Audit: s.auditInScript(recs)}
	for _, w := range tell {
		payload.Tell = append(payload.Tell, s.taskWrite(w))
	}
	arg, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("redis: replace patient payload: %w", err)
	}
	res, err := replacePatientScript.Run(ctx, s.c, nil, arg, body, stored).Text()
	if err != nil {
		return s.fail(err)
	}
	switch res {
	case "moved":
		return adapter.Errorf(adapter.EVERSION, "the Patient changed meanwhile: read it again")
	case "task":
		return adapter.ErrTaskMoved
	}
	if slot != nil {
		slot.Wrote(recs...)
	}
	return nil
}

// replacePatientJSON is replace_patient.lua's payload.
type replacePatientJSON struct {
	Key      string           `json:"key"`
	Field    string           `json:"field"`
	PField   string           `json:"pfield"`
	Practice string           `json:"practice"`
	Tell     []*taskWriteJSON `json:"tell"`
	taskLog
	Audit *scriptAudit `json:"audit,omitempty"`
}

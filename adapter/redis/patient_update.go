package redis

import (
	"context"
	"errors"
	"net/http"

	goredis "github.com/redis/go-redis/v9"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// ReplacePatient stores body as the new version of a Patient the practice
// sent, if the stored one is still at version from (compare-and-set under
// WATCH), with the request's audit record in the same transaction.
// ENOTFOUND when the practice sent no such Patient; EVERSION when another
// version is stored now.
func (s *PatientStore) ReplacePatient(ctx context.Context, id, practice string, from int, body []byte) error {
	key := s.k.patient(id)
	slot, recs := stepAudit(ctx, http.StatusOK)
	for i := range recs {
		recs[i].Entity = adapter.KindPatient + "/" + id
	}
	err := s.c.Watch(ctx, func(tx *goredis.Tx) error {
		v, err := tx.HMGet(ctx, key, hJSON, hPractice).Result()
		if err != nil {
			return err
		}
		stored, _ := v[0].(string)
		if p, _ := v[1].(string); stored == "" || p != practice {
			return adapter.NotFound(adapter.KindPatient)
		}
		if now := fhir.StoredVersion([]byte(stored)); now != from {
			return adapter.Errorf(adapter.EVERSION, "the Patient is at version %d, not %d: read it again", now, from)
		}
		_, err = tx.TxPipelined(ctx, func(p goredis.Pipeliner) error {
			for _, r := range recs {
				p.XAdd(ctx, &goredis.XAddArgs{Stream: s.k.audit(), Values: auditFields(r)})
			}
			p.HSet(ctx, key, hJSON, body)
			return nil
		})
		return err
	}, key)
	if errors.Is(err, goredis.TxFailedErr) {
		return adapter.Errorf(adapter.EVERSION, "the Patient changed meanwhile: read it again")
	}
	var ae *adapter.Error
	if errors.As(err, &ae) {
		return err
	}
	if err != nil {
		return s.fail(err)
	}
	if slot != nil {
		slot.Wrote(recs...)
	}
	return nil
}

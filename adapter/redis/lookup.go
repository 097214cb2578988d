package redis

import (
	"context"
	"errors"

	goredis "github.com/redis/go-redis/v9"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// IntakeLookups reads what intake checks before it writes in one round
// trip: as FindExisting for q.Keys, PatientConsents for each of q.Patients
// and ActiveReferrals for q.Active. (A referral found active costs one
// more read, of its Task.) When the server has lost its cached scripts the
// reads are made one by one, which loads them again.
func (s *ReferralStore) IntakeLookups(ctx context.Context, q adapter.IntakeLookup) (*adapter.IntakeFound, error) {
	pipe := s.c.Pipeline()
	var idem, active *goredis.SliceCmd
	if len(q.Keys) > 0 {
		idem = pipe.HMGet(ctx, s.k.idempotency(), idemFields(q.Practice, q.Keys)...)
	}
	consents := make([]*goredis.Cmd, len(q.Patients))
	for i, p := range q.Patients {
		consents[i] = patientConsentsScript.EvalSha(ctx, pipe, []string{s.k.patientConsents(p)}, s.patientConsentsArgs(q.Practice, p)...)
	}
	if len(q.Active) > 0 {
		active = pipe.HMGet(ctx, s.k.activeReferrals(), q.Active...)
	}
	records := make([]*goredis.Cmd, len(q.Records))
	for i, ref := range q.Records {
		if direct, field, ok := s.patientOfArgs(q.Practice, ref); ok {
			records[i] = patientOfScript.EvalSha(ctx, pipe, []string{s.k.idempotency()}, s.k.patient(""), direct, field, q.Practice)
		}
	}
	if pipe.Len() == 0 {
		return newFound([]string{}), nil
	}
	if _, err := pipe.Exec(ctx); goredis.HasErrorPrefix(err, "NOSCRIPT") {
		return s.intakeLookupsOneByOne(ctx, q)
	} else if err != nil && !errors.Is(err, goredis.Nil) { // Nil: a patient with no stored Patient
		return nil, s.fail(err)
	}
	found := newFound([]string{})
	if idem != nil {
		found.Existing = existingIDs(q.Keys, idem.Val())
	}
	for i, p := range q.Patients {
		vals, err := consents[i].StringSlice()
		if err != nil {
			return nil, s.fail(err)
		}
		if found.Consents[p], err = unpackConsents(vals); err != nil {
			return nil, err
		}
	}
	for i, ref := range q.Records {
		if records[i] == nil {
			continue
		}
		if err := s.keepRecord(found, ref, records[i]); err != nil {
			return nil, err
		}
	}
	if active != nil {
		ids, err := s.stillActive(ctx, active.Val())
		if err != nil {
			return nil, err
		}
		for i, k := range q.Active {
			found.Active[k] = ids[i]
		}
	}
	return found, nil
}

func (s *ReferralStore) intakeLookupsOneByOne(ctx context.Context, q adapter.IntakeLookup) (*adapter.IntakeFound, error) {
	existing, err := s.FindExisting(ctx, q.Practice, q.Keys)
	if err != nil {
		return nil, err
	}
	found := newFound(existing)
	for _, p := range q.Patients {
		if found.Consents[p], err = s.consents.PatientConsents(ctx, q.Practice, p); err != nil {
			return nil, err
		}
	}
	for _, ref := range q.Records {
		direct, field, ok := s.patientOfArgs(q.Practice, ref)
		if !ok {
			continue
		}
		if err := s.keepRecord(found, ref, patientOfScript.Run(ctx, s.c, []string{s.k.idempotency()}, s.k.patient(""), direct, field, q.Practice)); err != nil {
			return nil, err
		}
	}
	ids, err := s.ActiveReferrals(ctx, q.Active)
	if err != nil {
		return nil, err
	}
	for i, k := range q.Active {
		found.Active[k] = ids[i]
	}
	return found, nil
}

func newFound(existing []string) *adapter.IntakeFound {
	return &adapter.IntakeFound{Existing: existing, Consents: map[string][][]byte{}, Active: map[string]string{}, Records: map[string][]byte{}}
}

// keepRecord notes in found the stored Patient patient_of.lua answered for
// ref ({id, json}; nil when the practice sent none).
func (s *ReferralStore) keepRecord(found *adapter.IntakeFound, ref string, cmd *goredis.Cmd) error {
	res, err := cmd.StringSlice()
	if errors.Is(err, goredis.Nil) {
		return nil
	}
	if err != nil {
		return s.fail(err)
	}
	if len(res) == 2 {
		found.Records[ref] = []byte(res[1])
	}
	return nil
}

package intake

import (
	"context"
	"strconv"
	"strings"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/consent"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// supersede turns the re-sending of a Consent under an identifier the
// practice already used into a new version of it when the patient
// withdrew it: an active Consent sent again as inactive, rejected or
// entered-in-error replaces the stored one (same id, next version), and
// sharing under it stops. Any other re-sending is an idempotent retry and
// returns the stored Consent, as for every create; withdrawal is one-way,
// so a late retry of the original can never reinstate consent.
//
// A conditional create (If-None-Exist, or a transaction entry's
// ifNoneExist) is never a withdrawal: FHIR has a match answer 200 with the
// stored resource and change nothing (http.html#ccreate), so a client
// retrying that way cannot alter a patient's consent by accident. A
// withdrawal is sent without the condition.
func (s *Service) supersede(ctx context.Context, c Caller, plans []*plan) error {
	for _, p := range plans {
		if p.consent == nil || p.sub.Existing == "" || !withdrawn(p.consent.Status) || !p.entry.IfNoneExist.IsZero() {
			continue
		}
		body, practice, err := s.store.Consent(ctx, p.sub.Existing)
		if err != nil {
			return err
		}
		res, err := s.parser.Parse(body, adapter.KindConsent)
		if err != nil || practice != c.Org {
			continue
		}
		stored, _ := fhir.ConsentSummaryFrom(res)
		if stored == nil || stored.Status != consent.StatusActive {
			continue
		}
		if !isURN(p.consent.Patient) && p.consent.Patient != stored.Patient && !s.samePatient(ctx, c.Org, p.consent.Patient, stored.Patient) {
			return locate(adapter.Errorf(adapter.ECONFLICT,
				"a Consent with this identifier belongs to another patient; a withdrawal must name the same patient").At("Consent.patient"), p)
		}
		v, _ := strconv.Atoi(res.Msg.GetConsent().GetMeta().GetVersionId().GetValue())
		p.sub.ID, p.sub.Version, p.sub.Existing = p.sub.Existing, max(1, v)+1, ""
	}
	return nil
}

// samePatient reports whether two references name one Patient the
// practice sent here: by its id, and by the NHS number it was sent with.
func (s *Service) samePatient(ctx context.Context, practice, a, b string) bool {
	ida, _, erra := s.store.PatientOf(ctx, practice, a)
	idb, _, errb := s.store.PatientOf(ctx, practice, b)
	return erra == nil && errb == nil && ida != "" && ida == idb
}

func withdrawn(status string) bool {
	switch strings.ToLower(status) {
	case consent.StatusInactive, consent.StatusRejected, "entered-in-error":
		return true
	}
	return false
}

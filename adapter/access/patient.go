package access

import (
	"context"
	"slices"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/consent"
)

// Patient is a Patient resource the adapter stored, as the Patient door
// decides about it (issue 19).
type Patient struct {
	ID       string
	Practice string // ODS code of the practice that sent it
	// Refs are the references a referral may name the patient by:
	// "Patient/{id}" and, when it has one, "Patient?identifier=s|v" with
	// the identifier it was created under (the NHS number).
	Refs []string
	// Labels are its security labels; Received when the adapter stored
	// it (its own date, for a consent's dataPeriod).
	Labels   []adapter.Coding
	Received time.Time
}

// PatientRefs are the references a referral may name a stored Patient by.
func PatientRefs(id string, ident adapter.Identifier) []string {
	refs := []string{adapter.KindPatient + "/" + id}
	if !ident.IsZero() {
		refs = append(refs, adapter.KindPatient+"?identifier="+ident.String())
	}
	return refs
}

// Referrals finds the Tasks of the referrals (with their onward referrals)
// a practice sent for one patient reference: the store's per-patient index.
type Referrals interface {
	PatientReferrals(ctx context.Context, practice, patient string) ([]*adapter.Task, error)
}

// WithReferrals gives the policy the store's per-patient referral index,
// which the Patient door (SeePatient) reads. It returns the policy.
func (p *Policy) WithReferrals(r Referrals) *Policy { p.referrals = r; return p }

// SeePatient is the door of a Patient read: whether the caller may see the
// stored Patient pat. The practice that sent it may; a link worker or
// provider may when it may see one of the patient's referrals (SeeTask)
// and the patient's consent permits the Patient to go to it
// (SeePatientOn); nobody else. Callers answer false as adapter.NotFound,
// exactly as for a Patient that does not exist.
func (p *Policy) SeePatient(ctx context.Context, c adapter.Caller, pat Patient) (bool, error) {
	switch c.Role {
	case adapter.RolePractice:
		return c.Org != "" && c.Org == pat.Practice, nil
	case adapter.RoleLinkWorker, adapter.RoleProvider:
	default:
		return false, nil
	}
	if p.referrals == nil {
		return false, nil
	}
	for _, ref := range pat.Refs {
		tasks, err := p.referrals.PatientReferrals(ctx, pat.Practice, ref)
		if err != nil {
			return false, err
		}
		for _, t := range tasks {
			ok, err := p.SeePatientOn(ctx, c, t, pat)
			if err != nil || ok {
				return ok, err
			}
		}
	}
	return false, nil
}

// SeePatientOn is SeePatient through one referral's Task t (a claim's
// answer): the Task must be the patient's, from the practice that sent the
// Patient; the practice sees it; a link worker or provider when it may
// see t (SeeTask) and the patient's consent permits disclosing the
// Patient to it (its organisation and the person acting), as decided for
// any other record.
func (p *Policy) SeePatientOn(ctx context.Context, c adapter.Caller, t *adapter.Task, pat Patient) (bool, error) {
	if t.Practice != pat.Practice || !slices.Contains(pat.Refs, t.Patient) {
		return false, nil
	}
	if c.Role == adapter.RolePractice {
		return c.Org != "" && c.Org == pat.Practice, nil
	}
	ok, err := p.SeeTask(ctx, c, t)
	if err != nil || !ok {
		return false, err
	}
	to, ok, err := p.holderRecipient(ctx, c, t)
	if err != nil || !ok {
		return false, err
	}
	d, err := p.Release(ctx, t, to, PatientInfo(t, pat))
	return d.Permit, err
}

// PatientInfo is a stored Patient as consent decisions see it: the
// patient's demographics and contact details, sent with the referral t.
func PatientInfo(t *adapter.Task, pat Patient) consent.Information {
	return consent.Information{Patient: t.Patient, Type: adapter.KindPatient, Reference: adapter.KindPatient + "/" + pat.ID,
		Related: []string{adapter.KindServiceRequest + "/" + t.ReferralID, "Task/" + t.ID}, Labels: pat.Labels, Recorded: pat.Received}
}

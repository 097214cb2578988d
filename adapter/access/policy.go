package access

import (
	"context"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/consent"
)

// Directory is the service directory as the policy reads it
// (routing.Mappings).
type Directory interface {
	Service(id string) (*adapter.Service, bool)
	// Recipient is the organisation providing a service as a recipient of
	// a referral's data, with the sharing agreement that makes it the
	// network's partner.
	Recipient(service string) (consent.Recipient, bool)
}

// Consents reads the Consents a practice sent for a patient, in the
// engine's form.
type Consents interface {
	PatientConsents(ctx context.Context, practice, patient string) ([]consent.Consent, error)
}

// Tasks reads a Task: the one an onward referral was made from.
type Tasks interface {
	Task(ctx context.Context, id string) (*adapter.Task, error)
}

// Policy is the access policy of one deployment.
type Policy struct {
	dir        Directory
	consents   Consents
	tasks      Tasks
	linkWorker string // the network's link-worker service: the last resort of every route
	required   bool   // CONSENT_REQUIRED
	now        func() time.Time
	referrals  Referrals // nil: the Patient door lets no holder through
}

// New returns the policy. linkWorker is the network's link-worker service;
// required says whether disclosures need the patient's consent
// (CONSENT_REQUIRED; false only for tests of other features).
func New(dir Directory, consents Consents, tasks Tasks, linkWorker string, required bool) *Policy {
	return &Policy{dir: dir, consents: consents, tasks: tasks, linkWorker: linkWorker, required: required, now: time.Now}
}

// SetClock replaces the clock (tests).
func (p *Policy) SetClock(now func() time.Time) { p.now = now }

// ConsentRequired says whether disclosures need the patient's consent.
func (p *Policy) ConsentRequired() bool { return p.required }

// Works reports whether the caller's organisation runs the service's
// queue: link workers the link-worker services their organisation
// provides, providers the VCSE services theirs provides. Nobody else works
// a queue.
func (p *Policy) Works(c adapter.Caller, service string) bool {
	svc, ok := p.dir.Service(service)
	if !ok || c.Org == "" || svc.ProvidedBy.ODS != c.Org {
		return false
	}
	return c.Role == adapter.RoleLinkWorker && svc.Kind == adapter.KindLinkWorker ||
		c.Role == adapter.RoleProvider && svc.Kind == adapter.KindVCSE
}

// Holds reports whether the caller's organisation holds the Task: it works
// the Task's service, and the referral does not wait for the patient's
// consent or a clinician's sign-off (until then it is not the service's).
func (p *Policy) Holds(c adapter.Caller, t *adapter.Task) bool {
	return p.Works(c, t.Owner) && !t.Held()
}

// Referral is the referral a Task tracks, as consent decisions see it.
func Referral(t *adapter.Task) consent.Information {
	related := []string{"Task/" + t.ID}
	if t.ReferralID != t.ID {
		related = append(related, "Task/"+t.ReferralID)
	}
	return consent.Information{Patient: t.Patient, Type: adapter.KindServiceRequest,
		Reference: adapter.KindServiceRequest + "/" + t.ReferralID, Related: related, Labels: t.Labels, Recorded: t.Written}
}

// Release reads the patient's Consents and decides whether they permit
// disclosing info about the Task's patient to the recipient (the one
// consent decision, consent.Release). Without CONSENT_REQUIRED everything
// is permitted.
func (p *Policy) Release(ctx context.Context, t *adapter.Task, to consent.Recipient, info consent.Information) (consent.Decision, error) {
	if !p.required {
		return consent.Decision{Permit: true, Reason: "consent is not required in this deployment"}, nil
	}
	cs, err := p.consents.PatientConsents(ctx, t.Practice, t.Patient)
	if err != nil {
		return consent.Decision{}, err
	}
	return consent.Release(cs, to, info, p.now()), nil
}

// ServiceRecipient is the organisation providing a service as a recipient
// (person true: a person or system of it acting now).
func (p *Policy) serviceRecipient(service string, c *adapter.Caller) (consent.Recipient, bool) {
	r, ok := p.dir.Recipient(service)
	if ok && c != nil {
		r.PersonLevel, r.Person = true, c.Person
	}
	return r, ok
}

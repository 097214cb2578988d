package consent

import (
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// OutcomeMeta is what disclosing one outcome of a referral (an
// Observation, Procedure or Goal), or a link worker's or provider's message
// (a Communication), to the referring practice depends on.
type OutcomeMeta struct {
	Approved       bool   // the patient approved sharing it with the GP
	Patient        string // the referral's patient reference
	ResourceType   string
	Reference      string   // "Observation/123"
	Related        []string // its Task and referral, e.g. "Task/abc", "ServiceRequest/abc"
	Recorded       time.Time
	Categories     []adapter.Coding
	Codes          []adapter.Coding
	SecurityLabels []adapter.Coding
}

// Disclose decides whether an outcome may go back to the referring
// practice: only when the patient approved it AND their consent permits
// disclosing it to that practice (Release), sensitive categories only when
// explicitly permitted.
func Disclose(o OutcomeMeta, consents []Consent, practice Recipient, now time.Time) (bool, Decision) {
	if !o.Approved {
		what := "outcome"
		if o.ResourceType == adapter.KindCommunication { // a message of the referral dialogue (issue 9)
			what = "message"
		}
		return false, Decision{Reason: "the patient did not approve sharing this " + what}
	}
	d := Release(consents, practice, o.Information(), now)
	return d.Permit, d
}

// Information is the outcome as Release sees it.
func (o OutcomeMeta) Information() Information {
	codes := make([]adapter.Coding, 0, len(o.Categories)+len(o.Codes))
	codes = append(append(codes, o.Categories...), o.Codes...)
	return Information{Patient: o.Patient, Type: o.ResourceType, Reference: o.Reference, Related: o.Related,
		Codes: codes, Labels: o.SecurityLabels, Recorded: o.Recorded}
}

package adapter

import "time"

// Resource kinds an intake batch can create.
const (
	KindServiceRequest = "ServiceRequest"
	KindConsent        = "Consent"
	KindPatient        = "Patient"
)

// Submission is one resource to create in an intake batch. For a
// ServiceRequest it carries the Task to create and where it may be routed.
type Submission struct {
	Kind       string
	ID         string
	JSON       []byte     // the stamped resource, stored verbatim
	Identifier Identifier // the first business identifier; may be zero
	// Identifiers are all its business identifiers (the first being
	// Identifier), each recorded for idempotent creates and, for a
	// ServiceRequest, search. Empty: Identifier alone.
	Identifiers []Identifier
	Existing    string   // set by the store: id of an earlier resource with the same identifier
	Task        *Task    // ServiceRequest only
	Candidates  []string // ServiceRequest only: service ids in order of preference
	Patient     string   // Consent only: patient reference, for lookup
	// Route (ServiceRequest only) replaces Candidates when the batch has
	// Routing: steps with eligibility decided, placed by capacity.
	Route []RouteStep
	// Placement is set by the store: where capacity-aware routing put the
	// referral.
	Placement *Placement
	// Version (Consent only), when above 1, writes a new version of the
	// existing resource ID in place (a withdrawn consent); its identifier
	// already names that resource and is not claimed again.
	Version int
	// Referrals (Consent only) is set by the store: how many referrals the
	// practice had sent for the Consent's patient when it was written. With
	// none, no referral waits for it or is governed by it.
	Referrals int
	// Active (ServiceRequest only) is the referral's patient-and-need key
	// (ActiveKey): the store records it so a second active referral for the
	// same patient and need is recognised.
	Active string
	// Stats (ServiceRequest only) are the new referral's report counters,
	// which the store adds in the same step as the referral (issue 22):
	// the ones that depend on where it is placed are filled in there
	// (IntakeStat). They are all of one day and practice.
	Stats []IntakeStat
	// Tell (Patient only) are changes of the practice's live referrals for
	// the patient, written with the Patient, each only while its Task is
	// at the version read (TaskWrite): the store answers
	// ErrConcurrentCreate, having written nothing, when one moved.
	Tell []*TaskWrite
}

// IntakeStat is one report counter of a new referral, written by the
// intake script with the referral. Some depend on where the script places
// it, so the store fills them in: with Owner the service is the referral's
// owner once placed; a counter marked Placed counts only when the referral
// was placed by capacity (a Placement), one marked Unplaced only when it
// was not; with Outcome the metric is MWaitlisted when it was waitlisted
// and MPlaced otherwise, at the placement's owner; with Skipped it counts
// once for each service passed by for lack of capacity (SkipReason.Capacity),
// at that service. ExpandIntakeStats does the same in Go.
type IntakeStat struct {
	StatInc
	Owner, Placed, Unplaced, Outcome, Skipped bool
}

// ExpandIntakeStats is what the intake script makes of stats for a
// referral owned by owner and placed as pl (nil when not placed by
// capacity): the increments to apply.
func ExpandIntakeStats(stats []IntakeStat, owner string, pl *Placement) []StatInc {
	out := make([]StatInc, 0, len(stats))
	for _, st := range stats {
		if (st.Placed && pl == nil) || (st.Unplaced && pl != nil) {
			continue
		}
		in := st.StatInc
		if st.Owner {
			in.Key.Service = owner
		}
		if st.Outcome {
			in.Key.Metric, in.Key.Service = MPlaced, pl.Owner
			if pl.Outcome == OutcomeWaitlisted {
				in.Key.Metric = MWaitlisted
			}
		}
		if st.Skipped {
			for _, sk := range pl.Skipped {
				if sk.Reason.Capacity() {
					c := in
					c.Key.Service = sk.Service
					out = append(out, c)
				}
			}
			continue
		}
		out = append(out, in)
	}
	return out
}

// ActiveKey identifies "this practice's active referral for this patient
// and need"; empty when the patient or need is unknown.
func ActiveKey(practice, patient, need string) string {
	if patient == "" || need == "" || need == "general" {
		return ""
	}
	return practice + "|" + patient + "|" + need
}

// IntakeBatch is everything one request creates, written atomically.
type IntakeBatch struct {
	Practice string
	Now      time.Time
	Items    []*Submission
	// Routing, when set, makes the store place each ServiceRequest's Task by
	// live capacity (reserve, waitlist or redirect); when nil the Task goes
	// to its first candidate.
	Routing *Routing
}

// ErrConcurrentCreate is returned by a store's intake when another request
// created a resource with the same identifier between the caller's lookup
// and its write, or changed a Task a Submission tells (Tell). Nothing was
// written; the caller looks up again and retries.
var ErrConcurrentCreate = &Error{Code: ECONFLICT, Message: "a concurrent request created the same referral; retry"}

// IdemKey names a resource by kind and business identifier, for
// idempotent creates.
type IdemKey struct {
	Kind       string
	Identifier Identifier
}

// IntakeLookup is what intake reads before it writes, asked of the store
// in one go: the practice's earlier resources by identifier, the Consents
// of patients it names, and its active referrals by ActiveKey.
type IntakeLookup struct {
	Practice string
	Keys     []IdemKey
	Patients []string // patient references whose Consents to read
	Active   []string // ActiveKeys
	// Records are patient references whose stored Patient (one the
	// practice sent earlier) to read: its age and postcode decide
	// eligibility and area.
	Records []string
}

// IntakeFound answers an IntakeLookup.
type IntakeFound struct {
	// Existing holds, per Keys entry, the id of the resource the practice
	// already sent with that identifier ("" when none).
	Existing []string
	// Consents holds, per patient asked for, the JSON of each Consent the
	// practice sent for them.
	Consents map[string][][]byte
	// Active holds, per ActiveKey asked for, the id of the active
	// referral's Task ("" when none is active).
	Active map[string]string
	// Records holds, per patient reference asked for, the JSON of the
	// Patient the practice sent that it names (absent when none).
	Records map[string][]byte
}

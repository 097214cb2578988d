package redis

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Task hash fields. Short names keep each hash small enough for Redis's
// compact listpack encoding.
const (
	fStatus   = "st"
	fBusiness = "bs"
	fReason   = "rsn"
	fOwner    = "own"
	fReferral = "ref"
	fPartOf   = "po"
	fPractice = "prac"
	fPatient  = "pat"
	fReq      = "req"
	fPriority = "pri"
	fRule     = "rule"
	fAuthored = "auth"
	fModified = "mod"
	fVersion  = "v"
	fDue      = "due"
	// Capacity (issue 3).
	fReserved = "rsv" // service whose capacity slot the Task holds; absent when none
	fRoute    = "rte" // route steps for re-routing: service ids and "~" (waitlist), space-separated
	// Queue (issue 10).
	fClaimant = "clm"  // token subject holding the lease
	fClaimNm  = "clmn" // their display name (for the named contact)
	fLease    = "lse"  // lease expiry, unix ms
	fPrevBS   = "pbs"  // business status before the claim, restored if the lease expires
	fScore    = "qs"   // queue score at claim time, to return to the same place
	fSource   = "src"  // referral source (adapter.ReferralSource)
	// Named contact (issue 9).
	fClaimTitle   = "clmt" // the claimant's role (job title)
	fContactSince = "ncs"  // when the named contact took the referral, unix ms
	fHandedOver   = "hov"  // when it was handed over to them, unix ms; absent for the first
	fLastClaimant = "lclm" // token subject of the latest named contact (kept when a lease lapses)
	// Consent (issue 4).
	fHeldSince = "hsn" // when the referral began waiting for consent, unix ms; absent when not held for consent
	fHeldFrom  = "hfr" // status it returns to when consent arrives
	fHeldBS    = "hbs" // business status it returns to
	// Clinician sign-off (issue 11).
	fSignOff = "sos" // when the referral began waiting for sign-off, unix ms; absent when not held for sign-off
	// Reports (issue 8).
	fArea      = "area" // patient's postcode district
	fNeed      = "need" // need category of the routing rule
	fContacted = "fc"   // first contact, unix ms
	fSupported = "ss"   // support started, unix ms
	// Consent decisions about the referral (issue 17).
	fLabels  = "lbl" // the referral's security labels (JSON codings); absent when none
	fWritten = "wrt" // the referral's own authoredOn, unix ms; absent when it stated none
	// Reach (issue 20).
	fAgeBand = "ab" // age band at referral; absent when not known
	fSex     = "sx" // administrative gender; absent when not known
)

// taskFields flattens a Task into HSET arguments (field, value, ...).
// Empty values are left out.
func taskFields(t *adapter.Task) []string {
	out := make([]string, 0, 30)
	add := func(f, v string) {
		if v != "" {
			out = append(out, f, v)
		}
	}
	add(fStatus, string(t.Status))
	add(fBusiness, t.BusinessStatus.Code)
	add(fReason, t.StatusReason)
	add(fOwner, t.Owner)
	add(fReferral, t.ReferralID)
	add(fPartOf, t.PartOf)
	add(fPractice, t.Practice)
	add(fPatient, packRef(t.Patient))
	add(fReq, packRef(t.Requester))
	add(fPriority, string(t.Priority))
	add(fRule, t.Rule)
	add(fAuthored, msString(t.AuthoredOn))
	add(fModified, msString(t.LastModified))
	add(fVersion, strconv.Itoa(t.Version))
	add(fDue, msString(t.FirstContactDue))
	add(fReserved, t.Reserved)
	add(fRoute, encodeRoute(t.Route))
	add(fClaimant, t.Claimant)
	add(fClaimNm, t.ClaimantName)
	add(fLease, msString(t.LeaseUntil))
	add(fClaimTitle, t.ClaimantTitle)
	add(fContactSince, msString(t.ContactSince))
	add(fHandedOver, msString(t.HandedOver))
	add(fLastClaimant, t.LastClaimant)
	add(fSource, string(t.Source))
	add(fHeldSince, msString(t.HeldSince))
	add(fHeldFrom, string(t.HeldFrom))
	add(fHeldBS, t.HeldBS)
	add(fSignOff, msString(t.SignOffSince))
	add(fArea, t.Area)
	add(fNeed, t.Need)
	add(fContacted, msString(t.Contacted))
	add(fSupported, msString(t.Supported))
	add(fLabels, encodeCodings(t.Labels))
	add(fWritten, msString(t.Written))
	add(fAgeBand, t.AgeBand)
	add(fSex, t.Sex)
	return out
}

// The two conditional references nearly every Task holds, by NHS number
// and by ODS code, are stored as a marker and the value: about 120 bytes
// less per Task hash. No reference the adapter accepts starts with "~"
// (fhir.ReferenceProblem), so the packed form cannot be mistaken for one,
// and hashes written before keep the full form, which reads as it is.
var packedRefs = []struct{ marker, prefix string }{
	{"~n", "Patient?identifier=" + adapter.SystemNHSNumber + "|"},
	{"~o", "Organization?identifier=" + adapter.SystemODS + "|"},
}

// packRef is the stored form of a Task's patient or requester reference.
func packRef(ref string) string {
	for _, p := range packedRefs {
		if v, ok := strings.CutPrefix(ref, p.prefix); ok {
			return p.marker + v
		}
	}
	return ref
}

// unpackRef is the reference packRef stored.
func unpackRef(v string) string {
	for _, p := range packedRefs {
		if rest, ok := strings.CutPrefix(v, p.marker); ok {
			return p.prefix + rest
		}
	}
	return v
}

// encodeCodings writes codings as JSON; "" when there are none.
func encodeCodings(cs []adapter.Coding) string {
	if len(cs) == 0 {
		return ""
	}
	b, _ := json.Marshal(cs)
	return string(b)
}

func decodeCodings(s string) []adapter.Coding {
	var out []adapter.Coding
	if s != "" {
		_ = json.Unmarshal([]byte(s), &out)
	}
	return out
}

// taskFromHash rebuilds a Task from its hash; nil when the hash is empty.
func taskFromHash(id string, h map[string]string) *adapter.Task {
	if len(h) == 0 {
		return nil
	}
	v, _ := strconv.Atoi(h[fVersion])
	bs, _ := adapter.BusinessStatus(h[fBusiness])
	return &adapter.Task{
		ID: id, ReferralID: h[fReferral], PartOf: h[fPartOf], Practice: h[fPractice],
		Patient: unpackRef(h[fPatient]), Requester: unpackRef(h[fReq]), Owner: h[fOwner],
		Status: adapter.TaskStatus(h[fStatus]), BusinessStatus: bs, StatusReason: h[fReason],
		Priority: adapter.Priority(h[fPriority]), Rule: h[fRule],
		AuthoredOn: msTime(h[fAuthored]), LastModified: msTime(h[fModified]),
		Version: v, FirstContactDue: msTime(h[fDue]),
		Reserved: h[fReserved], Route: decodeRoute(h[fRoute]),
		Claimant: h[fClaimant], ClaimantName: h[fClaimNm], LeaseUntil: msTime(h[fLease]),
		ClaimantTitle: h[fClaimTitle], ContactSince: msTime(h[fContactSince]), HandedOver: msTime(h[fHandedOver]),
		LastClaimant: h[fLastClaimant],
		Source:       adapter.ReferralSource(h[fSource]),
		Area:         h[fArea], Need: h[fNeed], Contacted: msTime(h[fContacted]), Supported: msTime(h[fSupported]),
		AgeBand: h[fAgeBand], Sex: h[fSex],
		// Consent (issue 4).
		HeldSince: msTime(h[fHeldSince]), HeldFrom: adapter.TaskStatus(h[fHeldFrom]), HeldBS: h[fHeldBS],
		SignOffSince: msTime(h[fSignOff]),
		Labels:       decodeCodings(h[fLabels]), Written: msTime(h[fWritten]),
	}
}

// routeWaitlist marks a waitlist step in an encoded route; it cannot be a
// FHIR id.
const routeWaitlist = "~"

// encodeRoute keeps the steps the patient is eligible for, in order.
func encodeRoute(steps []adapter.RouteStep) string {
	parts := make([]string, 0, len(steps))
	for _, st := range steps {
		switch {
		case st.Waitlist:
			parts = append(parts, routeWaitlist)
		case st.Skip == "" && st.Service != "" && !st.LastResort:
			parts = append(parts, st.Service)
		}
	}
	return strings.Join(parts, " ")
}

func decodeRoute(s string) []adapter.RouteStep {
	var out []adapter.RouteStep
	for _, p := range strings.Fields(s) {
		if p == routeWaitlist {
			out = append(out, adapter.RouteStep{Waitlist: true})
		} else {
			out = append(out, adapter.RouteStep{Service: p})
		}
	}
	return out
}

func msString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}

func msTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(n).UTC()
}

// queueScore orders a queue by priority rank, then by due time (or, with
// no deadline, by when the referral was made): lower scores are served
// first. rank*1e13 stays exact in a float64 for any date before 2286.
func queueScore(t *adapter.Task) float64 {
	at := t.FirstContactDue
	if at.IsZero() {
		at = t.AuthoredOn
	}
	return float64(t.Priority.Rank())*1e13 + float64(at.UnixMilli())
}

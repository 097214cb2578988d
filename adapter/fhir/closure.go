package fhir

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// SystemHL7CommunicationCategory is HL7's communication-category code
// system; a closure summary is also a "notification" in it, for EHRs that
// know only HL7's codes.
const SystemHL7CommunicationCategory = "http://terminology.hl7.org/CodeSystem/communication-category"

// CodingClosureSummary is the category that marks a closure summary.
var CodingClosureSummary = adapter.Coding{System: adapter.SystemCommunicationCategory, Code: adapter.CategoryClosureSummary,
	Display: "Closure summary"}

// ClosureFacts is what a closure summary says (issue 19).
type ClosureFacts struct {
	ID         string
	TaskID     string
	ReferralID string
	Patient    string // the referral's patient reference (refString form)
	Practice   string // ODS code of the referring practice: the recipient
	HolderOrg  string // ODS code of the organisation that held it: the sender
	// Text is the always-shown part: why and when it ended, who held it,
	// the contact attempts.
	Text string
	// Summary is the holder's own summary for the GP ("" when none): the
	// second payload, shown only where approved and permitted.
	Summary  string
	Outcomes []string // references of the referral's outcomes, each shown only where approved and permitted
	Sender   string   // the sender's display: the service's name
	Sent     time.Time
}

// ClosureSummary builds the closure summary Communication: category
// closure-summary (and HL7 notification), based on the referral, part of
// its Task, from the holding organisation to the practice. Its payload is,
// in this order: the closure text; the holder's summary when there is one;
// a contentReference per outcome. ClosureFor takes the withheld parts out
// for each reader.
func ClosureSummary(f ClosureFacts) ([]byte, error) {
	payload := []any{map[string]any{"contentString": f.Text}}
	if f.Summary != "" {
		payload = append(payload, map[string]any{"contentString": f.Summary})
	}
	for _, ref := range f.Outcomes {
		payload = append(payload, map[string]any{"contentReference": LiteralRef(ref, "")})
	}
	c := map[string]any{
		"resourceType": adapter.KindCommunication,
		"id":           f.ID,
		"meta":         map[string]any{"versionId": "1", "lastUpdated": Instant(f.Sent)},
		"basedOn":      []any{LiteralRef("ServiceRequest/"+f.ReferralID, "")},
		"partOf":       []any{LiteralRef("Task/"+f.TaskID, "")},
		"status":       "completed",
		"category": []any{
			map[string]any{"coding": []any{codingJSON(CodingClosureSummary)}},
			map[string]any{"coding": []any{codingJSON(adapter.Coding{System: SystemHL7CommunicationCategory, Code: "notification", Display: "Notification"})}},
		},
		"subject":   RefJSON(f.Patient),
		"topic":     map[string]any{"text": "Closure summary of the referral"},
		"sent":      Instant(f.Sent),
		"recipient": []any{OrgRef(f.Practice, "")},
		"sender":    OrgRef(f.HolderOrg, f.Sender),
		"payload":   payload,
	}
	if f.Patient == "" {
		delete(c, "subject")
	}
	return json.Marshal(c)
}

func codingJSON(c adapter.Coding) map[string]any {
	out := map[string]any{"system": c.System, "code": c.Code}
	if c.Display != "" {
		out["display"] = c.Display
	}
	return out
}

// RefJSON is a Reference in JSON from its refString form: a conditional
// "Type?identifier=system|value" becomes a logical reference by identifier,
// anything else a literal reference.
func RefJSON(ref string) map[string]any {
	if t, ident, ok := strings.Cut(ref, "?identifier="); ok {
		sys, val, _ := strings.Cut(ident, "|")
		return map[string]any{"type": t, "identifier": map[string]any{"system": sys, "value": val}}
	}
	return LiteralRef(ref, "")
}

// ClosureFor is a stored closure summary as one reader may see it: the
// closure text always; the holder's summary (the second payload, when
// hasSummary) only when keepSummary; each outcome reference only when
// keepRef says so. Anything left out marks the Communication REDACTED, so
// the reader knows something was withheld without learning what.
func ClosureFor(body []byte, hasSummary, keepSummary bool, keepRef func(ref string) bool) ([]byte, error) {
	var kept []string
	removed := false
	for i, p := range gjson.GetBytes(body, "payload").Array() {
		keep := true
		switch {
		case p.Get("contentReference").Exists():
			keep = keepRef(p.Get("contentReference.reference").String())
		case i == 1 && hasSummary:
			keep = keepSummary
		}
		if keep {
			kept = append(kept, p.Raw)
		} else {
			removed = true
		}
	}
	if !removed {
		return body, nil
	}
	out, err := sjson.SetRawBytes(body, "payload", []byte("["+strings.Join(kept, ",")+"]"))
	if err != nil {
		return nil, fmt.Errorf("fhir: closure summary: %w", err)
	}
	return sjson.SetBytes(out, "meta.security.-1", map[string]string{
		"system": SystemObservationValue, "code": CodeRedacted, "display": "redacted"})
}

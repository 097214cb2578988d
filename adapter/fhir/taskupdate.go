package fhir

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"

	"github.com/tidwall/gjson"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// TaskChange is what a Task sent back with a FHIR update (PUT) asks to
// change, read against the Task as its sender last read it: the elements
// a holder updates on a Gravity-conformant platform. Status is always
// read; BusinessStatus and Reason are "" when the sender left them as the
// server has them.
type TaskChange struct {
	ID             string
	Status         string
	BusinessStatus string // a code of adapter.SystemBusinessStatus
	Reason         string // statusReason.text
}

// updatable are the elements a FHIR update of a Task may change; meta and
// text are the server's, lastModified follows the change, and id the
// caller checks against the URL.
var updatable = []string{"status", "businessStatus", "statusReason", "meta", "text", "lastModified", "id"}

// TaskChangeFrom validates sent as an R4 Task and reads what it changes
// against current (the Task as the server renders it for the sender).
// Any other element that differs is refused, naming it: an update that
// would be partly ignored is not accepted.
func (p *Parser) TaskChangeFrom(sent, current []byte) (TaskChange, error) {
	if _, err := p.Parse(sent, "Task"); err != nil {
		return TaskChange{}, err
	}
	if err := sameOtherwise(sent, current); err != nil {
		return TaskChange{}, err
	}
	ch := TaskChange{ID: gjson.GetBytes(sent, "id").Str, Status: gjson.GetBytes(sent, "status").Str}
	if bs := gjson.GetBytes(sent, "businessStatus"); !sameJSON(bs, gjson.GetBytes(current, "businessStatus")) {
		code, err := businessStatusCode(bs)
		if err != nil {
			return TaskChange{}, err
		}
		ch.BusinessStatus = code
	}
	if r := gjson.GetBytes(sent, "statusReason"); !sameJSON(r, gjson.GetBytes(current, "statusReason")) {
		ch.Reason = r.Get("text").Str
	}
	return ch, nil
}

// businessStatusCode is the adapter's code among a businessStatus's codings.
func businessStatusCode(bs gjson.Result) (string, error) {
	for _, c := range bs.Get("coding").Array() {
		if c.Get("system").Str == adapter.SystemBusinessStatus {
			return c.Get("code").Str, nil
		}
	}
	return "", adapter.Errorf(adapter.ECODEINVALID, "businessStatus needs a coding from %s", adapter.SystemBusinessStatus).At("Task.businessStatus")
}

// sameOtherwise refuses a Task whose elements other than the updatable
// ones differ from current's.
func sameOtherwise(sent, current []byte) error {
	var a, b map[string]json.RawMessage
	if json.Unmarshal(sent, &a) != nil || json.Unmarshal(current, &b) != nil {
		return adapter.Errorf(adapter.ESTRUCTURE, "the Task is not a JSON object")
	}
	var differ []string
	for k := range union(a, b) {
		if slices.Contains(updatable, k) {
			continue
		}
		if !sameJSON(gjson.ParseBytes(a[k]), gjson.ParseBytes(b[k])) {
			differ = append(differ, k)
		}
	}
	if len(differ) == 0 {
		return nil
	}
	sort.Strings(differ)
	at := make([]string, len(differ))
	for i, k := range differ {
		at[i] = "Task." + k
	}
	return adapter.Errorf(adapter.EBUSINESSRULE,
		"a Task update may change status, businessStatus and statusReason only; %v differ from the stored Task (read it again first)", differ).
		At(at...)
}

func union(a, b map[string]json.RawMessage) map[string]bool {
	out := make(map[string]bool, len(a)+len(b))
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// sameJSON compares two JSON values by value (key order and spacing
// aside).
func sameJSON(a, b gjson.Result) bool {
	return reflect.DeepEqual(a.Value(), b.Value())
}

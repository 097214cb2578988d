package fhir

import (
	"strconv"
	"time"

	dtpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	taskpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/task_go_proto"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Code systems for the Task's fixed codes.
const (
	systemTaskCode = "http://hl7.org/fhir/CodeSystem/task-code"
)

// TaskView carries what a Task rendering needs beyond the domain Task: the
// owner's display name, and what the caller may see.
type TaskView struct {
	OwnerName string
	Outputs   []string // references to the outcomes the reader may see
	Redacted  bool     // some outcomes were withheld from this reader
	Contact   string   // name of the link worker or provider handling it
	// ContactSince is when the named contact took the referral (the
	// note's time); zero when not known.
	ContactSince time.Time
	// Notes are further Task.notes in plain words (issue 19: no contact
	// details were sent).
	Notes []TaskNote
	// Alerts are the safeguarding concerns raised on the referral (issue
	// 9): each a Task.note, and the Task carries the safeguarding tag.
	Alerts []TaskNote
}

// TaskNote is one Task.note: plain words and when they were written.
type TaskNote struct {
	Text string
	Time time.Time
}

// Task renders a domain Task as a FHIR R4 Task.
func (r *Renderer) Task(t *adapter.Task, v TaskView) ([]byte, error) {
	return r.marshal(taskProto(t, v))
}

func taskProto(t *adapter.Task, v TaskView) *taskpb.Task {
	out := &taskpb.Task{
		Id:           id(t.ID),
		Meta:         &dtpb.Meta{VersionId: id(strconv.Itoa(t.Version)), LastUpdated: instantOf(t.LastModified)},
		Status:       withCode(&taskpb.Task_StatusCode{}, string(t.Status)),
		Intent:       withCode(&taskpb.Task_IntentCode{}, "order"),
		Code:         concept("", adapter.Coding{System: systemTaskCode, Code: "fulfill", Display: "Fulfill the focal request"}),
		Focus:        reference("ServiceRequest/"+t.ReferralID, ""),
		ForValue:     reference(t.Patient, ""),
		AuthoredOn:   dateTimeOf(t.AuthoredOn),
		LastModified: dateTimeOf(t.LastModified),
		Requester:    reference(requesterOf(t), ""),
		Owner:        ownerRef(t.Owner, v.OwnerName),
		BasedOn:      []*dtpb.Reference{reference("ServiceRequest/"+t.ReferralID, "")},
	}
	if t.Priority.Valid() {
		out.Priority = withCode(&taskpb.Task_PriorityCode{}, string(t.Priority))
	}
	if t.PartOf != "" {
		out.PartOf = []*dtpb.Reference{reference("Task/"+t.PartOf, "")}
	}
	if !t.BusinessStatus.IsZero() {
		out.BusinessStatus = concept(t.BusinessStatus.Display, t.BusinessStatus)
	}
	if t.StatusReason != "" {
		out.StatusReason = concept(t.StatusReason)
	}
	for _, ref := range v.Outputs {
		out.Output = append(out.Output, &taskpb.Task_Output{
			// Gravity SDOH Clinical Care names a Task output this way.
			Type:  concept("", adapter.Coding{System: SystemSDOHCCTemp, Code: "resulting-activity", Display: "Resulting Activity"}),
			Value: &taskpb.Task_Output_ValueX{Choice: &taskpb.Task_Output_ValueX_Reference{Reference: reference(ref, "")}},
		})
	}
	if v.Contact != "" {
		out.Note = append(out.Note, &dtpb.Annotation{Text: &dtpb.Markdown{Value: v.Contact}, Time: dateTimeOf(v.ContactSince)})
	}
	for _, n := range v.Notes {
		out.Note = append(out.Note, &dtpb.Annotation{Text: &dtpb.Markdown{Value: n.Text}, Time: dateTimeOf(n.Time)})
	}
	for _, a := range v.Alerts {
		out.Note = append(out.Note, &dtpb.Annotation{Text: &dtpb.Markdown{Value: a.Text}, Time: dateTimeOf(a.Time)})
	}
	if len(v.Alerts) > 0 {
		if out.Meta.Tag == nil {
			out.Meta.Tag = []*dtpb.Coding{}
		}
		out.Meta.Tag = append(out.Meta.Tag, coding(adapter.Coding{System: CodingSafeguarding.System, Code: CodingSafeguarding.Code,
			Display: "Safeguarding concern raised"}))
	}
	if v.Redacted {
		out.Meta.Security = append(out.Meta.Security, coding(adapter.Coding{System: SystemObservationValue, Code: CodeRedacted, Display: "redacted"}))
	}
	if !t.FirstContactDue.IsZero() {
		out.Restriction = &taskpb.Task_Restriction{Period: &dtpb.Period{End: dateTimeOf(t.FirstContactDue)}}
	}
	return out
}

// requesterOf returns the referrer, or the referring practice when the
// ServiceRequest named none.
func requesterOf(t *adapter.Task) string {
	if t.Requester != "" {
		return t.Requester
	}
	return "Organization?identifier=" + adapter.SystemODS + "|" + t.Practice
}

// ownerRef is the owning service, or nil for a Task that was never placed
// (stopped at intake by a safety screen).
func ownerRef(owner, name string) *dtpb.Reference {
	if owner == "" {
		return nil
	}
	return reference(adapter.ServiceRef(owner), name)
}

package fhir

import (
	"strconv"
	"strings"
	"time"

	dtpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
	parpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/parameters_go_proto"
	"github.com/google/uuid"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Notification is what one notification Bundle says.
type Notification struct {
	Subscription *adapter.Subscription // id, status, topic, event count
	Type         adapter.NotificationType
	Event        *adapter.TaskEvent // event notifications only
	BaseURL      string             // FHIR base for references; relative when empty
	Now          time.Time
}

// Notification renders an R4 topic-based notification Bundle as the
// Subscriptions R5 Backport IG specifies it: a history Bundle whose only
// entry is the Parameters SubscriptionStatus. The payload is id-only: the
// changed Task is named in notification-event.focus and no resource body
// is ever included, so nothing the patient did not agree to share, and no
// outcome, can travel in a notification.
func (r *Renderer) Notification(n Notification) ([]byte, error) {
	base := strings.TrimSuffix(n.BaseURL, "/")
	if base != "" {
		base += "/"
	}
	subRef := base + "Subscription/" + n.Subscription.ID
	statusID := uuid.NewString()
	b := &bcrpb.Bundle{
		Id:        id(uuid.NewString()),
		Meta:      &dtpb.Meta{Profile: []*dtpb.Canonical{{Value: ProfileNotification}}},
		Type:      withCode(&bcrpb.Bundle_TypeCode{}, "history"),
		Timestamp: instantOf(n.Now),
		Entry: []*bcrpb.Bundle_Entry{{
			FullUrl: uri("urn:uuid:" + statusID),
			Resource: &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_Parameters{
				Parameters: subscriptionStatus(statusID, subRef, base, n)}},
			Request: &bcrpb.Bundle_Entry_Request{
				Method: withCode(&bcrpb.Bundle_Entry_Request_MethodCode{}, "GET"),
				Url:    uri(subRef + "/$status"),
			},
			Response: &bcrpb.Bundle_Entry_Response{Status: str("200")},
		}},
	}
	return r.marshal(b)
}

func subscriptionStatus(statusID, subRef, base string, n Notification) *parpb.Parameters {
	status, events := string(n.Subscription.Status), n.Subscription.Events
	if n.Type == adapter.NotifyHandshake {
		status, events = string(adapter.SubscriptionRequested), 0
	}
	p := &parpb.Parameters{
		Id:   id(statusID),
		Meta: &dtpb.Meta{Profile: []*dtpb.Canonical{{Value: ProfileSubscriptionSt}}},
		Parameter: []*parpb.Parameters_Parameter{
			param("subscription", &parpb.Parameters_Parameter_ValueX{Choice: &parpb.Parameters_Parameter_ValueX_Reference{Reference: refURI(subRef)}}),
			param("topic", &parpb.Parameters_Parameter_ValueX{Choice: &parpb.Parameters_Parameter_ValueX_Canonical{Canonical: &dtpb.Canonical{Value: n.Subscription.Topic}}}),
			param("status", &parpb.Parameters_Parameter_ValueX{Choice: &parpb.Parameters_Parameter_ValueX_Code{Code: code(status)}}),
			param("type", &parpb.Parameters_Parameter_ValueX{Choice: &parpb.Parameters_Parameter_ValueX_Code{Code: code(string(n.Type))}}),
			param("events-since-subscription-start", stringValue(strconv.FormatInt(events, 10))),
		},
	}
	if ev := n.Event; ev != nil && n.Type == adapter.NotifyEvent {
		p.Parameter = append(p.Parameter, &parpb.Parameters_Parameter{
			Name: str("notification-event"),
			Part: []*parpb.Parameters_Parameter{
				param("event-number", stringValue(strconv.FormatInt(ev.Number, 10))),
				param("timestamp", &parpb.Parameters_Parameter_ValueX{Choice: &parpb.Parameters_Parameter_ValueX_Instant{Instant: instantOf(ev.Time)}}),
				param("focus", &parpb.Parameters_Parameter_ValueX{Choice: &parpb.Parameters_Parameter_ValueX_Reference{Reference: refURI(base + "Task/" + ev.TaskID)}}),
			},
		})
	}
	return p
}

func param(name string, v *parpb.Parameters_Parameter_ValueX) *parpb.Parameters_Parameter {
	return &parpb.Parameters_Parameter{Name: str(name), Value: v}
}

func stringValue(s string) *parpb.Parameters_Parameter_ValueX {
	return &parpb.Parameters_Parameter_ValueX{Choice: &parpb.Parameters_Parameter_ValueX_StringValue{StringValue: str(s)}}
}

func refURI(s string) *dtpb.Reference {
	return &dtpb.Reference{Reference: &dtpb.Reference_Uri{Uri: str(s)}}
}

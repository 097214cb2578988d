package fhir

import (
	"fmt"
	"mime"
	"net/url"
	"slices"
	"strings"
	"time"

	dtpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	subpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/subscription_go_proto"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Topic-based subscriptions in R4, as the HL7 Subscriptions R5 Backport IG
// (STU 1.1) defines them and the Gravity SDOH Clinical Care IG uses them.
const (
	// TopicTask is the Gravity SDOH Clinical Care Task topic: creation of
	// and changes to referral Tasks.
	TopicTask = "http://hl7.org/fhir/us/sdoh-clinicalcare/SubscriptionTopic/Task"

	backportSD            = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
	ExtFilterCriteria     = backportSD + "backport-filter-criteria"
	ExtPayloadContent     = backportSD + "backport-payload-content"
	ExtChannelType        = backportSD + "backport-channel-type"
	ExtHeartbeatPeriod    = backportSD + "backport-heartbeat-period"
	ExtTimeout            = backportSD + "backport-timeout"
	ExtMaxCount           = backportSD + "backport-max-count"
	ProfileSubscription   = backportSD + "backport-subscription"
	ProfileNotification   = backportSD + "backport-subscription-notification-r4"
	ProfileSubscriptionSt = backportSD + "backport-subscription-status-r4"

	// PayloadIDOnly is the only payload content the adapter sends.
	PayloadIDOnly = "id-only"
	// MediaTypeFHIRJSON is the only notification payload media type.
	MediaTypeFHIRJSON = "application/fhir+json"
)

// Limits on what a Subscription may carry.
const (
	MaxSubscriptionHeaders = 10
	maxHeaderLen           = 4096
	maxEndpointLen         = 2048
	maxReasonLen           = 1024
)

// SubscriptionRules is what the edge needs to judge an incoming
// Subscription: who is asking, the time, and whether plain http endpoints
// are allowed (tests and development only).
type SubscriptionRules struct {
	Practice  string
	Now       time.Time
	AllowHTTP bool
}

// SubscriptionFrom reads a validated R4 Subscription the practice wants to
// create. Accepted:
//
//   - criteria: the Gravity Task topic (TopicTask), optionally narrowed by
//     backport-filter-criteria extensions; or, for plain R4 clients,
//     "Task" or "Task?..." with the same filters in the query.
//   - filters: status=<task status>[,...] and
//     requester:identifier=https://fhir.nhs.uk/Id/ods-organization-code|<own ODS>.
//     The practice's own Tasks are always the scope; a filter naming
//     another practice is refused.
//   - channel.type rest-hook; endpoint https (http only with AllowHTTP);
//     payload application/fhir+json with backport-payload-content id-only
//     (id-only when the extension is absent); headers "Name: value".
//   - status requested or active (both start requested, pending the
//     handshake) or off.
//
// Heartbeat, timeout and max-count extensions are accepted and not
// honoured (the adapter sends no heartbeats and one event per
// notification); they are not echoed back, so the client can see that.
// Every problem found is reported at once, each naming its element.
func SubscriptionFrom(res *Resource, rules SubscriptionRules) (*adapter.Subscription, error) {
	sp := res.Msg.GetSubscription()
	if sp == nil {
		return nil, adapter.Errorf(adapter.EINVALID, "expected a Subscription resource").At("resourceType")
	}
	v := &subReader{rules: rules, out: &adapter.Subscription{Practice: rules.Practice, Topic: TopicTask}}
	v.status(sp)
	v.criteria(sp.GetCriteria())
	v.channel(sp.GetChannel())
	v.reasonAndEnd(sp)
	if len(sp.GetModifierExtension()) > 0 || len(sp.GetChannel().GetModifierExtension()) > 0 {
		v.fail(adapter.EBUSINESSRULE, "Subscription.modifierExtension", "modifier extensions are not supported")
	}
	if len(v.issues) > 0 {
		return nil, combine(v.issues)
	}
	return v.out, nil
}

// subReader collects the problems of one Subscription.
type subReader struct {
	rules  SubscriptionRules
	out    *adapter.Subscription
	issues []*adapter.Error
}

func (v *subReader) fail(code, at, format string, args ...any) {
	v.issues = append(v.issues, adapter.Errorf(code, format, args...).At(at))
}

func (v *subReader) status(sp *subpb.Subscription) {
	switch st := adapter.SubscriptionStatus(codeString(sp.GetStatus())); st {
	case adapter.SubscriptionRequested, adapter.SubscriptionActive:
		v.out.Status = adapter.SubscriptionRequested
	case adapter.SubscriptionOff:
		v.out.Status = adapter.SubscriptionOff
	default:
		v.fail(adapter.EBUSINESSRULE, "Subscription.status", "a new Subscription must be requested (or off), not %s", st)
	}
}

func (v *subReader) reasonAndEnd(sp *subpb.Subscription) {
	v.out.Reason = sp.GetReason().GetValue()
	if len(v.out.Reason) > maxReasonLen {
		v.fail(adapter.EVALUE, "Subscription.reason", "reason is longer than %d characters", maxReasonLen)
	}
	if e := sp.GetEnd(); e != nil {
		end := time.UnixMicro(e.GetValueUs()).UTC()
		if !end.After(v.rules.Now) {
			v.fail(adapter.EBUSINESSRULE, "Subscription.end", "end is in the past")
		}
		v.out.End = end
	}
}

// criteria reads the topic and its filters.
func (v *subReader) criteria(c *dtpb.String) {
	const at = "Subscription.criteria"
	crit := strings.TrimSpace(c.GetValue())
	var filters []string
	switch {
	case crit == TopicTask:
		for i, ext := range c.GetExtension() {
			if ext.GetUrl().GetValue() != ExtFilterCriteria {
				continue
			}
			s := ext.GetValue().GetStringValue().GetValue()
			if s == "" {
				v.fail(adapter.EREQUIRED, fmt.Sprintf("%s.extension[%d].valueString", at, i), "filter criteria must be a string")
				continue
			}
			filters = append(filters, s)
		}
	case crit == "Task" || strings.HasPrefix(crit, "Task?"):
		filters = append(filters, crit)
	default:
		v.fail(adapter.EBUSINESSRULE, at, "criteria must be the Gravity Task topic %s (or Task?... for plain R4 clients)", TopicTask)
		return
	}
	for _, f := range filters {
		v.filter(f)
	}
	slices.Sort(v.out.Filter.Statuses)
	v.out.Filter.Statuses = slices.Compact(v.out.Filter.Statuses)
}

// filter reads one search-style filter, "Task?status=completed" or
// "status=completed".
func (v *subReader) filter(f string) {
	const at = "Subscription.criteria"
	q := f
	if rt, rest, ok := strings.Cut(f, "?"); ok {
		if rt != "Task" {
			v.fail(adapter.EBUSINESSRULE, at, "filters may only apply to Task")
			return
		}
		q = rest
	} else if f == "Task" {
		return
	}
	vals, err := url.ParseQuery(q)
	if err != nil {
		v.fail(adapter.EVALUE, at, "filter criteria are not a valid search query")
		return
	}
	for name, vs := range vals {
		for _, val := range vs {
			v.filterParam(name, val)
		}
	}
}

func (v *subReader) filterParam(name, val string) {
	const at = "Subscription.criteria"
	switch name {
	case "status":
		for _, s := range strings.Split(val, ",") {
			st := adapter.TaskStatus(s)
			if !st.Valid() {
				v.fail(adapter.ECODEINVALID, at, "status filter: not a referral Task status")
				continue
			}
			v.out.Filter.Statuses = append(v.out.Filter.Statuses, st)
		}
	case "requester:identifier":
		if val != adapter.SystemODS+"|"+v.rules.Practice {
			v.fail(adapter.EBUSINESSRULE, at, "a practice can subscribe only to the Tasks of its own referrals")
		}
	default:
		v.fail(adapter.ENOTSUPPORTED, at, "filter parameter %q is not supported; supported: status, requester:identifier", adapter.Clip(name, 40))
	}
}

func (v *subReader) channel(ch *subpb.Subscription_Channel) {
	const at = "Subscription.channel"
	if t := codeString(ch.GetType()); t != "rest-hook" {
		v.fail(adapter.EBUSINESSRULE, at+".type", "only the rest-hook channel is supported, not %s", t)
	}
	for _, ext := range ch.GetType().GetExtension() {
		if ext.GetUrl().GetValue() == ExtChannelType {
			v.fail(adapter.EBUSINESSRULE, at+".type", "custom channel types are not supported")
		}
	}
	v.endpoint(ch.GetEndpoint().GetValue())
	v.payload(ch.GetPayload())
	for i, h := range ch.GetHeader() {
		v.header(i, h.GetValue())
	}
	if len(ch.GetHeader()) > MaxSubscriptionHeaders {
		v.fail(adapter.EBUSINESSRULE, at+".header", "at most %d headers are allowed", MaxSubscriptionHeaders)
	}
}

func (v *subReader) endpoint(raw string) {
	const at = "Subscription.channel.endpoint"
	if raw == "" {
		v.fail(adapter.EREQUIRED, at, "a rest-hook Subscription needs an endpoint")
		return
	}
	if err := CheckEndpoint(raw, v.rules.AllowHTTP); err != nil {
		v.issues = append(v.issues, err.At(at))
		return
	}
	v.out.Endpoint = raw
}

// CheckEndpoint reports whether raw is an endpoint notifications may be
// sent to: an absolute https URL (http only when allowHTTP) with a host,
// no credentials and no fragment.
func CheckEndpoint(raw string, allowHTTP bool) *adapter.Error {
	if len(raw) > maxEndpointLen {
		return adapter.Errorf(adapter.EVALUE, "endpoint is longer than %d characters", maxEndpointLen)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Hostname() == "" {
		return adapter.Errorf(adapter.EVALUE, "endpoint must be an absolute https URL")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowHTTP:
	case u.Scheme == "http":
		return adapter.Errorf(adapter.EBUSINESSRULE, "endpoint must use https")
	default:
		return adapter.Errorf(adapter.EBUSINESSRULE, "endpoint must be an https URL")
	}
	if u.User != nil || u.Fragment != "" {
		return adapter.Errorf(adapter.EBUSINESSRULE, "endpoint must not carry credentials or a fragment; use channel.header")
	}
	return nil
}

func (v *subReader) payload(p *subpb.Subscription_Channel_PayloadCode) {
	const at = "Subscription.channel.payload"
	if p.GetValue() == "" {
		v.fail(adapter.EREQUIRED, at, "payload is required: application/fhir+json")
		return
	}
	if mt, _, err := mime.ParseMediaType(p.GetValue()); err != nil || mt != MediaTypeFHIRJSON {
		v.fail(adapter.EBUSINESSRULE, at, "payload must be application/fhir+json")
	}
	for _, ext := range p.GetExtension() {
		if ext.GetUrl().GetValue() != ExtPayloadContent {
			continue
		}
		if c := ext.GetValue().GetCode().GetValue(); c != PayloadIDOnly {
			v.fail(adapter.EBUSINESSRULE, at+".extension('"+ExtPayloadContent+"')",
				"only id-only payloads are sent, so that no resource content ever leaves the adapter")
		}
	}
}

// forbiddenHeaders are set by the adapter or the HTTP transport and may
// not be chosen by a subscriber.
var forbiddenHeaders = []string{"host", "content-type", "content-length", "transfer-encoding", "connection",
	"upgrade", "te", "trailer", "keep-alive", "expect", "proxy-authorization", "proxy-connection", "user-agent"}

func (v *subReader) header(i int, h string) {
	at := fmt.Sprintf("Subscription.channel.header[%d]", i)
	name, val, ok := strings.Cut(h, ":")
	name, val = strings.TrimSpace(name), strings.TrimSpace(val)
	switch {
	case !ok || !isToken(name) || val == "":
		v.fail(adapter.EVALUE, at, "a header must be \"Name: value\"")
	case len(h) > maxHeaderLen || strings.ContainsAny(val, "\r\n\x00"):
		v.fail(adapter.EVALUE, at, "header value is too long or has control characters")
	case slices.Contains(forbiddenHeaders, strings.ToLower(name)):
		v.fail(adapter.EBUSINESSRULE, at, "header %s is set by the adapter", name)
	default:
		v.out.Headers = append(v.out.Headers, name+": "+val)
	}
}

// isToken reports whether s is an HTTP field name (RFC 9110 token).
func isToken(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// Subscription renders a stored Subscription for reads. Header values are
// redacted (they usually hold the subscriber's credentials); the names are
// shown so the subscriber can see what will be sent.
func (r *Renderer) Subscription(s *adapter.Subscription) ([]byte, error) {
	out := &subpb.Subscription{
		Id:       id(s.ID),
		Meta:     &dtpb.Meta{VersionId: id(fmt.Sprint(s.Version)), LastUpdated: instantOf(s.Updated), Profile: []*dtpb.Canonical{{Value: ProfileSubscription}}},
		Status:   withCode(&subpb.Subscription_StatusCode{}, string(s.Status)),
		Reason:   str(s.Reason),
		Criteria: &dtpb.String{Value: s.Topic},
		Channel: &subpb.Subscription_Channel{
			Type:     withCode(&subpb.Subscription_Channel_TypeCode{}, "rest-hook"),
			Endpoint: &dtpb.Url{Value: s.Endpoint},
			Payload: &subpb.Subscription_Channel_PayloadCode{Value: MediaTypeFHIRJSON, Extension: []*dtpb.Extension{{
				Url: uri(ExtPayloadContent), Value: &dtpb.Extension_ValueX{Choice: &dtpb.Extension_ValueX_Code{Code: code(PayloadIDOnly)}},
			}}},
		},
	}
	if s.Reason == "" {
		out.Reason = str("Task change notifications")
	}
	if !s.Filter.IsZero() {
		out.Criteria.Extension = []*dtpb.Extension{{Url: uri(ExtFilterCriteria),
			Value: &dtpb.Extension_ValueX{Choice: &dtpb.Extension_ValueX_StringValue{StringValue: str(FilterString(s.Filter))}}}}
	}
	if !s.End.IsZero() {
		out.End = instantOf(s.End)
	}
	if s.Error != "" {
		out.Error = str(s.Error)
	}
	for _, h := range s.Headers {
		name, _, _ := strings.Cut(h, ":")
		out.Channel.Header = append(out.Channel.Header, str(name+": [redacted]"))
	}
	return r.marshal(out)
}

// FilterString renders a filter as backport filter criteria.
func FilterString(f adapter.TaskFilter) string {
	st := make([]string, len(f.Statuses))
	for i, s := range f.Statuses {
		st[i] = string(s)
	}
	return "Task?status=" + strings.Join(st, ",")
}

package fhir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
	"github.com/tidwall/gjson"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// TxEntry is one entry of a transaction Bundle, parsed and validated.
type TxEntry struct {
	Index       int
	FullURL     string
	IfNoneExist string
	Resource    *Resource
}

// Path is the FHIRPath of the entry's resource, for error expressions.
func (e TxEntry) Path() string { return fmt.Sprintf("Bundle.entry[%d].resource", e.Index) }

// TaskCreatedHere answers a referral source that sends a Task for its
// referral, as Gravity SDOH Clinical Care has a source create one on the
// performer's system: here the adapter creates it.
const TaskCreatedHere = "the adapter creates each referral's Task itself when it accepts the ServiceRequest; " +
	"read it with GET /fhir/Task?focus=ServiceRequest/{id}"

// TxEntryTypes are the resource types a transaction may create.
var TxEntryTypes = []string{"ServiceRequest", "Consent", "Patient"}

// Transaction parses a transaction Bundle. Only POST (create, optionally
// conditional) of the TxEntryTypes is supported; anything else is rejected
// naming the entry.
func (p *Parser) Transaction(body []byte) ([]TxEntry, error) {
	res, err := p.Parse(body, "Bundle")
	if err != nil {
		return nil, alsoUnsupportedType(err, gjson.GetBytes(body, "type").Str)
	}
	b := res.Msg.GetBundle()
	if errs := bundleInvariants(b); len(errs) > 0 {
		return nil, alsoUnsupportedType(combine(errs), codeString(b.GetType()))
	}
	if err := unsupportedType(codeString(b.GetType())); err != nil {
		return nil, err
	}
	raws, err := entryResources(body)
	if err != nil || len(raws) != len(b.GetEntry()) {
		return nil, adapter.Errorf(adapter.ESTRUCTURE, "could not read Bundle entries").At("Bundle.entry")
	}
	if len(b.GetEntry()) == 0 {
		return nil, adapter.Errorf(adapter.EREQUIRED, "the transaction has no entries").At("Bundle.entry")
	}
	out := make([]TxEntry, 0, len(raws))
	fullURLs := map[string]int{}
	for i, e := range b.GetEntry() {
		te, err := txEntry(i, e, raws[i])
		if err != nil {
			return nil, err
		}
		// bdl-7: a fullUrl names one entry, or references between entries
		// would resolve to the wrong resource.
		if j, dup := fullURLs[te.FullURL]; dup && te.FullURL != "" {
			return nil, adapter.Errorf(adapter.EINVALID, "entry %d has the same fullUrl as entry %d", i, j).At(fmt.Sprintf("Bundle.entry[%d].fullUrl", i))
		}
		fullURLs[te.FullURL] = i
		out = append(out, te)
	}
	return out, nil
}

// unsupportedType refuses a Bundle of any type but transaction; nil for a
// transaction.
func unsupportedType(t string) *adapter.Error {
	switch t {
	case "transaction":
		return nil
	case "message":
		return adapter.Errorf(adapter.ENOTSUPPORTED,
			"a message Bundle (FHIR messaging, as NHS BaRS sends) is not processed here: post a transaction Bundle to the base URL, or each resource to its type").At("Bundle.type")
	}
	return adapter.Errorf(adapter.ENOTSUPPORTED, "only transaction Bundles can be posted to the base URL; type is %q", t).At("Bundle.type")
}

// alsoUnsupportedType adds to the problems found in a Bundle that its type
// is not processed here either, when it is not a transaction: a sender
// who fixes the rest should not learn that only next time.
func alsoUnsupportedType(err error, t string) error {
	var e *adapter.Error
	if t == "" || !errors.As(err, &e) {
		return err
	}
	more := unsupportedType(t)
	if more == nil {
		return err
	}
	c := *e
	c.Issues = append(slices.Clone(e.Issues), more)
	return &c
}

// bundleInvariants checks the Bundle invariants of FHIR R4 (bdl-1 to
// bdl-12) before anything is read from a Bundle's entries, so a malformed
// Bundle is told what is wrong with it whatever its type.
func bundleInvariants(b *bcrpb.Bundle) []*adapter.Error {
	var errs []*adapter.Error
	fail := func(at, format string, args ...any) {
		errs = append(errs, adapter.Errorf(adapter.EINVARIANT, format, args...).At(at))
	}
	t := codeString(b.GetType())
	search, history := t == "searchset", t == "history"
	requests := t == "batch" || t == "transaction" || history
	responses := t == "batch-response" || t == "transaction-response" || history
	if b.GetTotal() != nil && !search && !history {
		fail("Bundle.total", "total only when a search or history (bdl-1)")
	}
	for i, e := range b.GetEntry() {
		at := fmt.Sprintf("Bundle.entry[%d]", i)
		switch {
		case e.GetSearch() != nil && !search:
			fail(at+".search", "entry.search only when a search (bdl-2)")
		case (e.GetRequest() != nil) != requests:
			fail(at+".request", "entry.request mandatory for batch, transaction and history, otherwise prohibited (bdl-3)")
		case (e.GetResponse() != nil) != responses:
			fail(at+".response", "entry.response mandatory for batch-response, transaction-response and history, otherwise prohibited (bdl-4)")
		case e.GetResource() == nil && e.GetRequest() == nil && e.GetResponse() == nil:
			fail(at, "an entry must have a resource, or information about the request or response (bdl-5)")
		case strings.Contains(e.GetFullUrl().GetValue(), "/_history/"):
			fail(at+".fullUrl", "fullUrl cannot be a version specific reference (bdl-8)")
		}
	}
	first := ""
	if len(b.GetEntry()) > 0 {
		first = resourceTypeOf(b.GetEntry()[0].GetResource())
	}
	switch t {
	case "document":
		if b.GetIdentifier().GetSystem() == nil || b.GetIdentifier().GetValue() == nil {
			fail("Bundle.identifier", "a document must have an identifier with a system and a value (bdl-9)")
		}
		if b.GetTimestamp() == nil {
			fail("Bundle.timestamp", "a document must have a date (bdl-10)")
		}
		if first != "Composition" {
			fail("Bundle.entry[0].resource", "a document must have a Composition as the first resource (bdl-11)")
		}
	case "message":
		if first != "MessageHeader" {
			fail("Bundle.entry[0].resource", "a message must have a MessageHeader as the first resource (bdl-12)")
		}
	}
	return errs
}

func txEntry(i int, e *bcrpb.Bundle_Entry, raw json.RawMessage) (TxEntry, error) {
	at := fmt.Sprintf("Bundle.entry[%d]", i)
	req := e.GetRequest()
	if req == nil {
		return TxEntry{}, adapter.Errorf(adapter.EREQUIRED, "entry %d needs a request", i).At(at + ".request")
	}
	if m := codeString(req.GetMethod()); m != "post" {
		return TxEntry{}, adapter.Errorf(adapter.ENOTSUPPORTED, "entry %d: only POST (create) is supported in a transaction, not %s", i, strings.ToUpper(m)).At(at + ".request.method")
	}
	if e.GetResource() == nil {
		return TxEntry{}, adapter.Errorf(adapter.EREQUIRED, "entry %d: a POST needs the resource to create", i).At(at + ".resource")
	}
	rt := resourceTypeOf(e.GetResource())
	if !contains(TxEntryTypes, rt) {
		hint := ""
		if rt == "Task" {
			hint = ": " + TaskCreatedHere
		}
		return TxEntry{}, adapter.Errorf(adapter.ENOTSUPPORTED, "entry %d: a transaction may create %s, not %s%s", i, strings.Join(TxEntryTypes, ", "), rt, hint).At(at + ".resource")
	}
	if u := strings.TrimPrefix(req.GetUrl().GetValue(), "/"); u != rt {
		return TxEntry{}, adapter.Errorf(adapter.EINVALID, "entry %d: request.url must be %q for a %s", i, rt, rt).At(at + ".request.url")
	}
	return TxEntry{
		Index:       i,
		FullURL:     e.GetFullUrl().GetValue(),
		IfNoneExist: req.GetIfNoneExist().GetValue(),
		Resource:    &Resource{Type: rt, Msg: e.GetResource(), Raw: raw},
	}, nil
}

func resourceTypeOf(cr *bcrpb.ContainedResource) string {
	r := cr.ProtoReflect()
	od := r.Descriptor().Oneofs().ByName("oneof_resource")
	if od == nil {
		return ""
	}
	f := r.WhichOneof(od)
	if f == nil {
		return ""
	}
	return string(f.Message().Name())
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// entryResources slices the raw resource of each entry out of the Bundle,
// so resources are stored as received rather than re-marshalled.
func entryResources(body []byte) ([]json.RawMessage, error) {
	entries := gjson.GetBytes(body, "entry")
	if !entries.Exists() {
		return nil, nil
	}
	if !entries.IsArray() {
		return nil, errors.New("fhir: Bundle.entry is not an array")
	}
	var out []json.RawMessage
	for _, e := range entries.Array() {
		out = append(out, json.RawMessage(e.Get("resource").Raw))
	}
	return out, nil
}

// RewriteReferences replaces each Reference.reference (a "reference"
// member's string value) equal to a key of refs (e.g. "urn:uuid:...") with
// its value (e.g. "Patient/123"), as a transaction resolves its entries'
// references. Any other string, an identifier's value that happens to be
// the same urn:uuid among them, is left as it is. Raw is returned
// unchanged (the same bytes) when nothing is rewritten.
func RewriteReferences(raw []byte, refs map[string]string) []byte {
	mentioned := false
	for from := range refs {
		q, _ := json.Marshal(from)
		if bytes.Contains(raw, q) {
			mentioned = true
			break
		}
	}
	if !mentioned {
		return raw
	}
	dec := jsontext.NewDecoder(bytes.NewReader(raw))
	var out bytes.Buffer
	enc := jsontext.NewEncoder(&out)
	changed := false
	for {
		tok, err := dec.ReadToken()
		if err != nil {
			if !errors.Is(err, io.EOF) || !changed {
				return raw // raw was validated: only an unchanged body gets here
			}
			return out.Bytes()
		}
		if tok.Kind() == '"' && isReferenceValue(dec) {
			if to, ok := refs[tok.String()]; ok {
				tok, changed = jsontext.String(to), true
			}
		}
		if err := enc.WriteToken(tok); err != nil {
			return raw
		}
	}
}

// isReferenceValue reports whether the string token just read is the value
// (not the name) of an object member named "reference".
func isReferenceValue(dec *jsontext.Decoder) bool {
	kind, n := dec.StackIndex(dec.StackDepth())
	if kind != '{' || n%2 != 0 {
		return false
	}
	p := string(dec.StackPointer())
	return strings.HasSuffix(p, "/reference")
}

// BundleEntry is one entry of a Bundle the adapter returns.
type BundleEntry struct {
	FullURL  string          `json:"fullUrl,omitempty"`
	Resource json.RawMessage `json:"resource,omitempty"`
	Search   *EntrySearch    `json:"search,omitempty"`
	Response *EntryResponse  `json:"response,omitempty"`
}

// EntrySearch marks a search result.
type EntrySearch struct {
	Mode string `json:"mode"`
}

// EntryResponse is the outcome of one transaction entry.
type EntryResponse struct {
	Status       string `json:"status"`
	Location     string `json:"location,omitempty"`
	Etag         string `json:"etag,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
	// Outcome is an OperationOutcome (already FHIR JSON) with warnings about
	// the entry, e.g. a referral stopped by a safety screen.
	Outcome json.RawMessage `json:"outcome,omitempty"`
}

// bundleEnvelope is the Bundle wrapper around entries whose resources are
// already validated FHIR JSON; only the envelope is marshalled here.
type bundleEnvelope struct {
	ResourceType string        `json:"resourceType"`
	ID           string        `json:"id,omitempty"`
	Meta         *bundleMeta   `json:"meta,omitempty"`
	Type         string        `json:"type"`
	Total        *int          `json:"total,omitempty"`
	Link         []bundleLink  `json:"link,omitempty"`
	Entry        []BundleEntry `json:"entry,omitempty"`
}

type bundleMeta struct {
	LastUpdated string `json:"lastUpdated"`
}

type bundleLink struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

// Page is one page of a search: its links (self always; next and
// previous when there are such pages) and, when known, the number of
// matches in all pages.
type Page struct {
	Self, Next, Previous string
	Total                *int // nil: not known without reading every page
}

// SearchSet renders a searchset Bundle of one page.
func SearchSet(id string, now time.Time, page Page, entries []BundleEntry) ([]byte, error) {
	for i := range entries {
		entries[i].Search = &EntrySearch{Mode: "match"}
	}
	links := []bundleLink{{Relation: "self", URL: page.Self}}
	if page.Next != "" {
		links = append(links, bundleLink{Relation: "next", URL: page.Next})
	}
	if page.Previous != "" {
		links = append(links, bundleLink{Relation: "previous", URL: page.Previous})
	}
	return json.Marshal(bundleEnvelope{
		ResourceType: "Bundle", ID: id, Meta: &bundleMeta{LastUpdated: Instant(now)},
		Type: "searchset", Total: page.Total, Link: links, Entry: entries,
	})
}

// TransactionResponse renders a transaction-response Bundle.
func TransactionResponse(id string, now time.Time, entries []BundleEntry) ([]byte, error) {
	return json.Marshal(bundleEnvelope{
		ResourceType: "Bundle", ID: id, Meta: &bundleMeta{LastUpdated: Instant(now)},
		Type: "transaction-response", Entry: entries,
	})
}

// Instant formats t as a FHIR instant (UTC, millisecond precision).
func Instant(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

package fhir

import (
	"strings"

	"github.com/tidwall/gjson"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// requesterFacts reads what a ServiceRequest's requester says about who
// referred: the kind of resource it names (from the reference, its type,
// or the contained resource it points at) and the ODS codes of every
// organisation it names: by identifier, by a conditional reference
// (Organization?identifier=<ODS system>|X), as a contained Organization,
// or as the organization of a contained PractitionerRole.
func requesterFacts(raw []byte) (kind string, orgs []string) {
	req := gjson.GetBytes(raw, "requester")
	if !req.IsObject() {
		return "", nil
	}
	return refFacts(raw, req, true)
}

// refFacts reads one Reference; follow says whether a contained
// PractitionerRole's organization is followed (once: a contained
// resource's own references go no further).
func refFacts(raw []byte, ref gjson.Result, follow bool) (kind string, orgs []string) {
	kind = ref.Get("type").String()
	orgs = appendODS(orgs, ref.Get("identifier"))
	r := ref.Get("reference").String()
	switch {
	case strings.HasPrefix(r, "#"):
		c := containedByID(raw, r[1:])
		if !c.Exists() {
			break
		}
		kind = c.Get("resourceType").String()
		switch kind {
		case "Organization":
			c.Get("identifier").ForEach(func(_, id gjson.Result) bool {
				orgs = appendODS(orgs, id)
				return true
			})
		case "PractitionerRole":
			if follow {
				if org := c.Get("organization"); org.IsObject() {
					_, named := refFacts(raw, org, false)
					orgs = append(orgs, named...)
				}
			}
		}
	case r != "":
		if t := referenceType(r); t != "" {
			kind = t
		}
		if ods, ok := strings.CutPrefix(r, "Organization?identifier="+adapter.SystemODS+"|"); ok {
			orgs = append(orgs, ods)
		}
	}
	return kind, orgs
}

// appendODS adds an Identifier's value when its system is the ODS code
// system.
func appendODS(orgs []string, id gjson.Result) []string {
	if id.Get("system").String() == adapter.SystemODS {
		if v := id.Get("value").String(); v != "" {
			return append(orgs, v)
		}
	}
	return orgs
}

// containedByID is the contained resource with the given id.
func containedByID(raw []byte, id string) gjson.Result {
	var out gjson.Result
	gjson.GetBytes(raw, "contained").ForEach(func(_, c gjson.Result) bool {
		if c.Get("id").String() == id {
			out = c
			return false
		}
		return true
	})
	return out
}

// referenceType is the resource type a literal or conditional reference
// names: "Organization" for Organization/1, Organization?identifier=...
// and https://example.org/fhir/Organization/1.
func referenceType(ref string) string {
	if i := strings.IndexByte(ref, '?'); i >= 0 {
		if ref = ref[:i]; !strings.Contains(ref, "/") {
			return ref
		}
	}
	parts := strings.Split(strings.TrimSuffix(ref, "/"), "/")
	if len(parts) >= 2 {
		if t := parts[len(parts)-2]; t != "" && t[0] >= 'A' && t[0] <= 'Z' {
			return t
		}
	}
	return ""
}

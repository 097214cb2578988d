package intake

import (
	"bytes"
	"fmt"
	"regexp"

	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// restfulURL is a RESTful fullUrl, FHIR R4's pattern for an absolute
// reference: a base, the resource type and its id (no version).
var restfulURL = regexp.MustCompile(`^(https?://[^\s?#]+)/([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})$`)

// linkEntries resolves the references between a transaction's entries
// that name an entry by a RESTful fullUrl, as FHIR R4 says a server does
// (Bundle, "Resolving references in Bundles"; http, "Transaction
// Processing Rules": the server replaces every reference to the fullUrl
// of an entry it creates with the new location). A reference resolves to
// the entry whose fullUrl it equals, and a relative reference Type/id to
// the entry whose RESTful fullUrl ends in it (as reference servers do,
// whatever the referring entry's base), unless two entries do.
//
// Each such entry is given a fullUrl of the urn:uuid form for the rest of
// intake, and the references to it (in its referrers' parsed facts and
// bytes) name that instead: from there on they are resolved, rewritten
// and checked as urn:uuid references are. A referral whose subject names
// an entry's Patient is then that Patient's, not a reference to nothing.
func linkEntries(plans []*plan) {
	aliases := map[string]string{}
	relative := map[string]int{} // Type/id → entries with that tail
	for _, p := range plans {
		tx := p.entry.Tx
		if tx == nil {
			continue
		}
		m := restfulURL.FindStringSubmatch(tx.FullURL)
		if m == nil || m[2] != p.res.Type {
			continue
		}
		key := fmt.Sprintf("urn:uuid:restful-entry-%d", tx.Index)
		aliases[tx.FullURL] = key
		tail := m[2] + "/" + m[3]
		relative[tail]++
		aliases[tail] = key
		moved := *tx
		moved.FullURL = key
		p.entry.Tx = &moved
	}
	for tail, n := range relative {
		if n > 1 { // ambiguous: left as a reference to this server's resource
			delete(aliases, tail)
		}
	}
	if len(aliases) == 0 {
		return
	}
	for _, p := range plans {
		if p.entry.Tx != nil {
			relink(p, aliases)
		}
	}
}

// relink points one entry's references at the entries they name.
func relink(p *plan, aliases map[string]string) {
	if raw := fhir.RewriteReferences(p.res.Raw, aliases); !bytes.Equal(raw, p.res.Raw) {
		res := *p.res
		res.Raw = raw
		p.res = &res
	}
	switch {
	case p.ref != nil:
		p.ref.Subject = resolve(p.ref.Subject, aliases)
		p.ref.Requester = resolve(p.ref.Requester, aliases)
	case p.consent != nil:
		p.consent.Patient = resolve(p.consent.Patient, aliases)
	}
}

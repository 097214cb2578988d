package adapter

import "testing"

func TestCheckRequester(t *testing.T) {
	for _, c := range []struct {
		kind string
		orgs []string
		ok   bool
	}{
		{"", nil, true},
		{"Organization", []string{"A81001"}, true},
		{"Organization", []string{"a81001"}, true},
		{"PractitionerRole", nil, true},
		{"PractitionerRole", []string{"A81001"}, true},
		{"Practitioner", nil, true},
		{"Patient", nil, true},
		{"RelatedPerson", nil, true},
		{"Organization", []string{"B82002"}, false},
		{"Organization", []string{"A81001", "B82002"}, false},
		{"PractitionerRole", []string{"B82002"}, false},
		{"", []string{"B82002"}, false},
		{"Organization", nil, false},
	} {
		r := Referral{RequesterKind: c.kind, RequesterOrgs: c.orgs}
		err := r.CheckRequester("A81001")
		if (err == nil) != c.ok {
			t.Errorf("%s %v: %v", c.kind, c.orgs, err)
		}
		if e, _ := err.(*Error); err != nil && (e.Code != EBUSINESSRULE || len(e.Expression) != 1 || e.Expression[0] != "ServiceRequest.requester") {
			t.Errorf("%s %v: %v", c.kind, c.orgs, err)
		}
	}
}

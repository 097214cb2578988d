package fhir

import (
	"slices"
	"testing"
)

func TestRequesterFacts(t *testing.T) {
	const ods = `{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"B82002"}`
	cases := []struct {
		name, raw string
		kind      string
		orgs      []string
	}{
		{"none", `{}`, "", nil},
		{"organisation by identifier", `{"requester":{"type":"Organization","identifier":` + ods + `}}`, "Organization", []string{"B82002"}},
		{"conditional reference", `{"requester":{"reference":"Organization?identifier=https://fhir.nhs.uk/Id/ods-organization-code|B82002"}}`, "Organization", []string{"B82002"}},
		{"literal organisation", `{"requester":{"reference":"Organization/1"}}`, "Organization", nil},
		{"absolute organisation", `{"requester":{"reference":"https://ehr.example/fhir/Organization/1"}}`, "Organization", nil},
		{"practitioner role", `{"requester":{"reference":"PractitionerRole/1"}}`, "PractitionerRole", nil},
		{"patient", `{"requester":{"reference":"Patient/1"}}`, "Patient", nil},
		{"urn", `{"requester":{"reference":"urn:uuid:9f1c1b3e-0000-4000-8000-000000000001"}}`, "", nil},
		{"contained organisation", `{"contained":[{"resourceType":"Organization","id":"o","identifier":[{"system":"x","value":"y"},` + ods + `]}],"requester":{"reference":"#o"}}`,
			"Organization", []string{"B82002"}},
		{"contained role", `{"contained":[{"resourceType":"PractitionerRole","id":"r","organization":{"identifier":` + ods + `}}],"requester":{"reference":"#r"}}`,
			"PractitionerRole", []string{"B82002"}},
		{"contained role, contained organisation", `{"contained":[{"resourceType":"PractitionerRole","id":"r","organization":{"reference":"#o"}},` +
			`{"resourceType":"Organization","id":"o","identifier":[` + ods + `]}],"requester":{"reference":"#r"}}`, "PractitionerRole", []string{"B82002"}},
		{"contained practitioner", `{"contained":[{"resourceType":"Practitioner","id":"p"}],"requester":{"reference":"#p"}}`, "Practitioner", nil},
		{"dangling fragment", `{"requester":{"reference":"#nowhere","type":"PractitionerRole"}}`, "PractitionerRole", nil},
	}
	for _, c := range cases {
		kind, orgs := requesterFacts([]byte(c.raw))
		if kind != c.kind || !slices.Equal(orgs, c.orgs) {
			t.Errorf("%s: %q %v, want %q %v", c.name, kind, orgs, c.kind, c.orgs)
		}
	}
}

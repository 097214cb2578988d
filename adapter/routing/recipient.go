package routing

import (
	"strings"

	"github.com/social-prescribing/referral-adapter/adapter/consent"
)

// Recipient is the organisation providing a service, as the recipient of a
// referral's data that the patient's consent must cover: by its ODS code,
// and, when the network made it a partner under one of its data sharing
// agreements, with that agreement (a Consent to share with the network that
// cites it covers the partner too).
func (m *Mappings) Recipient(service string) (consent.Recipient, bool) {
	svc, ok := m.services[service]
	if !ok {
		return consent.Recipient{}, false
	}
	r := consent.Recipient{Org: svc.ProvidedBy.ODS}
	if svc.SharingAgreement != "" && svc.ProvidedBy.ODS != m.Network.ODS {
		r.Via = []consent.Agreement{{Policy: svc.SharingAgreement, Reference: consent.OrgRef(m.Network.ODS)}}
	}
	return r, true
}

// KnownOrg reports whether an ODS code is an organisation of the directory:
// the network or the provider of one of its services. Consents may name
// these by literal reference (Organization/{ODS code}).
func (m *Mappings) KnownOrg(ods string) bool {
	if strings.EqualFold(ods, m.Network.ODS) {
		return true
	}
	for _, s := range m.services {
		if strings.EqualFold(ods, s.ProvidedBy.ODS) {
			return true
		}
	}
	return false
}

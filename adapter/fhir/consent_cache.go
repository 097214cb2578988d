package fhir

import (
	"context"
	"crypto/sha256"

	"github.com/social-prescribing/referral-adapter/adapter/consent"
	"github.com/social-prescribing/referral-adapter/internal/fifo"
)

// consentCacheSize bounds the engine consents kept in memory: about 2 KB
// each, so at most a few MB.
const consentCacheSize = 4096

// consentCache keeps the engine form of stored Consents by a hash of their
// bytes, so a referral's consent check does not unmarshal and validate the
// patient's Consents again on every request (it was 40% of intake CPU).
// Keyed by content, an entry can never be stale: a withdrawn Consent is
// new bytes. Callers must not modify the Consents it returns (the engine
// only reads them).
type consentCache = fifo.Cache[[sha256.Size]byte, consent.Consent]

func newConsentCache() *consentCache { return &consentCache{Max: consentCacheSize} }

// KeepConsent records the engine form of a Consent about to be stored as
// body, so that reading it back (Consents) does not parse it again. The
// caller vouches that c is what parsing body would give (intake, which
// has just parsed the same resource and only stamped its id and meta).
func (p *Parser) KeepConsent(body []byte, c consent.Consent) {
	p.consents.Put(sha256.Sum256(body), c)
}

// ConsentStore gives the stored Consents a practice sent for a patient.
type ConsentStore interface {
	PatientConsents(ctx context.Context, practice, patient string) ([][]byte, error)
}

// ConsentReader reads a patient's stored Consents in the consent engine's
// form (access.Consents), each body parsed once (the parser's cache).
type ConsentReader struct {
	store  ConsentStore
	parser *Parser
}

// ConsentReader returns a reader of the store's Consents.
func (p *Parser) ConsentReader(s ConsentStore) *ConsentReader {
	return &ConsentReader{store: s, parser: p}
}

// PatientConsents returns the Consents the practice sent for the patient.
func (r *ConsentReader) PatientConsents(ctx context.Context, practice, patient string) ([]consent.Consent, error) {
	bodies, err := r.store.PatientConsents(ctx, practice, patient)
	if err != nil {
		return nil, err
	}
	return r.parser.Consents(patient, bodies), nil
}

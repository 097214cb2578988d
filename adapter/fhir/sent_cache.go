package fhir

import (
	"crypto/sha256"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/consent"
	"github.com/social-prescribing/referral-adapter/internal/fifo"
)

// sentCacheSize bounds the Consents ParseSentConsent keeps: each is what
// intake reads of it (summary and engine form), not its parsed message,
// so the cache holds few objects for the garbage collector to visit.
const sentCacheSize = 1024

// sentConsent is what intake reads of a Consent a practice sent.
type sentConsent struct {
	summary ConsentSummary
	engine  consent.Consent
}

// sentCache keeps the Consents practices sent that passed validation, by
// a hash of the practice and the exact bytes: an EHR that sends the
// patient's Consent again with each referral has it parsed and validated
// once (issue 22). Keyed by content, an entry can never be stale; anything
// new, even by one byte, is parsed and validated by google/fhir/go as
// before.
type sentCache = fifo.Cache[[sha256.Size]byte, sentConsent]

func newSentCache() *sentCache { return &sentCache{Max: sentCacheSize} }

// ParseSentConsent is Parse of a Consent the practice sent, with what
// intake reads of it (ConsentSummaryFrom, ConsentFrom). A Consent that
// passes is remembered, and the same bytes from the same practice are
// answered from memory afterwards without parsing or validating them
// again: every check of Parse depends on the bytes alone. The Resource
// answered from memory has no Msg (its Type and Raw only). What intake
// then does with the Consent (consent.Check against the clock, the
// store's identifier check, the consent decisions) runs on every request.
// Callers must not modify the engine Consent's slices (as for Consents).
func (p *Parser) ParseSentConsent(body []byte, practice string) (*Resource, *ConsentSummary, consent.Consent, error) {
	h := sha256.New()
	h.Write([]byte(practice))
	h.Write([]byte{0})
	h.Write(body)
	var key [sha256.Size]byte
	h.Sum(key[:0])
	if sc, ok := p.sent.Get(key); ok {
		sum := sc.summary
		return &Resource{Type: adapter.KindConsent, Raw: body}, &sum, sc.engine, nil
	}
	res, err := p.Parse(body, adapter.KindConsent)
	if err != nil {
		return nil, nil, consent.Consent{}, err
	}
	sum, err := ConsentSummaryFrom(res)
	if err != nil {
		return nil, nil, consent.Consent{}, err
	}
	eng, err := ConsentFrom(res)
	if err != nil {
		return nil, nil, consent.Consent{}, err
	}
	p.sent.Put(key, sentConsent{summary: *sum, engine: eng})
	return res, sum, eng, nil
}

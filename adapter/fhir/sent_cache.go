package fhir

import (
	"bytes"
	"crypto/sha256"
	"slices"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/internal/fifo"
)

// sentCacheSize bounds the Consents ParseSent keeps: each is its bytes and
// its parsed message, some 10 KB, so at most about 10 MB.
const sentCacheSize = 1024

// sentCache keeps the Consents practices sent that passed Parse, by a hash
// of the practice and the exact bytes: an EHR that sends the patient's
// Consent again with each referral has it parsed and validated once
// (issue 22). Keyed by content, an entry can never be stale; anything new,
// even by one byte, is parsed and validated by google/fhir/go as before.
type sentCache = fifo.Cache[[sha256.Size]byte, *Resource]

func newSentCache() *sentCache { return &sentCache{Max: sentCacheSize} }

// ParseSent is Parse of a body the practice sent. A Consent that passes is
// remembered, and the same bytes from the same practice are answered from
// memory afterwards, without parsing or validating them again: every check
// of Parse depends on the bytes alone. What intake does with the Consent
// (consent.Check against the clock, the store's identifier check, the
// consent decisions) is not remembered and runs on every request. Callers
// must not modify the Resource returned (intake only reads it).
func (p *Parser) ParseSent(body []byte, practice string, want ...string) (*Resource, error) {
	if len(want) > 0 && !slices.Contains(want, adapter.KindConsent) {
		return p.Parse(body, want...)
	}
	h := sha256.New()
	h.Write([]byte(practice))
	h.Write([]byte{0})
	h.Write(body)
	var key [sha256.Size]byte
	h.Sum(key[:0])
	if res, ok := p.sent.Get(key); ok {
		return res, nil
	}
	res, err := p.Parse(body, want...)
	if err != nil || res.Type != adapter.KindConsent {
		return res, err
	}
	kept := *res
	kept.Raw = bytes.Clone(body) // the request's buffer is not ours to keep
	p.sent.Put(key, &kept)
	return &kept, nil
}

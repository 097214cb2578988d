package fhir

import (
	"crypto/sha256"
	"sync"

	"github.com/social-prescribing/referral-adapter/adapter/consent"
)

// consentCacheSize bounds the engine consents kept in memory: about 2 KB
// each, so at most a few MB.
const consentCacheSize = 4096

// consentCache keeps the engine form of stored Consents by a hash of their
// bytes, so a referral's consent check does not unmarshal and validate the
// patient's Consents again on every request (it was 40% of intake CPU).
// Keyed by content, an entry can never be stale: a withdrawn Consent is
// new bytes. Entries are evicted oldest first. Callers must not modify
// the Consents it returns (the engine only reads them).
type consentCache struct {
	mu    sync.Mutex
	m     map[[sha256.Size]byte]consent.Consent
	order [][sha256.Size]byte // insertion order, for eviction
}

func (c *consentCache) get(k [sha256.Size]byte) (consent.Consent, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

func (c *consentCache) put(k [sha256.Size]byte, v consent.Consent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[[sha256.Size]byte]consent.Consent, consentCacheSize)
	}
	if _, ok := c.m[k]; ok {
		return
	}
	if len(c.order) >= consentCacheSize {
		delete(c.m, c.order[0])
		c.order = c.order[1:]
	}
	c.m[k] = v
	c.order = append(c.order, k)
}

// KeepConsent records the engine form of a Consent about to be stored as
// body, so that reading it back (Consents) does not parse it again. The
// caller vouches that c is what parsing body would give (intake, which
// has just parsed the same resource and only stamped its id and meta).
func (p *Parser) KeepConsent(body []byte, c consent.Consent) {
	p.consents.put(sha256.Sum256(body), c)
}

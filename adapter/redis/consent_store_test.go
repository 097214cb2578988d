package redis_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/redis"
	"github.com/social-prescribing/referral-adapter/internal/redistest"
	"github.com/social-prescribing/referral-adapter/internal/testfiles"
)

// Consents are stored compressed (codec.go) in their hash's json field;
// every reader gets the JSON back byte for byte, Consents stored as plain
// JSON before compression still read, and the retention purge still
// frees their identifiers. On real Redis and on miniredis.
func TestStoredConsents(t *testing.T) {
	redistest.RunContract(t, redis.New, map[string]func(*testing.T, *redis.Store){
		"a Consent is stored compressed and every reader gets its JSON byte for byte":      testConsentStoredCompressed,
		"a Consent stored as plain JSON still reads, and is purged with its identifier":    testPlainConsentStillReadsAndPurges,
		"the retention purge frees a compressed Consent's identifier, and a new version's": testPurgeFreesCompressedConsentIdentifier,
		"a damaged stored Consent is an error, not garbage":                                testDamagedConsent,
		"a patient's Consents are read under its NHS number and its Patient/id alike":      testConsentsUnderBothReferences,
		"a Consent with two identifiers is found under each, and the purge frees both":     testConsentTwoIdentifiers,
	})
}

// testConsentsUnderBothReferences: a practice names one patient by NHS
// number or as the Patient it sent with that number; each read of the
// patient's Consents, by either reference, finds those sent either way
// (each once), and nobody else's.
func testConsentsUnderBothReferences(t *testing.T, s *redis.Store) {
	nhs := adapter.Identifier{System: adapter.SystemNHSNumber, Value: "9000000009"}
	byNHS, byID := "Patient?identifier="+nhs.String(), "Patient/p1"
	intake(t, s, &adapter.Submission{Kind: adapter.KindPatient, ID: "p1", Identifier: nhs,
		JSON: []byte(`{"resourceType":"Patient","id":"p1","identifier":[{"system":"` + nhs.System + `","value":"` + nhs.Value + `"}]}`)})
	intake(t, s, storedConsent(t, "c1", "CON-1", byNHS), storedConsent(t, "c2", "CON-2", byID))
	for _, ref := range []string{byNHS, byID} {
		cs, err := s.PatientConsents(ctx, prac, ref)
		if err != nil || len(cs) != 2 {
			t.Errorf("PatientConsents(%s) = %d Consents, %v; want both", ref, len(cs), err)
		}
		found, err := s.IntakeLookups(ctx, adapter.IntakeLookup{Practice: prac, Patients: []string{ref}})
		if err != nil || len(found.Consents[ref]) != 2 {
			t.Errorf("IntakeLookups(%s) = %d Consents, %v; want both", ref, len(found.Consents[ref]), err)
		}
		if cs, err := s.PatientConsents(ctx, "B82002", ref); err != nil || len(cs) != 0 {
			t.Errorf("another practice reads %d of them (%v)", len(cs), err)
		}
	}
	// Another patient's references read only their own.
	if cs, err := s.PatientConsents(ctx, prac, "Patient/p2"); err != nil || len(cs) != 0 {
		t.Errorf("Patient/p2 reads %d Consents (%v)", len(cs), err)
	}
}

var consentSystem = "https://fhir.a81001.example.nhs.uk/Id/consent"

// storedConsent is a fixture Consent as intake stores it: compacted, with
// the server's id and meta, and the identifier it was sent with.
func storedConsent(t *testing.T, id, identifier, patient string) *adapter.Submission {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, testfiles.Fixture(t, "consent-share-with-link-workers.json")); err != nil {
		t.Fatal(err)
	}
	j := bytes.Replace(b.Bytes(), []byte(`"CON-2026-000101"`), []byte(`"`+identifier+`"`), 1)
	j = append(j[:len(j)-1], `,"id":"`+id+`","meta":{"versionId":"1","lastUpdated":"2026-11-20T10:15:00.000Z"}}`...)
	return &adapter.Submission{Kind: adapter.KindConsent, ID: id, JSON: j, Patient: patient,
		Identifier: adapter.Identifier{System: consentSystem, Value: identifier}}
}

// readsBack checks that every reader of a Consent's json answers want: the
// FHIR read (Consent), the patient's Consents (PatientConsents) and the
// intake lookups, pipelined and, with the scripts flushed, one by one.
func readsBack(t *testing.T, s *redis.Store, id, patient string, want []byte) {
	t.Helper()
	body, practice, err := s.Consent(ctx, id)
	if err != nil || practice != prac || !bytes.Equal(body, want) {
		t.Errorf("Consent(%s) = %v, practice %q, same bytes %v", id, err, practice, bytes.Equal(body, want))
	}
	cs, err := s.PatientConsents(ctx, prac, patient)
	if err != nil || len(cs) != 1 || !bytes.Equal(cs[0], want) {
		t.Errorf("PatientConsents = %d Consents, %v", len(cs), err)
	}
	for _, when := range []string{"pipelined", "scripts flushed"} {
		if when == "scripts flushed" {
			if err := s.Client().ScriptFlush(ctx).Err(); err != nil {
				t.Fatal(err)
			}
		}
		found, err := s.IntakeLookups(ctx, adapter.IntakeLookup{Practice: prac, Patients: []string{patient}})
		if err != nil || len(found.Consents[patient]) != 1 || !bytes.Equal(found.Consents[patient][0], want) {
			t.Errorf("IntakeLookups (%s): %d Consents, %v", when, len(found.Consents[patient]), err)
		}
	}
	if cs, err := s.PatientConsents(ctx, "B82002", patient); err != nil || len(cs) != 0 {
		t.Errorf("another practice sees %d Consents (%v)", len(cs), err)
	}
}

func testConsentStoredCompressed(t *testing.T, s *redis.Store) {
	c := storedConsent(t, "c1", "CON-1", "Patient/a")
	intake(t, s, c)
	h, err := s.Client().HGetAll(ctx, redis.ConsentKeyOf(s, "c1")).Result()
	if err != nil {
		t.Fatal(err)
	}
	if stored := h["json"]; stored == "" || stored[0] == '{' || len(stored)*3 > len(c.JSON) {
		t.Errorf("stored %d bytes for %d of JSON: not compressed", len(stored), len(c.JSON))
	}
	if h["ident"] != consentSystem+"|CON-1" || h["prac"] != prac || h["pat"] != "Patient/a" {
		t.Errorf("stored fields: ident %q, prac %q, pat %q", h["ident"], h["prac"], h["pat"])
	}
	readsBack(t, s, "c1", "Patient/a", c.JSON)

	// Without an identifier, its ident is empty.
	none := storedConsent(t, "c2", "CON-2", "Patient/b")
	none.Identifier = adapter.Identifier{}
	intake(t, s, none)
	if v, err := s.Client().HGet(ctx, redis.ConsentKeyOf(s, "c2"), "ident").Result(); err != nil || v != "" {
		t.Errorf("a Consent without identifier: ident %q, %v", v, err)
	}
	readsBack(t, s, "c2", "Patient/b", none.JSON)
}

// writePlainConsent writes a Consent as stores before compression did:
// its hash with plain JSON and no ident, the patient's index and the
// idempotency entry.
func writePlainConsent(t *testing.T, s *redis.Store, c *adapter.Submission) {
	t.Helper()
	p := s.Client().TxPipeline()
	p.HSet(ctx, redis.ConsentKeyOf(s, c.ID), "json", c.JSON, "prac", prac, "pat", c.Patient)
	p.SAdd(ctx, redis.PatientConsentsKeyOf(s, c.Patient), c.ID)
	p.HSet(ctx, redis.IdempotencyKeyOf(s), redis.IdemFieldOf(prac, adapter.KindConsent, c.Identifier), c.ID)
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
}

// purgeWithReferral gives the patient a referral, closes it long ago and
// runs the retention purge, which takes the patient's Consents with it.
func purgeWithReferral(t *testing.T, s *redis.Store, id, patient string) {
	t.Helper()
	old := time.Now().Add(-9 * 365 * 24 * time.Hour)
	intake(t, s, &adapter.Submission{Kind: adapter.KindServiceRequest, ID: id, JSON: []byte(`{"resourceType":"ServiceRequest"}`),
		Candidates: []string{"lw"}, Task: &adapter.Task{ID: id, ReferralID: id, Practice: prac, Patient: patient,
			Status: adapter.TaskRequested, AuthoredOn: old, LastModified: old, Version: 1}})
	closeLongAgoAndPurge(t, s, id, old)
}

// consentGone checks that the purge removed the Consent and its
// idempotency entry.
func consentGone(t *testing.T, s *redis.Store, c *adapter.Submission) {
	t.Helper()
	if _, _, err := s.Consent(ctx, c.ID); adapter.ErrorCode(err) != adapter.ENOTFOUND {
		t.Errorf("Consent %s after the purge: %v", c.ID, err)
	}
	found := find(t, s, prac, adapter.IdemKey{Kind: adapter.KindConsent, Identifier: c.Identifier})
	if found[0] != "" {
		t.Errorf("Consent %s's idempotency entry kept after the purge: %q", c.ID, found[0])
	}
}

func testConsentTwoIdentifiers(t *testing.T, s *redis.Store) {
	c := storedConsent(t, "two", "CON-TWO", "Patient/a")
	other := adapter.Identifier{System: "https://other.example/Id/consent", Value: "X-2"}
	c.Identifiers = []adapter.Identifier{c.Identifier, other}
	intake(t, s, c)
	keys := []adapter.IdemKey{{Kind: adapter.KindConsent, Identifier: c.Identifier}, {Kind: adapter.KindConsent, Identifier: other}}
	if found := find(t, s, prac, keys...); found[0] != "two" || found[1] != "two" {
		t.Fatalf("found under its identifiers: %q", found)
	}
	purgeWithReferral(t, s, "sr-two", "Patient/a")
	if found := find(t, s, prac, keys...); found[0] != "" || found[1] != "" {
		t.Errorf("idempotency entries kept after the purge: %q", found)
	}
}

func testPlainConsentStillReadsAndPurges(t *testing.T, s *redis.Store) {
	c := storedConsent(t, "old", "CON-OLD", "Patient/a")
	writePlainConsent(t, s, c)
	readsBack(t, s, "old", "Patient/a", c.JSON)
	if found := find(t, s, prac, adapter.IdemKey{Kind: adapter.KindConsent, Identifier: c.Identifier}); found[0] != "old" {
		t.Fatalf("the plain Consent's idempotency entry: %q", found)
	}
	purgeWithReferral(t, s, "sr-old", "Patient/a")
	consentGone(t, s, c)
}

func testPurgeFreesCompressedConsentIdentifier(t *testing.T, s *redis.Store) {
	c := storedConsent(t, "c1", "CON-1", "Patient/a")
	intake(t, s, c)
	if v, _ := s.Client().HGet(ctx, redis.ConsentKeyOf(s, "c1"), "json").Result(); v == "" || v[0] == '{' {
		t.Fatal("the Consent is not stored compressed")
	}
	if found := find(t, s, prac, adapter.IdemKey{Kind: adapter.KindConsent, Identifier: c.Identifier}); found[0] != "c1" {
		t.Fatalf("the Consent's idempotency entry: %q", found)
	}
	// An entry that no longer names the Consent stays.
	other := storedConsent(t, "c9", "CON-9", "Patient/z")
	intake(t, s, other)
	purgeWithReferral(t, s, "sr1", "Patient/a")
	consentGone(t, s, c)
	if found := find(t, s, prac, adapter.IdemKey{Kind: adapter.KindConsent, Identifier: other.Identifier}); found[0] != "c9" {
		t.Errorf("another patient's Consent's entry: %q", found)
	}

	// A withdrawn Consent's new version, written compressed over one
	// stored as plain JSON before compression: the purge frees the
	// identifier both versions share.
	old := storedConsent(t, "c2", "CON-2", "Patient/b")
	writePlainConsent(t, s, old)
	v2 := storedConsent(t, "c2", "CON-2", "Patient/b")
	v2.JSON = bytes.Replace(v2.JSON, []byte(`"status":"active"`), []byte(`"status":"inactive"`), 1)
	v2.JSON = bytes.Replace(v2.JSON, []byte(`"versionId":"1"`), []byte(`"versionId":"2"`), 1)
	v2.Version = 2
	intake(t, s, v2)
	readsBack(t, s, "c2", "Patient/b", v2.JSON)
	purgeWithReferral(t, s, "sr2", "Patient/b")
	consentGone(t, s, old)
}

func testDamagedConsent(t *testing.T, s *redis.Store) {
	c := storedConsent(t, "c1", "CON-1", "Patient/a")
	intake(t, s, c)
	key := redis.ConsentKeyOf(s, "c1")
	v, err := s.Client().HGet(ctx, key, "json").Bytes()
	if err != nil || v[0] == '{' {
		t.Fatalf("stored %v: not compressed", err)
	}
	v[len(v)/2] ^= 0xff
	if err := s.Client().HSet(ctx, key, "json", v).Err(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Consent(ctx, "c1"); err == nil {
		t.Error("Consent read a damaged value without error")
	}
	if _, err := s.PatientConsents(ctx, prac, "Patient/a"); err == nil {
		t.Error("PatientConsents read a damaged value without error")
	}
	if _, err := s.IntakeLookups(ctx, adapter.IntakeLookup{Practice: prac, Patients: []string{"Patient/a"}}); err == nil {
		t.Error("IntakeLookups read a damaged value without error")
	}
}

package redis_test

import (
	"slices"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/redis"
	"github.com/social-prescribing/referral-adapter/internal/redistest"
)

// Referrals are found by their identifier's value through one hash (the
// first referral with a value) and the value's set (any further one, and
// every one indexed before the hash); the retention purge takes a purged
// referral out of both. On real Redis and on miniredis.
func TestReferralsByIdentifierIndex(t *testing.T) {
	redistest.RunContract(t, redis.New, map[string]func(*testing.T, *redis.Store){
		"the first referral with a value is in the hash, further ones in the value's set": testByValueHashThenSet,
		"referrals indexed in a set before the hash are still found and purged":           testByValueLegacySet,
		"the purge frees the hash's field, and a later referral takes it":                 testByValuePurge,
		"the purge finds a referral's identifier as intake chose it":                      testPurgeFindsTheIdentifierIntakeChose,
	})
}

// oldReferral is a referral authored long ago with the identifier value,
// in its JSON as in its Submission (the purge reads the JSON).
func oldReferral(id, value, practice string) *adapter.Submission {
	old := time.Now().Add(-9 * 365 * 24 * time.Hour)
	return &adapter.Submission{Kind: adapter.KindServiceRequest, ID: id, Identifier: adapter.Identifier{System: "https://x/ref", Value: value},
		JSON:       []byte(`{"resourceType":"ServiceRequest","identifier":[{"system":"https://x/ref","value":"` + value + `"}]}`),
		Candidates: []string{"lw"},
		Task: &adapter.Task{ID: id, ReferralID: id, Practice: practice, Status: adapter.TaskRequested,
			AuthoredOn: old, LastModified: old, Version: 1}}
}

func intakeAt(t *testing.T, s *redis.Store, practice string, sub *adapter.Submission) {
	t.Helper()
	if err := s.Intake(ctx, &adapter.IntakeBatch{Practice: practice, Now: now, Items: []*adapter.Submission{sub}}); err != nil {
		t.Fatal(err)
	}
}

func byValue(t *testing.T, s *redis.Store, value string, want ...string) {
	t.Helper()
	ids, err := s.ReferralsByIdentifier(ctx, value)
	if err != nil || !slices.Equal(ids, want) || ids == nil {
		t.Errorf("ReferralsByIdentifier(%q) = %q, %v; want %q", value, ids, err, want)
	}
}

// index reads the value's field of the hash ("" when absent) and its set.
func index(t *testing.T, s *redis.Store, value string) (field string, set []string) {
	t.Helper()
	field, _ = s.Client().HGet(ctx, redis.ReferralsByIdentifierKeyOf(s), value).Result()
	set, err := s.Client().SMembers(ctx, redis.ReferralIdentifierSetKeyOf(s, value)).Result()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(set)
	return field, set
}

func testByValueHashThenSet(t *testing.T, s *redis.Store) {
	intakeAt(t, s, prac, oldReferral("a", "SP-1", prac))
	if f, set := index(t, s, "SP-1"); f != "a" || len(set) != 0 {
		t.Fatalf("one referral: field %q, set %q; want a in the hash only", f, set)
	}
	intakeAt(t, s, "B82002", oldReferral("b", "SP-1", "B82002"))
	c := oldReferral("c", "SP-1", prac) // same value and practice, another system
	c.Identifier.System = "https://y/ref"
	intakeAt(t, s, prac, c)
	if f, set := index(t, s, "SP-1"); f != "a" || !slices.Equal(set, []string{"b", "c"}) {
		t.Fatalf("three referrals: field %q, set %q", f, set)
	}
	byValue(t, s, "SP-1", "a", "b", "c")
	byValue(t, s, "SP-2")
}

func testByValueLegacySet(t *testing.T, s *redis.Store) {
	// Written as intake wrote it before the hash: the value's set only.
	old := oldReferral("old", "SP-1", prac)
	intakeAt(t, s, prac, old)
	c := s.Client()
	if err := c.HDel(ctx, redis.ReferralsByIdentifierKeyOf(s), "SP-1").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.SAdd(ctx, redis.ReferralIdentifierSetKeyOf(s, "SP-1"), "old").Err(); err != nil {
		t.Fatal(err)
	}
	byValue(t, s, "SP-1", "old")
	intakeAt(t, s, "B82002", oldReferral("new", "SP-1", "B82002"))
	if f, set := index(t, s, "SP-1"); f != "new" || !slices.Equal(set, []string{"old"}) {
		t.Fatalf("field %q, set %q", f, set)
	}
	byValue(t, s, "SP-1", "new", "old")
	closeLongAgoAndPurge(t, s, "old", old.Task.AuthoredOn)
	if f, set := index(t, s, "SP-1"); f != "new" || len(set) != 0 {
		t.Errorf("after the purge: field %q, set %q", f, set)
	}
	byValue(t, s, "SP-1", "new")
}

func testByValuePurge(t *testing.T, s *redis.Store) {
	a, b := oldReferral("a", "SP-1", prac), oldReferral("b", "SP-1", "B82002")
	intakeAt(t, s, prac, a)
	intakeAt(t, s, "B82002", b)
	closeLongAgoAndPurge(t, s, "a", a.Task.AuthoredOn)
	if f, set := index(t, s, "SP-1"); f != "" || !slices.Equal(set, []string{"b"}) {
		t.Fatalf("after the first is purged: field %q, set %q", f, set)
	}
	byValue(t, s, "SP-1", "b")
	intakeAt(t, s, prac, oldReferral("c", "SP-1", prac))
	if f, _ := index(t, s, "SP-1"); f != "c" {
		t.Fatalf("a later referral: field %q, want c", f)
	}
	byValue(t, s, "SP-1", "b", "c")
	closeLongAgoAndPurge(t, s, "b", b.Task.AuthoredOn)
	closeLongAgoAndPurge(t, s, "c", a.Task.AuthoredOn)
	if f, set := index(t, s, "SP-1"); f != "" || len(set) != 0 {
		t.Errorf("all purged: field %q, set %q", f, set)
	}
	if ids, err := s.ReferralsByIdentifier(ctx, "SP-1"); err != nil || len(ids) != 0 {
		t.Errorf("all purged: %q, %v", ids, err)
	}
}

// Intake names a referral by its first identifier with both a system and a
// value (fhir.ReferralFrom); the purge frees that one's idempotency entry
// and by-value field, not those of an identifier before it without a
// system.
func testPurgeFindsTheIdentifierIntakeChose(t *testing.T, s *redis.Store) {
	r := oldReferral("a", "SP-1", prac)
	r.JSON = []byte(`{"resourceType":"ServiceRequest","identifier":[{"value":"LOCAL-7"},{"system":"https://x/ref","value":"SP-1"}]}`)
	intakeAt(t, s, prac, r)
	if found := find(t, s, prac, adapter.IdemKey{Kind: adapter.KindServiceRequest, Identifier: r.Identifier}); found[0] != "a" {
		t.Fatalf("idempotency entry before the purge: %q", found)
	}
	closeLongAgoAndPurge(t, s, "a", r.Task.AuthoredOn)
	if found := find(t, s, prac, adapter.IdemKey{Kind: adapter.KindServiceRequest, Identifier: r.Identifier}); found[0] != "" {
		t.Errorf("idempotency entry kept after the purge: %q", found)
	}
	if f, set := index(t, s, "SP-1"); f != "" || len(set) != 0 {
		t.Errorf("by-value index kept after the purge: field %q, set %q", f, set)
	}
}

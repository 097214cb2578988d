package redis_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/redis"
	"github.com/social-prescribing/referral-adapter/internal/redistest"
)

func dialogueStore(t *testing.T) *redis.Store {
	return redis.New(redistest.Client(t), redistest.Namespace(t))
}

// A thread keeps its messages in order with what the rules need, the
// verbatim JSON, and announces on the notification stream only when asked;
// the embedded development store runs the same script.
func TestThreadStoresMessagesInOrder(t *testing.T) {
	redistest.RunContract(t, redis.New, map[string]func(*testing.T, *redis.Store){"thread": testThread})
}

func testThread(t *testing.T, st *redis.Store) {
	ctx := context.Background()
	at := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	q := adapter.Message{ID: "m1", ReferralID: "sr1", TaskID: "sr1", Practice: "A81001", FromPractice: true, SenderOrg: "A81001",
		SenderRole: "practice", By: "gp-1", Sent: at}
	a := adapter.Message{ID: "m2", ReferralID: "sr1", TaskID: "sr1", Practice: "A81001", SenderOrg: "U00001", SenderRole: "link-worker",
		By: "lw-1", Approved: true, InResponseTo: "m1", Sent: at.Add(time.Hour),
		SecurityLabels: []adapter.Coding{{System: "http://terminology.hl7.org/CodeSystem/v3-ActCode", Code: "PSY"}}}
	other := adapter.Message{ID: "m3", ReferralID: "sr2", TaskID: "sr2", Practice: "B82002", FromPractice: true, Sent: at}
	if err := st.SaveMessage(ctx, a, []byte(`{"resourceType":"Communication","id":"m2"}`), &adapter.TaskEvent{TaskID: "sr1", ReferralID: "sr1", Practice: "A81001", Status: adapter.TaskAccepted, Time: a.Sent}); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveMessage(ctx, q, []byte(`{"resourceType":"Communication","id":"m1"}`), nil); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveMessage(ctx, other, []byte(`{}`), nil); err != nil {
		t.Fatal(err)
	}
	msgs, bodies, err := st.Thread(ctx, "sr1", true)
	if err != nil || len(msgs) != 2 || msgs[0].ID != "m1" || msgs[1].ID != "m2" || !strings.Contains(string(bodies[1]), `"id":"m2"`) {
		t.Fatalf("thread = %+v %q %v", msgs, bodies, err)
	}
	got := msgs[1]
	if got.FromPractice || !got.Approved || got.InResponseTo != "m1" || got.SenderOrg != "U00001" || got.By != "lw-1" ||
		!got.Sent.Equal(a.Sent) || len(got.SecurityLabels) != 1 || got.SecurityLabels[0].Code != "PSY" || got.Practice != "A81001" {
		t.Errorf("reply read back as %+v", got)
	}
	if !msgs[0].FromPractice || msgs[0].Approved {
		t.Errorf("question read back as %+v", msgs[0])
	}
	if _, b, _ := st.Thread(ctx, "sr1", false); b[0] != nil {
		t.Errorf("bodies read when not asked for")
	}
	m, body, err := st.Message(ctx, "m1")
	if err != nil || m.ReferralID != "sr1" || string(body) != `{"resourceType":"Communication","id":"m1"}` {
		t.Errorf("Message = %+v %s %v", m, body, err)
	}
	if _, _, err := st.Message(ctx, "nope"); adapter.ErrorCode(err) != adapter.ENOTFOUND {
		t.Errorf("missing message: %v", err)
	}
	// Saving the same id again writes nothing.
	if err := st.SaveMessage(ctx, q, []byte(`{"changed":true}`), nil); adapter.ErrorCode(err) != adapter.ECONFLICT {
		t.Errorf("duplicate id: %v", err)
	}
	// Exactly one event: the reply's.
	evs, err := st.Client().XRange(ctx, taskEventsKey(st), "-", "+").Result()
	if err != nil || len(evs) != 1 || evs[0].Values["task"] != "sr1" || evs[0].Values["prac"] != "A81001" {
		t.Errorf("events = %+v %v", evs, err)
	}
}

func TestFlagsStoredPerReferral(t *testing.T) {
	ctx := context.Background()
	st := dialogueStore(t)
	at := time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC)
	f := adapter.SafeguardingFlag{ID: "f1", ReferralID: "sr1", TaskID: "child", Practice: "A81001", AuthorOrg: "X1V01",
		AuthorRole: "provider", By: "p-1", Raised: at}
	ev := &adapter.TaskEvent{TaskID: "sr1", ReferralID: "sr1", Practice: "A81001", Status: adapter.TaskInProgress, Time: at}
	if err := st.SaveFlag(ctx, f, []byte(`{"resourceType":"Flag","id":"f1"}`), ev, adapter.FlagRecords{}); err != nil {
		t.Fatal(err)
	}
	got, body, err := st.Flag(ctx, "f1")
	if err != nil || *got != f || string(body) != `{"resourceType":"Flag","id":"f1"}` {
		t.Errorf("Flag = %+v %s %v", got, body, err)
	}
	list, _, err := st.Flags(ctx, "sr1", false)
	if err != nil || len(list) != 1 || list[0].TaskID != "child" {
		t.Errorf("Flags = %+v %v", list, err)
	}
	if list, _, _ := st.Flags(ctx, "sr2", true); len(list) != 0 {
		t.Errorf("another referral's flags: %+v", list)
	}
	if n, _ := st.Client().XLen(ctx, taskEventsKey(st)).Result(); n != 1 {
		t.Errorf("%d events, want 1", n)
	}
}

// A referral's thread is bounded: past the limit nothing is written.
func TestThreadIsBounded(t *testing.T) {
	ctx := context.Background()
	st := dialogueStore(t)
	at := time.Now()
	pipe := st.Client().Pipeline()
	for i := range redis.MaxDialogueRecords {
		pipe.ZAdd(ctx, threadKey(st, "sr1"), goredisZ(float64(i), fmt.Sprint("x", i)))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	err := st.SaveMessage(ctx, adapter.Message{ID: "last", ReferralID: "sr1", Sent: at}, []byte(`{}`), nil)
	if adapter.ErrorCode(err) != adapter.EBUSINESSRULE {
		t.Fatalf("over the limit: %v", err)
	}
	if _, _, err := st.Message(ctx, "last"); adapter.ErrorCode(err) != adapter.ENOTFOUND {
		t.Errorf("the message over the limit was stored: %v", err)
	}
}

// Retention takes the dialogue with the referral.
func TestRetentionPurgesTheDialogue(t *testing.T) {
	ctx := context.Background()
	st := dialogueStore(t)
	old := time.Now().Add(-9 * 365 * 24 * time.Hour)
	b := &adapter.IntakeBatch{Items: []*adapter.Submission{{Kind: adapter.KindServiceRequest, ID: "closed",
		Identifier: adapter.Identifier{System: "https://x/ref", Value: "closed"},
		JSON:       []byte(`{"resourceType":"ServiceRequest","identifier":[{"system":"https://x/ref","value":"closed"}]}`),
		Candidates: []string{"lw"},
		Task: &adapter.Task{ID: "closed", ReferralID: "closed", Practice: "A81001", Patient: "Patient/secret", Status: adapter.TaskRequested,
			AuthoredOn: old, LastModified: old, Version: 1}}}}
	if err := st.Intake(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveMessage(ctx, adapter.Message{ID: "m1", ReferralID: "closed", TaskID: "closed", Sent: old}, []byte(`{"secret":1}`), nil); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveFlag(ctx, adapter.SafeguardingFlag{ID: "f1", ReferralID: "closed", TaskID: "closed", Raised: old}, []byte(`{"secret":1}`), nil, adapter.FlagRecords{}); err != nil {
		t.Fatal(err)
	}
	closeLongAgoAndPurge(t, st, "closed", old)
	if _, _, err := st.Message(ctx, "m1"); adapter.ErrorCode(err) != adapter.ENOTFOUND {
		t.Errorf("message kept after retention: %v", err)
	}
	if _, _, err := st.Flag(ctx, "f1"); adapter.ErrorCode(err) != adapter.ENOTFOUND {
		t.Errorf("flag kept after retention: %v", err)
	}
	if n, _ := st.Client().Exists(ctx, threadKey(st, "closed"), flagsKey(st, "closed")).Result(); n != 0 {
		t.Errorf("%d dialogue indexes kept", n)
	}
}

func taskEventsKey(s *redis.Store) string             { return redis.TaskEventsKeyOf(s) }
func threadKey(s *redis.Store, ref string) string     { return redis.ThreadKeyOf(s, ref) }
func flagsKey(s *redis.Store, ref string) string      { return redis.FlagsKeyOf(s, ref) }
func goredisZ(score float64, member string) goredis.Z { return goredis.Z{Score: score, Member: member} }

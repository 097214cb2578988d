package intake_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/intake"
	"github.com/social-prescribing/referral-adapter/adapter/routing"
	"github.com/social-prescribing/referral-adapter/mappings"
)

// Clinician sign-off (issue 11): consent and sign-off both required, as a
// deployment that asks for sign-off would run.
func newSignOffEnv(t *testing.T) *consentEnv {
	t.Helper()
	e := newConsentEnv(t)
	m, err := routing.Load(mappings.Default, "mappings")
	if err != nil {
		t.Fatal(err)
	}
	c := intake.DefaultConfig()
	c.SignOffRequired = true
	e.in = intake.New(e.parser, e.store, m, intake.WithClock(e.clock), intake.WithStaleAfter(0), intake.WithConfig(c))
	return e
}

var (
	navigator = intake.Caller{Actor: adapter.Actor{Org: practice, Role: adapter.RolePractice, Subject: "cn@A81001"}, Title: "Care navigator"}
	gp        = intake.Caller{Actor: adapter.Actor{Org: practice, Role: adapter.RolePractice, Subject: "dr.a@A81001"}, Title: "GP partner"}
)

// signOffHeld checks a referral waits for sign-off: on-hold,
// awaiting-sign-off, in no queue, on no waitlist, among neither the
// consent holds (sign-off comes first) nor holding a place.
func signOffHeld(t *testing.T, e *consentEnv, id string) {
	t.Helper()
	task := e.task(t, id)
	if !task.SignOffHeld() || task.Status != adapter.TaskOnHold || task.BusinessStatus.Code != adapter.BSAwaitingSignOff ||
		task.StatusReason != "awaiting clinician sign-off" || task.Reserved != "" {
		t.Fatalf("Task %s: %s %q %q slot %q; want on-hold, awaiting-sign-off, no slot", id, task.Status,
			task.BusinessStatus.Code, task.StatusReason, task.Reserved)
	}
	if q, w, held := e.where(t, id); len(q) > 0 || len(w) > 0 || held {
		t.Fatalf("Task %s awaiting sign-off: queued %v, waitlisted %v, among consent holds %v", id, q, w, held)
	}
}

// Consent arrives first: the referral stays held for sign-off; the sign-off
// then releases it, placed by capacity at that moment with its first
// contact deadline counted from the sign-off, the clinician in its history.
func TestSignOffAfterConsent(t *testing.T) {
	e := newSignOffEnv(t)
	ctx := context.Background()
	r, err := e.in.CreateServiceRequest(ctx, navigator, debtReferral(t, 1), adapter.Identifier{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Task.Source != adapter.SourceCareNavigator || r.Task.BusinessStatus.Code != adapter.BSAwaitingSignOff || r.Placement != nil {
		t.Fatalf("response Task %+v, placement %+v", r.Task, r.Placement)
	}
	signOffHeld(t, e, r.ID)
	if _, err := e.in.CreateConsent(ctx, navigator, shareConsent(t, "C-1", nil), adapter.Identifier{}); err != nil {
		t.Fatal(err)
	}
	signOffHeld(t, e, r.ID)
	if n := e.reserved(t, "money-advice"); n != 0 {
		t.Fatalf("held referral holds a place: %d", n)
	}

	e.advance(3 * 24 * time.Hour)
	before := e.task(t, r.ID)
	task, err := e.in.SignOff(ctx, gp, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if task.Status != adapter.TaskRequested || task.Owner != "money-advice" || task.Reserved != "money-advice" {
		t.Fatalf("signed-off Task %+v", task)
	}
	got := checkQueued(t, e, r.ID, "money-advice")
	if got.SignOffHeld() || !got.FirstContactDue.After(e.clock()) || !got.FirstContactDue.After(before.FirstContactDue) {
		t.Errorf("first contact due %v, signed off at %v (before %v)", got.FirstContactDue, e.clock(), before.FirstContactDue)
	}
	hist, _ := e.store.History(ctx, r.ID)
	last := hist[len(hist)-1]
	if last.By.Subject != "dr.a@A81001" || last.By.Org != practice || !last.At.Equal(e.clock()) || last.To != "requested" ||
		last.Reason != "signed off by a clinician (gp)" {
		t.Errorf("history %+v", hist)
	}
	if _, err := e.in.SignOff(ctx, gp, r.ID); adapter.ErrorCode(err) != adapter.ECONFLICT {
		t.Errorf("second sign-off: %v, want a conflict", err)
	}
}

// Signed off before consent: it waits for consent from then; the consent
// releases it.
func TestSignOffBeforeConsent(t *testing.T) {
	e := newSignOffEnv(t)
	ctx := context.Background()
	r, err := e.in.CreateServiceRequest(ctx, navigator, debtReferral(t, 1), adapter.Identifier{})
	if err != nil {
		t.Fatal(err)
	}
	e.advance(time.Hour)
	task, err := e.in.SignOff(ctx, intake.Caller{Actor: adapter.Actor{Org: practice, Role: adapter.RolePractice, Subject: "nurse@A81001"}, Title: "Practice nurse"}, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if task.BusinessStatus.Code != adapter.BSAwaitingConsent || !task.HeldSince.Equal(e.clock()) {
		t.Fatalf("signed off without consent: %+v", task)
	}
	checkHeld(t, e, r.ID, "awaiting consent")
	if h, _ := e.store.SignOffHolds(ctx, e.clock(), 10); len(h) != 0 {
		t.Fatalf("still among the sign-off holds: %v", h)
	}
	hist, _ := e.store.History(ctx, r.ID)
	if last := hist[len(hist)-1]; last.By.Subject != "nurse@A81001" || last.BusinessStatus != adapter.BSAwaitingConsent {
		t.Errorf("history %+v", hist)
	}
	if _, err := e.in.CreateConsent(ctx, navigator, shareConsent(t, "C-1", nil), adapter.Identifier{}); err != nil {
		t.Fatal(err)
	}
	checkQueued(t, e, r.ID, "money-advice")
}

// A clinician's own referral is not held for sign-off; neither is any
// referral when sign-off is not required.
func TestClinicianReferralsNeedNoSignOff(t *testing.T) {
	e := newSignOffEnv(t)
	ctx := context.Background()
	if _, err := e.in.CreateConsent(ctx, gp, shareConsent(t, "C-1", nil), adapter.Identifier{}); err != nil {
		t.Fatal(err)
	}
	r, err := e.in.CreateServiceRequest(ctx, gp, debtReferral(t, 1), adapter.Identifier{})
	if err != nil {
		t.Fatal(err)
	}
	checkQueued(t, e, r.ID, "money-advice")

	off := newConsentEnv(t)
	if _, err := off.in.CreateConsent(ctx, navigator, shareConsent(t, "C-1", nil), adapter.Identifier{}); err != nil {
		t.Fatal(err)
	}
	r, err = off.in.CreateServiceRequest(ctx, navigator, debtReferral(t, 2), adapter.Identifier{})
	if err != nil {
		t.Fatal(err)
	}
	checkQueued(t, off, r.ID, "money-advice")
}

// Only a clinician of the referring practice can sign off: a
// non-clinician is forbidden, another practice's clinician finds nothing.
// A referral with no job title in the token counts as non-clinical.
func TestSignOffRefusals(t *testing.T) {
	e := newSignOffEnv(t)
	ctx := context.Background()
	r, err := e.in.CreateServiceRequest(ctx, intake.Caller{Actor: adapter.Actor{Org: practice, Role: adapter.RolePractice}}, debtReferral(t, 1), adapter.Identifier{})
	if err != nil {
		t.Fatal(err)
	}
	signOffHeld(t, e, r.ID)
	for _, c := range []struct {
		caller intake.Caller
		code   string
	}{
		{navigator, adapter.EFORBIDDEN},
		{intake.Caller{Actor: adapter.Actor{Org: practice, Role: adapter.RolePractice}, Title: "Practice manager"}, adapter.EFORBIDDEN},
		{intake.Caller{Actor: adapter.Actor{Org: practice, Role: adapter.RolePractice}}, adapter.EFORBIDDEN},
		{intake.Caller{Actor: adapter.Actor{Org: "B82002", Role: adapter.RolePractice}, Title: "GP"}, adapter.ENOTFOUND},
	} {
		if _, err := e.in.SignOff(ctx, c.caller, r.ID); adapter.ErrorCode(err) != c.code {
			t.Errorf("sign-off by %+v: %v, want %s", c.caller, err, c.code)
		}
	}
	if _, err := e.in.SignOff(ctx, gp, "no-such-referral"); adapter.ErrorCode(err) != adapter.ENOTFOUND {
		t.Errorf("unknown referral: %v", err)
	}
	signOffHeld(t, e, r.ID)
}

// A crisis referral is rejected at once, never held for sign-off; a second
// referral for the same need while one waits for sign-off is a duplicate.
func TestSignOffSafetyAndDuplicates(t *testing.T) {
	e := newSignOffEnv(t)
	ctx := context.Background()
	crisis := edit(t, debtReferral(t, 1), map[string]any{"reasonCode": []any{map[string]any{"coding": []any{
		map[string]any{"system": "http://hl7.org/fhir/sid/icd-10", "code": "Z91.5"}}}}})
	r, err := e.in.CreateServiceRequest(ctx, navigator, crisis, adapter.Identifier{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Task.Status != adapter.TaskRejected || r.Task.BusinessStatus.Code != adapter.BSClinicalRedir || r.Task.Held() {
		t.Fatalf("crisis referral %+v", r.Task)
	}
	first, err := e.in.CreateServiceRequest(ctx, navigator, debtReferral(t, 2), adapter.Identifier{})
	if err != nil {
		t.Fatal(err)
	}
	dup, err := e.in.CreateServiceRequest(ctx, navigator, debtReferral(t, 3), adapter.Identifier{})
	if err != nil {
		t.Fatal(err)
	}
	if dup.Task.Status != adapter.TaskRejected || dup.Task.BusinessStatus.Code != adapter.BSDuplicate || dup.Task.Held() {
		t.Fatalf("second referral while %s waits for sign-off: %+v", first.ID, dup.Task)
	}
	if h, _ := e.store.SignOffHolds(ctx, e.clock(), 10); len(h) != 1 || h[0].ID != first.ID {
		t.Fatalf("sign-off holds %v", h)
	}
}

// A referral that waited longer than SIGNOFF_HOLD_MAX_AGE is cancelled by
// the expiry job with a reason saying so; a younger one keeps waiting.
func TestSignOffHoldExpiry(t *testing.T) {
	e := newSignOffEnv(t)
	ctx := context.Background()
	old, err := e.in.CreateServiceRequest(ctx, navigator, debtReferral(t, 1), adapter.Identifier{})
	if err != nil {
		t.Fatal(err)
	}
	e.advance(10 * 24 * time.Hour)
	young, err := e.in.CreateServiceRequest(ctx, navigator, lonelinessReferral(t, 2), adapter.Identifier{})
	if err != nil {
		t.Fatal(err)
	}
	e.advance(3 * 24 * time.Hour) // old: 13 days
	if rep, err := e.in.ExpireSignOffHolds(ctx, 0); err != nil || rep["cancelled"] != 0 {
		t.Fatalf("at 13 days: %v %v", rep, err)
	}
	e.advance(2 * 24 * time.Hour) // old: 15 days
	if rep, err := e.in.ExpireSignOffHolds(ctx, 0); err != nil || rep["cancelled"] != 1 {
		t.Fatalf("at 15 days: %v %v", rep, err)
	}
	task := e.task(t, old.ID)
	if task.Status != adapter.TaskCancelled || task.BusinessStatus.Code != adapter.BSSignOffExpired ||
		task.StatusReason != "Cancelled: no clinician signed the referral off within 14 days" {
		t.Fatalf("expired Task %+v", task)
	}
	signOffHeld(t, e, young.ID)
	if h, _ := e.store.SignOffHolds(ctx, e.clock(), 10); !slices.EqualFunc(h, []string{young.ID}, func(t *adapter.Task, id string) bool { return t.ID == id }) {
		t.Fatalf("sign-off holds %v", h)
	}
	// The expired referral no longer blocks a new one for the same need.
	again, err := e.in.CreateServiceRequest(ctx, navigator, debtReferral(t, 3), adapter.Identifier{})
	if err != nil || again.Task.BusinessStatus.Code != adapter.BSAwaitingSignOff {
		t.Fatalf("new referral after expiry: %+v %v", again, err)
	}
}

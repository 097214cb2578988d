package adapter

import (
	"errors"
	"testing"
	"time"
)

func TestSignOffHold(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	routed, _ := BusinessStatus(BSRouted)
	newHeld := func() *Task {
		task := &Task{ID: "t1", Status: TaskRequested, BusinessStatus: routed, Version: 1}
		task.AwaitSignOff(now)
		return task
	}
	task := newHeld()
	if !task.SignOffHeld() || !task.Held() || task.ConsentHeld() || task.Status != TaskOnHold ||
		task.BusinessStatus.Code != BSAwaitingSignOff || task.StatusReason != "awaiting clinician sign-off" || task.Version != 1 {
		t.Fatalf("held at creation: %+v", task)
	}
	for _, to := range []TaskStatus{TaskAccepted, TaskInProgress, TaskCompleted} {
		if _, err := task.Apply(Transition{To: to, At: now}); !errors.Is(err, ErrSignOffHeld) {
			t.Errorf("caller move to %s of a held referral: %v", to, err)
		}
	}
	gp := Actor{Subject: "dr.a@A81001", Role: "practice", Org: "A81001"}

	// Consented: released to requested and routed, the clinician named.
	h := task.SignOff(gp, SourceGP, true, now.Add(time.Hour))
	if task.Held() || task.Status != TaskRequested || task.BusinessStatus.Code != BSRouted || task.StatusReason != "" ||
		!task.SignOffSince.IsZero() || task.Version != 2 {
		t.Fatalf("signed off and consented: %+v", task)
	}
	if h.By != gp || h.From != "on-hold" || h.To != "requested" || h.Reason != "signed off by a clinician (gp)" || !h.At.Equal(now.Add(time.Hour)) {
		t.Fatalf("history %+v", h)
	}

	// Not consented: now waiting for consent, counted from the sign-off.
	task = newHeld()
	h = task.SignOff(gp, SourceNurse, false, now.Add(2*time.Hour))
	if task.SignOffHeld() || !task.ConsentHeld() || task.BusinessStatus.Code != BSAwaitingConsent ||
		task.StatusReason != ReasonAwaitingConsent || !task.HeldSince.Equal(now.Add(2*time.Hour)) || task.HeldFrom != TaskRequested {
		t.Fatalf("signed off without consent: %+v", task)
	}
	if h.To != "on-hold" || h.BusinessStatus != BSAwaitingConsent || h.Reason != "signed off by a clinician (nurse); awaiting consent" {
		t.Fatalf("history %+v", h)
	}
	if task.ReleaseConsentHold(now.Add(3 * time.Hour)); task.Status != TaskRequested || task.BusinessStatus.Code != BSRouted {
		t.Fatalf("consent after sign-off: %+v", task)
	}

	// The practice may cancel a held referral.
	task = newHeld()
	if _, err := task.Apply(Transition{To: TaskCancelled, Reason: "sent in error", At: now}); err != nil || task.Held() {
		t.Fatalf("cancel a held referral: %v %+v", err, task)
	}

	// Expiry.
	task = newHeld()
	h = task.ExpireSignOffHold(14*24*time.Hour, now.Add(15*24*time.Hour))
	if task.Status != TaskCancelled || task.BusinessStatus.Code != BSSignOffExpired || task.Held() ||
		task.StatusReason != "Cancelled: no clinician signed the referral off within 14 days" || h.To != "cancelled" || task.Version != 2 {
		t.Fatalf("expired: %+v %+v", task, h)
	}
}

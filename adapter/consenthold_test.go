package adapter

import (
	"errors"
	"testing"
	"time"
)

func TestConsentHoldLifecycle(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	routed, _ := BusinessStatus(BSRouted)
	task := &Task{ID: "t1", Status: TaskRequested, BusinessStatus: routed, Version: 1}
	task.AwaitConsent(now)
	if !task.ConsentHeld() || task.Status != TaskOnHold || task.BusinessStatus.Code != BSAwaitingConsent ||
		task.StatusReason != "awaiting consent" || task.HeldFrom != TaskRequested || !task.HeldSince.Equal(now) || task.Version != 1 {
		t.Fatalf("held at creation: %+v", task)
	}
	for _, to := range []TaskStatus{TaskAccepted, TaskInProgress, TaskCompleted, TaskOnHold} {
		if _, err := task.Apply(Transition{To: to, BusinessStatus: BSDidNotAttend, At: now}); !errors.Is(err, ErrConsentHeld) {
			t.Errorf("caller move to %s of a held referral: %v", to, err)
		}
	}
	h := task.ReleaseConsentHold(now.Add(time.Hour))
	if task.ConsentHeld() || task.Status != TaskRequested || task.BusinessStatus.Code != BSRouted || task.StatusReason != "" ||
		!task.HeldSince.IsZero() || task.Version != 2 || h.From != "on-hold" || h.To != "requested" {
		t.Fatalf("released: %+v %+v", task, h)
	}

	// A claimed referral paused by a withdrawal loses its lease and comes
	// back routed.
	claimed, _ := BusinessStatus(BSClaimed)
	task.BusinessStatus, task.Claimant, task.ClaimantName, task.LeaseUntil = claimed, "lw1", "Sam", now.Add(time.Hour)
	h = task.PauseForConsent(now.Add(2 * time.Hour))
	if !task.ConsentHeld() || task.Claimant != "" || task.ClaimantName != "" || !task.LeaseUntil.IsZero() ||
		task.HeldBS != BSRouted || task.StatusReason != ReasonConsentWithdraw || task.Version != 3 || h.To != "on-hold" {
		t.Fatalf("paused: %+v %+v", task, h)
	}

	// An accepted referral keeps its named contact through the pause, and
	// comes back accepted and claimed by them.
	taken := &Task{Status: TaskAccepted, BusinessStatus: claimed, Claimant: "cab-kim", ClaimantName: "Kim Patel", Version: 4,
		LeaseUntil: now.Add(time.Hour)}
	taken.PauseForConsent(now)
	if !taken.LeaseUntil.IsZero() || taken.ClaimantName != "Kim Patel" || taken.HeldBS != BSClaimed {
		t.Fatalf("paused accepted referral: %+v", taken)
	}
	taken.ReleaseConsentHold(now)
	if taken.Status != TaskAccepted || taken.BusinessStatus.Code != BSClaimed || taken.Claimant != "cab-kim" || taken.ClaimantName != "Kim Patel" {
		t.Fatalf("resumed accepted referral: %+v", taken)
	}

	// An accepted referral in contact comes back accepted and contacted.
	contacted, _ := BusinessStatus(BSContacted)
	acc := &Task{Status: TaskAccepted, BusinessStatus: contacted, Version: 5}
	acc.PauseForConsent(now)
	acc.ReleaseConsentHold(now)
	if acc.Status != TaskAccepted || acc.BusinessStatus.Code != BSContacted || acc.Version != 7 {
		t.Fatalf("paused and released accepted referral: %+v", acc)
	}

	// A caller may still cancel a held referral.
	acc.PauseForConsent(now)
	if _, err := acc.Apply(Transition{To: TaskCancelled, Reason: "patient moved away", At: now}); err != nil {
		t.Fatalf("cancel a held referral: %v", err)
	}

	held := &Task{Status: TaskRequested, Version: 1}
	held.AwaitConsent(now)
	h = held.ExpireConsentHold(30*24*time.Hour, now.Add(31*24*time.Hour))
	if held.Status != TaskCancelled || held.BusinessStatus.Code != BSConsentExpired ||
		held.StatusReason != "Cancelled: the patient's consent was not received within 30 days" ||
		held.ConsentHeld() || held.Version != 2 || h.To != "cancelled" {
		t.Fatalf("expired: %+v %+v", held, h)
	}
}

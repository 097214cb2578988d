package adapter_test

import (
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
)

func TestTakeOverRecordsHandovers(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	var task adapter.Task
	if !task.TakeOver("sam", "Sam Okafor", "Link worker", t0) || !task.HandedOver.IsZero() || !task.ContactSince.Equal(t0) {
		t.Fatalf("first contact: %+v", task)
	}
	// The same worker again (a renewed or repeated claim) is no handover.
	if task.TakeOver("sam", "Sam Okafor", "Senior link worker", t0.Add(time.Hour)) || !task.ContactSince.Equal(t0) ||
		!task.HandedOver.IsZero() || task.ClaimantTitle != "Senior link worker" {
		t.Errorf("same contact again: %+v", task)
	}
	// A lapsed lease clears the claimant but not the latest contact.
	task.Claimant, task.ClaimantName, task.ClaimantTitle = "", "", ""
	t1 := t0.Add(2 * time.Hour)
	if !task.TakeOver("priya", "Priya Shah", "Link worker", t1) || !task.HandedOver.Equal(t1) || !task.ContactSince.Equal(t1) ||
		task.LastClaimant != "priya" || task.ClaimantName != "Priya Shah" {
		t.Errorf("handover: %+v", task)
	}
}

func TestMessageDisclosure(t *testing.T) {
	at := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	m := adapter.Message{ID: "m1", TaskID: "t1", Practice: "A81001", Approved: true, Sent: at, By: "lw",
		SecurityLabels: []adapter.Coding{{System: "s", Code: "PSY"}}}
	d := m.Disclosure()
	if d.Type != adapter.KindCommunication || d.ID != "m1" || d.TaskID != "t1" || d.Practice != "A81001" || !d.Approved ||
		!d.Recorded.Equal(at) || len(d.SecurityLabels) != 1 {
		t.Errorf("Disclosure = %+v", d)
	}
	if m.Reference() != "Communication/m1" || !m.ToPractice() {
		t.Errorf("reference %q, to practice %v", m.Reference(), m.ToPractice())
	}
	m.FromPractice = true
	if m.ToPractice() {
		t.Error("a practice message goes to the practice")
	}
}

package lifecycle_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/lifecycle"
)

// A VCSE provider that does not answer within the deadline: an onward
// referral is declined (no-response) and its link worker is told; a direct
// referral is re-routed along its route without that service.
func TestProviderDeadline(t *testing.T) {
	svc, st, _ := setup(t, lifecycle.Config{Lease: time.Minute, ProviderDeadline: 14 * 24 * time.Hour})
	start := time.Now().Add(-15 * 24 * time.Hour)
	svc.SetClock(func() time.Time { return start })
	ctx := context.Background()

	// An onward referral made 15 days ago.
	seed(t, st, lw, 1, start)
	res, _ := svc.Claim(ctx, worker(1), lw)
	if _, err := svc.Transition(ctx, worker(1), res.Task.ID, adapter.Transition{To: adapter.TaskAccepted}); err != nil {
		t.Fatal(err)
	}
	_, child, err := svc.ReferOn(ctx, worker(1), res.Task.ID, "befriending", "lonely since bereavement")
	if err != nil {
		t.Fatal(err)
	}
	// A direct referral to a VCSE service, also 15 days ago, with a route.
	b := &adapter.IntakeBatch{Items: []*adapter.Submission{{Kind: adapter.KindServiceRequest, ID: "direct", JSON: []byte(`{}`),
		Candidates: []string{"money-advice"},
		Task: &adapter.Task{ID: "direct", ReferralID: "direct", Status: adapter.TaskRequested, Priority: adapter.PriorityRoutine,
			AuthoredOn: start, LastModified: start, Version: 1, Owner: "money-advice",
			Route: []adapter.RouteStep{{Service: "money-advice"}, {Service: lw}}}}}}
	if err := st.Intake(ctx, b); err != nil {
		t.Fatal(err)
	}

	svc.SetClock(func() time.Time { return start.Add(13 * 24 * time.Hour) })
	if rep, err := svc.ProviderDeadline(ctx, 0); err != nil || rep["declined"]+rep["rerouted"] != 0 {
		t.Fatalf("before the deadline: %v %v", rep, err)
	}
	svc.SetClock(func() time.Time { return start.Add(15 * 24 * time.Hour) })
	rep, err := svc.ProviderDeadline(ctx, 0)
	if err != nil || rep["declined"] != 1 || rep["rerouted"] != 1 {
		t.Fatalf("after the deadline: %v %v", rep, err)
	}
	c, _ := st.Task(ctx, child.ID)
	if c.Status != adapter.TaskRejected || c.BusinessStatus.Code != adapter.BSProviderDecline || c.Reserved != "" {
		t.Errorf("child after deadline: %+v", c)
	}
	parent, _ := st.Task(ctx, res.Task.ID)
	if parent.Status != adapter.TaskInProgress || parent.StatusReason == "" {
		t.Errorf("parent not told: %+v", parent)
	}
	d, _ := st.Task(ctx, "direct")
	if d.Owner != lw || d.Status != adapter.TaskRequested {
		t.Errorf("direct referral not re-routed to the link workers: %+v", d)
	}
	hist, _ := st.History(ctx, child.ID)
	if len(hist) != 1 || hist[0].Reason != adapter.ReasonNoResponse || hist[0].By.Role != "system" {
		t.Errorf("child history %+v", hist)
	}
}

// The sla-breach job counts the referrals past their first-contact
// deadline with no contact, waiting or claimed; contacted ones and ones
// still in time are not breaches.
func TestSLABreachJob(t *testing.T) {
	svc, st, _ := setup(t, lifecycle.Config{Lease: time.Hour, ProviderDeadline: time.Hour})
	ctx := context.Background()
	now := time.Now()
	svc.SetClock(func() time.Time { return now })
	b := &adapter.IntakeBatch{}
	for i, due := range []time.Duration{-48 * time.Hour, -time.Hour, -time.Minute, time.Hour} {
		id := fmt.Sprintf("sla%d", i)
		b.Items = append(b.Items, &adapter.Submission{Kind: adapter.KindServiceRequest, ID: id, JSON: []byte(`{}`), Candidates: []string{lw},
			Task: &adapter.Task{ID: id, ReferralID: id, Practice: "A81001", Status: adapter.TaskRequested, Priority: adapter.PriorityRoutine,
				Version: 1, AuthoredOn: now.Add(-72 * time.Hour), FirstContactDue: now.Add(due)}})
	}
	if err := st.Intake(ctx, b); err != nil {
		t.Fatal(err)
	}
	rep, err := svc.SLABreaches(ctx, 0)
	if err != nil || rep["breached"] != 3 {
		t.Fatalf("three overdue: %v %v", rep, err)
	}
	// The most overdue is claimed and contacted: no longer a breach. The
	// next is claimed only: still one.
	for range 2 {
		if res, err := svc.Claim(ctx, worker(1), lw); err != nil || res == nil {
			t.Fatal(res, err)
		}
	}
	for _, tr := range []adapter.Transition{{To: adapter.TaskAccepted}, {To: adapter.TaskAccepted, BusinessStatus: adapter.BSContacted}} {
		if _, err := svc.Transition(ctx, worker(1), "sla0", tr); err != nil {
			t.Fatal(err)
		}
	}
	if rep, err := svc.SLABreaches(ctx, 0); err != nil || rep["breached"] != 2 {
		t.Fatalf("after a contact: %v %v", rep, err)
	}
}

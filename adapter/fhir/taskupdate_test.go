package fhir_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// A Task sent back changing more than a holder may change is refused,
// naming every element that differs in issue.expression (0..*), not only
// the first, so the sender can see all it must put back.
func TestTaskChangeNamesEveryElementThatDiffers(t *testing.T) {
	p := newParser(t)
	current := []byte(`{"resourceType":"Task","id":"t1","status":"requested","intent":"order","authoredOn":"2026-12-01T10:00:00Z","priority":"routine"}`)
	sent := []byte(`{"resourceType":"Task","id":"t1","status":"accepted","intent":"plan","authoredOn":"2026-12-02T10:00:00Z","priority":"routine","description":"x"}`)
	_, err := p.TaskChangeFrom(sent, current)
	var e *adapter.Error
	if !errors.As(err, &e) || e.Code != adapter.EBUSINESSRULE {
		t.Fatalf("error %v, want business-rule", err)
	}
	if want := []string{"Task.authoredOn", "Task.description", "Task.intent"}; !slices.Equal(e.Expression, want) {
		t.Errorf("expression %v, want %v", e.Expression, want)
	}
	// Only the updatable elements changed: taken.
	ok := []byte(`{"resourceType":"Task","id":"t1","status":"accepted","intent":"order","authoredOn":"2026-12-01T10:00:00Z","priority":"routine","statusReason":{"text":"seen"}}`)
	ch, err := p.TaskChangeFrom(ok, current)
	if err != nil || ch.Status != "accepted" || ch.Reason != "seen" {
		t.Errorf("change %+v, %v", ch, err)
	}
}

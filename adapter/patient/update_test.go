package patient_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/tidwall/sjson"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/adapter/patient"
)

// stored is a Patient store of one Patient whose replacement answers
// ErrTaskMoved the first moved times (a live referral's Task changed
// between the read of the Tasks and the write).
type stored struct {
	body  []byte
	moved int
	tells [][]*adapter.TaskWrite
}

func (s *stored) Patient(context.Context, string) ([]byte, string, error) {
	return s.body, "A81001", nil
}
func (s *stored) PatientOf(context.Context, string, string) (string, []byte, error) {
	return "", nil, adapter.NotFound(adapter.KindPatient)
}
func (s *stored) ReplacePatient(_ context.Context, _, _ string, _ int, body []byte, tell []*adapter.TaskWrite) error {
	s.tells = append(s.tells, tell)
	if len(s.tells) <= s.moved {
		return adapter.ErrTaskMoved
	}
	s.body = body
	return nil
}

// contacts counts its reads of the live referrals; each read finds one
// Task at a later version.
type contacts struct{ reads int }

func (c *contacts) ContactDetailsChanged(context.Context, adapter.Caller, string, adapter.Identifier) ([]*adapter.TaskWrite, error) {
	c.reads++
	return []*adapter.TaskWrite{{Version: c.reads, Task: &adapter.Task{ID: "sr1", Version: c.reads + 1}}}, nil
}

// A contact-details update whose referrals' Tasks move while it is written
// reads them again and writes with what it read last; one whose Tasks keep
// moving gives up with the conflict, having written nothing.
func TestUpdateReadsMovedTasksAgain(t *testing.T) {
	p, err := fhir.NewParser()
	if err != nil {
		t.Fatal(err)
	}
	v1, err := os.ReadFile("../../fixtures/patient.json")
	if err != nil {
		t.Fatal(err)
	}
	v1, _ = sjson.SetBytes(v1, "id", "p1")
	v1, _ = fhir.Stamp(v1, "p1", 1, time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC))
	changed, _ := sjson.SetBytes(v1, "telecom.0.value", "01632 960999")
	gp := adapter.Caller{Actor: adapter.Actor{Role: adapter.RolePractice, Org: "A81001"}}

	st, cs := &stored{body: v1, moved: 2}, &contacts{}
	svc := patient.New(st, nil).WithUpdates(p, st, cs)
	if _, err := svc.Update(context.Background(), gp, "p1", 0, changed); err != nil {
		t.Fatal(err)
	}
	if cs.reads != 3 || len(st.tells) != 3 || st.tells[2][0].Version != 3 {
		t.Errorf("%d reads of the referrals, %d writes, the last telling version %d: want 3, 3, 3", cs.reads, len(st.tells), st.tells[2][0].Version)
	}

	st, cs = &stored{body: v1, moved: 1000}, &contacts{}
	svc = patient.New(st, nil).WithUpdates(p, st, cs)
	if _, err := svc.Update(context.Background(), gp, "p1", 0, changed); err != adapter.ErrTaskMoved {
		t.Errorf("Tasks that keep moving: %v", err)
	}
	if string(st.body) != string(v1) || len(st.tells) < 2 || len(st.tells) > 10 {
		t.Errorf("after giving up: %d tries, stored changed: %v", len(st.tells), string(st.body) != string(v1))
	}
}

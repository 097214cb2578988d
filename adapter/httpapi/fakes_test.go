package httpapi_test

import (
	"context"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/capacity"
	"github.com/social-prescribing/referral-adapter/adapter/httpapi"
	"github.com/social-prescribing/referral-adapter/adapter/intake"
)

// fakeIntake answers every create with res or err, and records what it
// was given.
type fakeIntake struct {
	res    *intake.Result
	err    error
	caller intake.Caller
	body   []byte
	cond   adapter.Identifier
	calls  int
}

func (f *fakeIntake) create(c intake.Caller, body []byte, cond adapter.Identifier) (*intake.Result, error) {
	f.calls++
	f.caller, f.body, f.cond = c, body, cond
	return f.res, f.err
}

func (f *fakeIntake) CreateServiceRequest(_ context.Context, c intake.Caller, body []byte, cond adapter.Identifier) (*intake.Result, error) {
	return f.create(c, body, cond)
}

func (f *fakeIntake) CreateConsent(_ context.Context, c intake.Caller, body []byte, cond adapter.Identifier) (*intake.Result, error) {
	return f.create(c, body, cond)
}

func (f *fakeIntake) CreatePatient(_ context.Context, c intake.Caller, body []byte, cond adapter.Identifier) (*intake.Result, error) {
	return f.create(c, body, cond)
}

func (f *fakeIntake) Transact(context.Context, intake.Caller, []intake.Entry) ([]*intake.Result, error) {
	return nil, adapter.Errorf(adapter.ENOTSUPPORTED, "not in this fake")
}

func (f *fakeIntake) SignOff(context.Context, intake.Caller, string) (*adapter.Task, error) {
	return nil, adapter.Errorf(adapter.ENOTSUPPORTED, "not in this fake")
}

// fakeStore holds referrals, their Tasks and Consents in maps. Methods a
// test does not need are the embedded nil interface's: calling one panics,
// which the server answers 500.
type fakeStore struct {
	httpapi.Store
	srs      map[string][]byte
	tasks    map[string]*adapter.Task
	consents map[string][2]string // id → body, practice
	err      error                // answered by every read when set
}

func newFakeStore() *fakeStore {
	return &fakeStore{srs: map[string][]byte{}, tasks: map[string]*adapter.Task{}, consents: map[string][2]string{}}
}

func (f *fakeStore) ServiceRequest(_ context.Context, id string) ([]byte, error) {
	if f.err != nil {
		return nil, f.err
	}
	if b, ok := f.srs[id]; ok {
		return b, nil
	}
	return nil, adapter.NotFound("ServiceRequest")
}

func (f *fakeStore) Task(_ context.Context, id string) (*adapter.Task, error) {
	if f.err != nil {
		return nil, f.err
	}
	if t, ok := f.tasks[id]; ok {
		cp := *t
		return &cp, nil
	}
	return nil, adapter.NotFound("Task")
}

// TasksForReferral answers the Tasks tracking the referral, its own
// first; not found when there are none.
func (f *fakeStore) TasksForReferral(_ context.Context, id string) ([]*adapter.Task, error) {
	if f.err != nil {
		return nil, f.err
	}
	var out []*adapter.Task
	for _, t := range f.tasks {
		if t.ReferralID == id {
			cp := *t
			out = append(out, &cp)
		}
	}
	if len(out) == 0 {
		return nil, adapter.NotFound("ServiceRequest")
	}
	return out, nil
}

func (f *fakeStore) Consent(_ context.Context, id string) ([]byte, string, error) {
	if f.err != nil {
		return nil, "", f.err
	}
	if c, ok := f.consents[id]; ok {
		return []byte(c[0]), c[1], nil
	}
	return nil, "", adapter.NotFound("Consent")
}

// fakeAccess lets a caller see the Tasks of its own organisation's
// referrals and those its organisation holds.
type fakeAccess struct {
	holders map[string]string // Task id → ODS code of its holder
}

func (a *fakeAccess) SeeTask(_ context.Context, c adapter.Caller, t *adapter.Task) (bool, error) {
	return c.Org == t.Practice || c.Org == a.holders[t.ID], nil
}

func (a *fakeAccess) Candidate(c adapter.Caller, t *adapter.Task) bool {
	ok, _ := a.SeeTask(context.Background(), c, t)
	return ok
}

// fakeCapacity answers Get with view and records updates.
type fakeCapacity struct {
	view    capacity.View
	updated []capacity.Update
	change  adapter.CapacityChange
}

func (f *fakeCapacity) Get(_ context.Context, id string) (capacity.View, error) {
	v := f.view
	v.Service = id
	return v, nil
}

func (f *fakeCapacity) Directory(context.Context) (map[string]capacity.View, error) {
	return map[string]capacity.View{}, nil
}

func (f *fakeCapacity) Update(_ context.Context, id string, u capacity.Update, ch adapter.CapacityChange) (*capacity.UpdateResult, error) {
	f.updated, f.change = append(f.updated, u), ch
	v := f.view
	v.Service, v.Status, v.MaxOpen, v.WeeklyIntake = id, u.Status, u.MaxOpen, u.WeeklyIntake
	return &capacity.UpdateResult{View: v, Promoted: []string{"t1", "t2"}}, nil
}

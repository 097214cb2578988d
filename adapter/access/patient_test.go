package access_test

import (
	"context"
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/access"
	"github.com/social-prescribing/referral-adapter/adapter/consent"
)

// referrals is a fixed per-patient referral index.
type referrals map[string][]*adapter.Task

func (r referrals) PatientReferrals(_ context.Context, practice, patient string) ([]*adapter.Task, error) {
	return r[practice+"|"+patient], nil
}

// The Patient door (issue 19): the practice that sent it; whoever may see
// one of the patient's referrals and whom the consent lets have the
// Patient; nobody else.
func TestSeePatient(t *testing.T) {
	nhs := adapter.Identifier{System: adapter.SystemNHSNumber, Value: "9000000009"}
	pat := access.Patient{ID: "p1", Practice: "A81001", Refs: access.PatientRefs("p1", nhs)}
	if pat.Refs[1] != patient {
		t.Fatalf("refs %v: the NHS number form is not the referral's %q", pat.Refs, patient)
	}
	debt := task("debt", "money-advice") // names the patient by NHS number
	onward := task("child", "money-advice")
	onward.ReferralID, onward.PartOf = "root", "root"
	root := task("root", lw)
	root.Patient, onward.Patient = "Patient/p1", "Patient/p1" // a referral of the transaction: by id
	idx := referrals{"A81001|" + patient: {debt}, "A81001|Patient/p1": {root, onward}}
	denyPatientToCA := consent.Provision{Type: consent.Deny, Actors: []consent.Actor{org("X1V02")},
		Classes: []adapter.Coding{consent.ResourceClass(adapter.KindPatient)}}
	byID := permit(true, []consent.Actor{org("U00001")}, denyPatientToCA)
	byID.ID, byID.Patient = "c2", "Patient/p1" // the transaction's Consent names the patient as its referral does
	cs := []consent.Consent{permit(true, []consent.Actor{org("U00001")}, denyPatientToCA), byID}
	p := newPolicy(t, cs, tasks{"root": root, "child": onward, "debt": debt}).WithReferrals(idx)
	ctx := context.Background()
	cases := []struct {
		name string
		c    adapter.Caller
		want bool
	}{
		{"the practice that sent it", caller(adapter.RolePractice, "A81001", ""), true},
		{"another practice", caller(adapter.RolePractice, "B82002", ""), false},
		{"the link workers holding a referral", caller(adapter.RoleLinkWorker, "U00001", "Practitioner/lw-alex"), true},
		{"the provider holding a referral", caller(adapter.RoleProvider, "X1V01", "Practitioner/ca-1"), true},
		{"a provider holding none", caller(adapter.RoleProvider, "X1V03", "Practitioner/b-1"), false},
		{"a commissioner", caller(adapter.RoleCommissioner, "U00001", ""), false},
		{"an admin", caller(adapter.RoleAdmin, "ADMIN", ""), false},
	}
	for _, tc := range cases {
		if got, err := p.SeePatient(ctx, tc.c, pat); err != nil || got != tc.want {
			t.Errorf("%s: %v %v, want %v", tc.name, got, err, tc.want)
		}
	}
	// Another practice's Patient with the same NHS number is not this one's.
	theirs := access.Patient{ID: "p9", Practice: "B82002", Refs: access.PatientRefs("p9", nhs)}
	if ok, _ := p.SeePatient(ctx, caller(adapter.RoleProvider, "X1V01", "Practitioner/ca-1"), theirs); ok {
		t.Error("a holder of A81001's referral sees B82002's Patient")
	}
	// Through one Task: the consent decides for the Patient itself. The
	// housing provider may have the referral but not the Patient.
	housing := task("h", "housing-options")
	h := caller(adapter.RoleProvider, "X1V02", "Practitioner/h-1")
	if ok, err := p.SeeTask(ctx, h, housing); !ok || err != nil {
		t.Fatalf("the housing provider may not see its referral: %v %v", ok, err)
	}
	if ok, err := p.SeePatientOn(ctx, h, housing, pat); ok || err != nil {
		t.Errorf("the consent denies X1V02 the Patient, yet: %v %v", ok, err)
	}
	// A Task of another patient never opens the Patient.
	other := task("o", "money-advice")
	other.Patient = "Patient/someone-else"
	if ok, _ := p.SeePatientOn(ctx, caller(adapter.RoleProvider, "X1V01", "Practitioner/ca-1"), other, pat); ok {
		t.Error("another patient's referral opens the Patient")
	}
	// Without the index, no holder gets through.
	bare := newPolicy(t, cs, tasks{"debt": debt})
	if ok, _ := bare.SeePatient(ctx, caller(adapter.RoleProvider, "X1V01", "Practitioner/ca-1"), pat); ok {
		t.Error("without the referral index a holder sees the Patient")
	}
}

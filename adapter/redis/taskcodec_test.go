package redis

import (
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// A Task's patient and requester, conditional references by NHS number and
// ODS code, are stored packed and read back whole; other references are
// stored as they are; a hash written before packing reads the same.
func TestTaskReferencesPacked(t *testing.T) {
	nhs := "Patient?identifier=" + adapter.SystemNHSNumber + "|9000000009"
	ods := "Organization?identifier=" + adapter.SystemODS + "|A81001"
	for _, tc := range []struct{ patient, requester, storedPatient, storedReq string }{
		{nhs, ods, "~n9000000009", "~oA81001"},
		{"Patient/p-1", "PractitionerRole/r-1", "Patient/p-1", "PractitionerRole/r-1"},
		{"urn:uuid:2d8f6a51-4b0e-4f4c-9d0a-0d5c1f2e3a4b", "", "urn:uuid:2d8f6a51-4b0e-4f4c-9d0a-0d5c1f2e3a4b", ""},
		{"Patient?identifier=https://example.org/mrn|123", "Organization?identifier=" + adapter.SystemODS + "|", "Patient?identifier=https://example.org/mrn|123", "~o"},
	} {
		task := &adapter.Task{ID: "t-1", ReferralID: "t-1", Status: adapter.TaskRequested, Patient: tc.patient, Requester: tc.requester}
		h := map[string]string{}
		f := taskFields(task)
		for i := 0; i < len(f); i += 2 {
			h[f[i]] = f[i+1]
		}
		if h[fPatient] != tc.storedPatient || h[fReq] != tc.storedReq {
			t.Errorf("stored %q, %q; want %q, %q", h[fPatient], h[fReq], tc.storedPatient, tc.storedReq)
		}
		got := taskFromHash("t-1", h)
		if got.Patient != tc.patient || got.Requester != tc.requester {
			t.Errorf("read back %q, %q; want %q, %q", got.Patient, got.Requester, tc.patient, tc.requester)
		}
	}
	legacy := taskFromHash("t-2", map[string]string{fStatus: "requested", fPatient: nhs, fReq: ods})
	if legacy.Patient != nhs || legacy.Requester != ods {
		t.Errorf("a hash written before packing reads %q, %q", legacy.Patient, legacy.Requester)
	}
}

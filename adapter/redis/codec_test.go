package redis

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/internal/redistest"
	"github.com/social-prescribing/referral-adapter/internal/testfiles"
)

// Every ServiceRequest fixture and every ServiceRequest of the FHIR R4
// examples comes back byte for byte, compact or indented, and smaller than
// it went in.
func TestServiceRequestCodecRoundTrip(t *testing.T) {
	var inputs [][]byte
	for _, name := range testfiles.Fixtures(t) {
		if strings.HasPrefix(name, "servicerequest-") {
			inputs = append(inputs, testfiles.Fixture(t, name))
		}
	}
	// The standard's examples too, when they sit beside the repository.
	if dir := filepath.Join(filepath.Dir(testfiles.Root(t)), "shared", "fhir-r4-examples"); exists(dir) {
		paths, _ := filepath.Glob(filepath.Join(dir, "ServiceRequest-*.json"))
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			inputs = append(inputs, b)
		}
	}
	if len(inputs) < 5 {
		t.Fatalf("only %d ServiceRequests to try", len(inputs))
	}
	var in, out int
	for _, j := range inputs {
		for _, form := range [][]byte{j, compact(t, j)} {
			packed := srCodec.pack(form)
			if packed[0] == '{' {
				t.Fatal("a compressed value starts like JSON")
			}
			got, err := srCodec.unpack(packed)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, form) {
				t.Fatalf("round trip changed the JSON:\n%s\n%s", form, got)
			}
			in, out = in+len(form), out+len(packed)
		}
	}
	if out*2 > in {
		t.Errorf("compressed %d bytes to %d: less than half expected", in, out)
	}
	t.Logf("%d ServiceRequests, %d bytes compressed to %d", 2*len(inputs), in, out)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func compact(t *testing.T, j []byte) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, j); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// A value stored before compression (plain JSON) still reads; a damaged
// one is an error, not garbage.
func TestServiceRequestStoredPlainOrDamaged(t *testing.T) {
	ctx := context.Background()
	s := New(redistest.Client(t), redistest.Namespace(t))
	plain := testfiles.Fixture(t, "servicerequest-debt.json")
	if err := s.c.Set(ctx, s.k.serviceRequest("plain"), plain, 0).Err(); err != nil {
		t.Fatal(err)
	}
	got, err := s.ServiceRequest(ctx, "plain")
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("plain value: %v", err)
	}
	packed := srCodec.pack(plain)
	packed[len(packed)/2] ^= 0xff
	if err := s.c.Set(ctx, s.k.serviceRequest("damaged"), packed, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ServiceRequest(ctx, "damaged"); err == nil {
		t.Fatal("damaged value read without error")
	}
}

// Intake stores the ServiceRequest compressed, and reads give back the
// exact JSON.
func TestIntakeStoresServiceRequestCompressed(t *testing.T) {
	ctx := context.Background()
	s := New(redistest.Client(t), redistest.Namespace(t))
	j := testfiles.Fixture(t, "servicerequest-loneliness.json")
	now := time.Now()
	task := &adapter.Task{ID: "sr-1", ReferralID: "sr-1", Practice: "A81001", Status: adapter.TaskRequested,
		AuthoredOn: now, LastModified: now, Version: 1}
	b := &adapter.IntakeBatch{Practice: "A81001", Now: now, Items: []*adapter.Submission{{
		Kind: adapter.KindServiceRequest, ID: "sr-1", JSON: j, Task: task, Candidates: []string{"riverside-link-workers"},
	}}}
	if err := s.Intake(ctx, b); err != nil {
		t.Fatal(err)
	}
	raw, err := s.c.Get(ctx, s.k.serviceRequest("sr-1")).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if raw[0] == '{' || len(raw) >= len(j) {
		t.Errorf("stored %d bytes for %d of JSON, starting %q: not compressed", len(raw), len(j), raw[:1])
	}
	got, err := s.ServiceRequest(ctx, "sr-1")
	if err != nil || !bytes.Equal(got, j) {
		t.Fatalf("read back: %v\n%s", err, got)
	}
}

// BenchmarkPackServiceRequest prints the cost of compressing a referral
// for storage and of reading it back.
func BenchmarkPackServiceRequest(b *testing.B) {
	j := testfiles.Fixture(b, "servicerequest-debt.json")
	var packed []byte
	b.Run("pack", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			packed = srCodec.pack(j)
		}
		b.ReportMetric(float64(len(packed)), "stored-bytes")
		b.ReportMetric(float64(len(j)), "json-bytes")
	})
	b.Run("unpack", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := srCodec.unpack(packed); err != nil {
				b.Fatal(err)
			}
		}
	})
}

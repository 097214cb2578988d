package redis

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

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

// Every Consent of the fixtures and of the FHIR R4 examples (standalone or
// in a transaction Bundle) comes back byte for byte, as sent, compacted and
// as intake stores it (compacted and stamped), in a block that names the
// Consent dictionary, and the stored form is under a third of its JSON.
func TestConsentCodecRoundTrip(t *testing.T) {
	var inputs [][]byte
	for _, name := range testfiles.Fixtures(t) {
		inputs = append(inputs, consentsIn(t, testfiles.Fixture(t, name))...)
	}
	fixtures, want := len(inputs), 3
	// The standard's examples too, when they sit beside the repository (a
	// clean clone elsewhere has only the fixtures): they hold 12 Consents.
	if dir := filepath.Join(filepath.Dir(testfiles.Root(t)), "shared", "fhir-r4-examples"); exists(dir) {
		want = 10
		paths, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			inputs = append(inputs, consentsIn(t, b)...)
		}
	}
	if fixtures < 3 || len(inputs) < want {
		t.Fatalf("only %d Consents to try (%d of them fixtures)", len(inputs), fixtures)
	}
	var in, out, storedIn, storedOut int
	for _, j := range inputs {
		stored := stamped(t, j)
		for _, form := range [][]byte{j, compact(t, j), stored} {
			packed := consentCodec.pack(form)
			if packed[0] != consentDictV1Tag {
				t.Fatalf("a packed Consent names dictionary %#x, want %#x", packed[0], consentDictV1Tag)
			}
			if packed[0] == '{' {
				t.Fatal("a compressed value starts like JSON")
			}
			got, err := consentCodec.unpack(packed)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, form) {
				t.Fatalf("round trip changed the JSON:\n%s\n%s", form, got)
			}
			in, out = in+len(form), out+len(packed)
		}
		p := consentCodec.pack(stored)
		storedIn, storedOut = storedIn+len(stored), storedOut+len(p)
	}
	if storedOut*3 > storedIn {
		t.Errorf("compressed %d bytes of stored Consents to %d: less than two thirds saved", storedIn, storedOut)
	}
	t.Logf("%d Consents (%d fixtures): %d bytes compressed to %d; as stored, %d to %d", len(inputs), fixtures, in, out, storedIn, storedOut)
}

// Both dictionaries decode through either codec, in either format: the
// value says which. zstd frames are what every value was before S2, and
// what a resource beyond S2's dictionary reach is still stored as.
func TestCodecsShareOneDecoder(t *testing.T) {
	sr := testfiles.Fixture(t, "servicerequest-debt.json")
	c := testfiles.Fixture(t, "consent-share-with-link-workers.json")
	for _, tc := range []struct {
		codec *codec
		j     []byte
		tag   byte
		dict  uint32
	}{{srCodec, sr, srDictV1Tag, srDictV1ID}, {consentCodec, c, consentDictV1Tag, consentDictV1ID}} {
		s2v := tc.codec.pack(tc.j)
		if s2v[0] != tc.tag {
			t.Fatalf("%s: S2 block tagged %#x, want %#x", tc.codec.kind, s2v[0], tc.tag)
		}
		zv := tc.codec.enc.EncodeAll(tc.j, nil)
		var h zstd.Header
		if err := h.Decode(zv); err != nil || h.DictionaryID != tc.dict {
			t.Fatalf("%s: zstd dictionary %#x (%v), want %#x", tc.codec.kind, h.DictionaryID, err, tc.dict)
		}
		for _, v := range [][]byte{s2v, zv} {
			for _, other := range []*codec{srCodec, consentCodec} {
				if got, err := other.unpack(v); err != nil || !bytes.Equal(got, tc.j) {
					t.Fatalf("a %s value (%#x) read by the %s codec: %v", tc.codec.kind, v[0], other.kind, err)
				}
			}
		}
	}
	if srDictV1ID == consentDictV1ID || srDictV1Tag == consentDictV1Tag {
		t.Fatal("two dictionaries share an id")
	}
	for tag := range s2Dicts {
		if tag == '{' || tag == 0x28 { // plain JSON, zstd's magic number
			t.Fatalf("S2 tag %#x reads as another format", tag)
		}
	}
}

// S2 stores the fixtures' resources, as intake stores them (compacted and
// stamped), in at most 15% more bytes than zstd did (its default mode,
// chosen for CPU: 7% more for Consents, 13% for ServiceRequests, which
// Redis's allocator size classes mostly absorb).
func TestCodecS2NearZstd(t *testing.T) {
	for _, tc := range []struct {
		codec *codec
		of    func([]byte) [][]byte
	}{
		{srCodec, func(b []byte) [][]byte {
			if bytes.Contains(b, []byte(`"resourceType": "ServiceRequest"`)) {
				return [][]byte{b}
			}
			return nil
		}},
		{consentCodec, func(b []byte) [][]byte { return consentsIn(t, b) }},
	} {
		var values, s2n, zn int
		for _, name := range testfiles.Fixtures(t) {
			for _, j := range tc.of(testfiles.Fixture(t, name)) {
				j = stamped(t, j)
				values, s2n, zn = values+1, s2n+len(tc.codec.pack(j)), zn+len(tc.codec.enc.EncodeAll(j, nil))
			}
		}
		if values < 3 || s2n*100 > zn*115 {
			t.Errorf("%s: %d values stored in %d bytes, zstd %d", tc.codec.kind, values, s2n, zn)
		}
		t.Logf("%s: %d values stored in %d bytes, zstd %d", tc.codec.kind, values, s2n, zn)
	}
}

// A resource beyond an S2 dictionary's reach (64 KiB) is stored as a zstd
// frame and comes back byte for byte.
func TestCodecLargeResource(t *testing.T) {
	j := testfiles.Fixture(t, "servicerequest-debt.json")
	note := `,"note":[{"text":"` + strings.Repeat("Synthetic note text for a large referral. ", 2000) + `"}]}`
	big := append(compact(t, j)[:len(compact(t, j))-1:len(compact(t, j))-1], note...)
	if len(big) <= 65535 {
		t.Fatalf("only %d bytes", len(big))
	}
	packed := srCodec.pack(big)
	var h zstd.Header
	if err := h.Decode(packed); err != nil || h.DictionaryID != srDictV1ID {
		t.Fatalf("a large value is not a zstd frame naming the dictionary: %#x %v", h.DictionaryID, err)
	}
	got, err := srCodec.unpack(packed)
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("large round trip: %v", err)
	}
}

// An S2 value damaged anywhere (its checksum, its block, its length) is an
// error, never other JSON, and a length claiming more than a stored value
// may hold is refused before anything is allocated.
func TestCodecS2Damaged(t *testing.T) {
	packed := srCodec.pack(testfiles.Fixture(t, "servicerequest-debt.json"))
	for i := 1; i < len(packed); i++ {
		v := bytes.Clone(packed)
		v[i] ^= 0x20
		if _, err := srCodec.unpack(v); err == nil {
			t.Fatalf("flipped byte %d of %d read without error", i, len(packed))
		}
	}
	if _, err := srCodec.unpack(packed[:3]); err == nil {
		t.Fatal("a truncated header read without error")
	}
	huge := []byte{srDictV1Tag, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := srCodec.unpack(huge)
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("a 4 GiB length read without error")
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Fatalf("a value claiming 4 GiB allocated %d bytes before it was refused", grew)
	}
}

// consentsIn returns every Consent in a FHIR JSON file: the resource
// itself, or the Consents among a Bundle's entries, each as its own bytes.
func consentsIn(t *testing.T, file []byte) [][]byte {
	t.Helper()
	var head struct {
		ResourceType string `json:"resourceType"`
		Entry        []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(file, &head); err != nil {
		return nil // fixtures/README.md and the like
	}
	switch head.ResourceType {
	case "Consent":
		return [][]byte{file}
	case "Bundle":
		var out [][]byte
		for _, e := range head.Entry {
			out = append(out, consentsIn(t, e.Resource)...)
		}
		return out
	}
	return nil
}

// stamped is a Consent as intake stores it: compacted, with the server's
// id and meta (fhir.Stamp adds them at the end when the client sent none).
func stamped(t *testing.T, j []byte) []byte {
	c := compact(t, j)
	if bytes.Contains(c, []byte(`"meta":`)) || bytes.Contains(c, []byte(`"id":`)) {
		return c // the example's own id and meta are as good a sample
	}
	return append(c[:len(c)-1], `,"id":"6f1c2e0a-8b4d-4e57-9a3c-2d7b1e9f0c44","meta":{"versionId":"1","lastUpdated":"2026-11-20T10:15:00.123Z"}}`...)
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

// BenchmarkPackConsent prints the cost of compressing a Consent as intake
// stores it (compacted and stamped) and of reading it back.
func BenchmarkPackConsent(b *testing.B) {
	var c bytes.Buffer
	if err := json.Compact(&c, testfiles.Fixture(b, "consent-share-with-link-workers.json")); err != nil {
		b.Fatal(err)
	}
	j := append(c.Bytes()[:c.Len()-1], `,"id":"6f1c2e0a-8b4d-4e57-9a3c-2d7b1e9f0c44","meta":{"versionId":"1","lastUpdated":"2026-11-20T10:15:00.123Z"}}`...)
	benchCodec(b, consentCodec, j)
}

// BenchmarkPackServiceRequest prints the cost of compressing a referral
// for storage and of reading it back.
func BenchmarkPackServiceRequest(b *testing.B) {
	benchCodec(b, srCodec, testfiles.Fixture(b, "servicerequest-debt.json"))
}

// benchCodec prints the cost of packing j with c and of unpacking it, and
// the bytes stored against the JSON's.
func benchCodec(b *testing.B, c *codec, j []byte) {
	var packed []byte
	b.Run("pack", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			packed = c.pack(j)
		}
		b.ReportMetric(float64(len(packed)), "stored-bytes")
		b.ReportMetric(float64(len(j)), "json-bytes")
	})
	b.Run("unpack", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := c.unpack(packed); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// FuzzCodec: any input comes back byte for byte from either codec, and
// any stored value, however damaged, reads as JSON or as an error, never a
// panic.
func FuzzCodec(f *testing.F) {
	sr := testfiles.Fixture(f, "servicerequest-debt.json")
	f.Add(sr, srCodec.pack(sr))
	f.Add([]byte(`{}`), consentCodec.pack([]byte(`{"resourceType":"Consent"}`)))
	f.Add([]byte{}, srCodec.enc.EncodeAll(sr, nil))
	f.Fuzz(func(t *testing.T, j, stored []byte) {
		for _, c := range []*codec{srCodec, consentCodec} {
			got, err := c.unpack(c.pack(j))
			if err != nil || !bytes.Equal(got, j) {
				t.Fatalf("%s round trip of %d bytes: %v", c.kind, len(j), err)
			}
		}
		_, _ = srCodec.unpack(stored)
	})
}

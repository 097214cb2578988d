package fhir

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Stamp edits the bytes where sjson would have (issue 22): the same output
// as three sjson.SetBytes, for resources with and without an id and meta,
// meta empty or holding other elements, and every fixture.
func TestStampAsSJSON(t *testing.T) {
	docs := []string{
		`{"resourceType":"Consent","status":"active"}`,
		`{"resourceType":"Consent","id":"client","status":"active"}`,
		`{"resourceType":"Consent","id":"client","meta":{},"status":"active"}`,
		`{"resourceType":"Consent","meta":{"profile":["x"]},"status":"active"}`,
		`{"resourceType":"Consent","meta":{"versionId":"9"},"status":"active","id":"a"}`,
		`{"meta":{"lastUpdated":"2020-01-01T00:00:00Z","versionId":"9","tag":[{"code":"t"}]},"resourceType":"Consent"}`,
		`{"resourceType":"Consent","contained":[{"resourceType":"Patient","id":"p","meta":{"versionId":"4"}}],"status":"active"}`,
		`{"resourceType":"Consent","id":null,"meta":{"versionId":null}}`,
		" {\n \"resourceType\" : \"Consent\",\n \"id\" : \"x\"\n}\n",
	}
	files, _ := filepath.Glob("../../fixtures/*.json")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(b))
	}
	at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	for _, d := range docs {
		for _, id := range []string{"4b1d7c1e-0d3c-4d7e-9d55-3f1f0c1c2a10", `needs "escaping"`, "a<b"} {
			got, err := Stamp([]byte(d), id, 3, at)
			if err != nil {
				t.Fatalf("%s: %v", d, err)
			}
			var buf bytes.Buffer
			if err := json.Compact(&buf, []byte(d)); err != nil {
				t.Fatal(err)
			}
			want, err := stampWithSJSON(buf.Bytes(), id, "3", Instant(at))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Stamp(%.60s, %q):\n got %s\nwant %s", d, id, got, want)
			}
		}
	}
}

// BenchmarkStamp stamps a referral as intake does ("edit"), beside the
// three sjson.SetBytes it replaced ("sjson").
func BenchmarkStamp(b *testing.B) {
	raw, err := os.ReadFile("../../fixtures/servicerequest-debt.json")
	if err != nil {
		b.Fatal(err)
	}
	at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	const id = "4b1d7c1e-0d3c-4d7e-9d55-3f1f0c1c2a10"
	b.Run("edit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Stamp(raw, id, 1, at); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sjson", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var buf bytes.Buffer
			buf.Grow(len(raw) + 96)
			if err := json.Compact(&buf, raw); err != nil {
				b.Fatal(err)
			}
			if _, err := stampWithSJSON(buf.Bytes(), id, "1", Instant(at)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

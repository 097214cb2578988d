// Package jsonedit changes one member of a JSON document for a test: a
// valid fixture made invalid in exactly one place. Paths are sjson's
// ("payload.0.contentString", "extension.-1" appends).
package jsonedit

import (
	"testing"

	"github.com/tidwall/sjson"
)

// Set returns body with the member at path set to v.
func Set(tb testing.TB, body []byte, path string, v any) []byte {
	tb.Helper()
	out, err := sjson.SetBytes(body, path, v)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// Delete returns body without the member at path.
func Delete(tb testing.TB, body []byte, path string) []byte {
	tb.Helper()
	out, err := sjson.DeleteBytes(body, path)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

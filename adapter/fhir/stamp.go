package fhir

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"github.com/tidwall/sjson"
)

// Stamp returns the resource's validated bytes, compacted, with the server's
// id, meta.versionId and meta.lastUpdated set. Other meta elements the client
// sent (profile, security, tag) are kept. The resource is not re-marshalled:
// sjson edits the bytes in place, which costs a few microseconds where a
// FHIR marshal costs about a hundred.
func Stamp(raw []byte, id string, version int, lastUpdated time.Time) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(raw) + 96)
	if err := json.Compact(&buf, raw); err != nil {
		return nil, err
	}
	out, err := sjson.SetBytes(buf.Bytes(), "id", id)
	if err != nil {
		return nil, err
	}
	if out, err = sjson.SetBytes(out, "meta.versionId", strconv.Itoa(version)); err != nil {
		return nil, err
	}
	return sjson.SetBytes(out, "meta.lastUpdated", Instant(lastUpdated))
}

package fhir

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// Stamp returns the resource's validated bytes, compacted, with the server's
// id, meta.versionId and meta.lastUpdated set. Other meta elements the client
// sent (profile, security, tag) are kept. The resource is not re-marshalled:
// its bytes are edited where the three values go (replaced where the client
// sent them, added at the end of their object where not), in one copy after
// compacting (issue 22), with the same result as three sjson.SetBytes.
func Stamp(raw []byte, id string, version int, lastUpdated time.Time) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(raw) + 96)
	if err := json.Compact(&buf, raw); err != nil {
		return nil, err
	}
	compact := buf.Bytes()
	vid, at := strconv.Itoa(version), Instant(lastUpdated)
	if out, ok := stampInPlace(compact, id, vid, at); ok {
		return out, nil
	}
	return stampWithSJSON(compact, id, vid, at)
}

// stampWithSJSON is Stamp's general case (an id that needs escaping, a
// resource that is not an object with members).
func stampWithSJSON(compact []byte, id, vid, at string) ([]byte, error) {
	out, err := sjson.SetBytes(compact, "id", id)
	if err != nil {
		return nil, err
	}
	if out, err = sjson.SetBytes(out, "meta.versionId", vid); err != nil {
		return nil, err
	}
	return sjson.SetBytes(out, "meta.lastUpdated", at)
}

// edit replaces doc[from:to] with text.
type edit struct {
	from, to int
	text     string
}

// stampInPlace sets id, meta.versionId and meta.lastUpdated on compact
// JSON whose values need no escaping; ok is false when it cannot (then
// stampWithSJSON does).
func stampInPlace(doc []byte, id, vid, at string) ([]byte, bool) {
	if !plainJSONString(id) || len(doc) < 3 || doc[0] != '{' || doc[len(doc)-1] != '}' || doc[1] == '}' {
		return nil, false
	}
	end := len(doc) - 1 // the resource's closing brace
	var edits []edit
	idv := gjson.GetBytes(doc, "id")
	switch {
	case !idv.Exists():
		edits = append(edits, edit{end, end, `,"id":"` + id + `"`})
	case idv.Index > 0:
		edits = append(edits, edit{idv.Index, idv.Index + len(idv.Raw), `"` + id + `"`})
	default:
		return nil, false
	}
	meta := gjson.GetBytes(doc, "meta")
	switch {
	case !meta.Exists():
		edits = append(edits, edit{end, end, `,"meta":{"versionId":"` + vid + `","lastUpdated":"` + at + `"}`})
	case meta.Index > 0 && meta.IsObject():
		mEnd := meta.Index + len(meta.Raw) - 1 // meta's closing brace
		sep := ","
		if meta.Raw == "{}" {
			sep = ""
		}
		for _, f := range []struct{ name, value string }{{"versionId", vid}, {"lastUpdated", at}} {
			v := gjson.Get(meta.Raw, f.name)
			switch {
			case !v.Exists():
				edits = append(edits, edit{mEnd, mEnd, sep + `"` + f.name + `":"` + f.value + `"`})
				sep = ","
			case v.Index > 0:
				at := meta.Index + v.Index
				edits = append(edits, edit{at, at + len(v.Raw), `"` + f.value + `"`})
			default:
				return nil, false
			}
		}
	default:
		return nil, false
	}
	// Apply in document order (a stable sort: insertions at the same place
	// keep the order they were made in, as sjson's would).
	for i := 1; i < len(edits); i++ {
		for j := i; j > 0 && edits[j].from < edits[j-1].from; j-- {
			edits[j], edits[j-1] = edits[j-1], edits[j]
		}
	}
	n := len(doc)
	for _, e := range edits {
		n += len(e.text) - (e.to - e.from)
	}
	out := make([]byte, 0, n)
	prev := 0
	for _, e := range edits {
		if e.from < prev {
			return nil, false // overlapping (cannot happen in valid JSON)
		}
		out = append(out, doc[prev:e.from]...)
		out = append(out, e.text...)
		prev = e.to
	}
	return append(out, doc[prev:]...), true
}

// plainJSONString reports whether s can be written between quotes as it
// is: printable ASCII without a quote, backslash or the characters
// encoders escape for HTML.
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

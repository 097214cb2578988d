package strictjson_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/internal/strictjson"
)

type body struct {
	Status   string `json:"status"`
	Business *struct {
		Code string `json:"code"`
	} `json:"businessStatus"`
	Max      *int            `json:"maxOpen"`
	Resource jsontext.Value  `json:"resource"`
	Flags    []bool          `json:"flags"`
	Extra    json.RawMessage `json:"extra"`
}

func TestDecode(t *testing.T) {
	var b body
	if err := strictjson.Decode([]byte(`{"status":"accepted","businessStatus":{"code":"contacted"},"maxOpen":3,
		"resource":{"resourceType":"Goal","x":[1,2]},"extra":{"a":1}}`), &b); err != nil {
		t.Fatal(err)
	}
	if b.Status != "accepted" || b.Business.Code != "contacted" || *b.Max != 3 ||
		string(b.Resource) != `{"resourceType":"Goal","x":[1,2]}` || string(b.Extra) != `{"a":1}` {
		t.Errorf("decoded %+v", b)
	}
	cases := []struct {
		name, in, code, expr, msg string
	}{
		{"duplicate", `{"status":"a","status":"b"}`, adapter.ESTRUCTURE, "status", `duplicate JSON member name "status"`},
		{"duplicate nested", `{"businessStatus":{"code":"a","code":"b"}}`, adapter.ESTRUCTURE, "businessStatus.code", "duplicate"},
		{"duplicate inside a raw member", `{"resource":{"id":"a","id":"b"}}`, adapter.ESTRUCTURE, "resource.id", "duplicate"},
		{"another case", `{"Status":"a"}`, adapter.ESTRUCTURE, "Status", `unknown member "Status"`},
		{"unknown", `{"colour":"red"}`, adapter.ESTRUCTURE, "colour", `unknown member "colour"`},
		{"wrong type", `{"status":5}`, adapter.EVALUE, "status", "want a string"},
		{"fraction for an int", `{"maxOpen":1.5}`, adapter.EVALUE, "maxOpen", "whole number"},
		{"string for an int", `{"maxOpen":"5"}`, adapter.EVALUE, "maxOpen", "whole number"},
		{"wrong type in an array", `{"flags":[true,"no"]}`, adapter.EVALUE, "flags[1]", "true or false"},
		{"not an object", `["status"]`, adapter.ESTRUCTURE, "", "must be a JSON object"},
		{"null", `null`, adapter.ESTRUCTURE, "", "must be a JSON object"},
		{"trailing object", `{"status":"a"} {"status":"b"}`, adapter.ESTRUCTURE, "", "data after the object"},
		{"trailing scalar", `{"status":"a"} 5`, adapter.ESTRUCTURE, "", "data after the object"},
		{"malformed", `{"status":`, adapter.ESTRUCTURE, "", "unexpected end of input"},
		{"empty", ``, adapter.ESTRUCTURE, "", "unexpected end of input"},
		{"invalid UTF-8", "{\"status\":\"caf\xe9\"}", adapter.ESTRUCTURE, "", "invalid UTF-8"},
		{"too deep", `{"extra":` + strings.Repeat(`[`, 40) + strings.Repeat(`]`, 40) + `}`, adapter.ESTRUCTURE, "", "nested deeper"},
		{"overlong number", `{"maxOpen":` + strings.Repeat("9", 41) + `}`, adapter.EVALUE, "maxOpen", "longer than 40"},
		{"long member name clipped", `{"` + strings.Repeat("n", 500) + `":1}`, adapter.ESTRUCTURE, strings.Repeat("n", 64) + "...", "unknown member"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b body
			err := strictjson.Decode([]byte(c.in), &b)
			var e *adapter.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v, want an *adapter.Error", err)
			}
			if e.Code != c.code || !strings.Contains(e.Message, c.msg) {
				t.Errorf("error %s %q, want %s containing %q", e.Code, e.Message, c.code, c.msg)
			}
			if c.expr != "" && (len(e.Expression) != 1 || e.Expression[0] != c.expr) {
				t.Errorf("expression %v, want %s", e.Expression, c.expr)
			}
			for _, v := range []string{`"a"`, `"b"`, "red", "caf"} {
				if strings.Contains(e.Message, v) {
					t.Errorf("message %q echoes a value", e.Message)
				}
			}
		})
	}
}

// Whatever Decode accepts, the lenient encoding/json reads the same way:
// strict decoding only ever refuses, never reads differently.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"status":"a"}`, `{"status":"a","status":"b"}`, `{"Status":"a"}`, `{"maxOpen":1e2}`,
		`{"businessStatus":{"code":"x"},"flags":[true]}`, `{"resource":{"a":[{}]}}`, `{"extra":null}`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var strict body
		err := strictjson.Decode(in, &strict)
		if err != nil {
			var e *adapter.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *adapter.Error", err)
			}
			return
		}
		var lenient body
		if err := json.Unmarshal(in, &lenient); err != nil {
			t.Fatalf("strict accepted what encoding/json refuses: %v", err)
		}
		// Raw members keep their bytes in both; compare them compacted.
		strict.Resource, lenient.Resource = compact(t, strict.Resource), compact(t, lenient.Resource)
		strict.Extra, lenient.Extra = compact(t, strict.Extra), compact(t, lenient.Extra)
		if !reflect.DeepEqual(strict, lenient) {
			t.Fatalf("strict read %+v, lenient %+v", strict, lenient)
		}
	})
}

func compact(t *testing.T, b []byte) []byte {
	if b == nil {
		return nil
	}
	v := jsontext.Value(append([]byte(nil), b...))
	if err := v.Compact(); err != nil {
		t.Fatalf("compact: %v", err)
	}
	return v
}

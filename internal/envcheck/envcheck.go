// Package envcheck checks the environment against a configuration struct
// read with sethvargo/go-envconfig, before it is read: every value that
// does not parse, each named by its environment variable, and every
// variable that looks like one of the configuration's but is not (a typo
// such as REDIS_URLL would otherwise leave REDIS_URL unset and the service
// on its in-memory store).
//
// "Looks like one of ours" is judged as follows: a variable whose name is
// a known name in another case (redis_url), or whose first word (up to the
// first underscore) is the first word of a known name that has several
// (REDIS_, AUTH_, NOTIFY_, CONSENT_, ...) and which is within two edits of
// a known name (an edit being a letter inserted, deleted, changed, or two
// neighbours swapped). So REDIS_URLL and AUTH_JWKS_FIEL refuse start-up,
// while PATH, HOME, GOMEMLIMIT, KUBERNETES_SERVICE_HOST and the variables
// Kubernetes sets for a Service called redis (REDIS_PORT,
// REDIS_SERVICE_HOST, ...) never do.
package envcheck

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"
)

// MaxDistance is the most edits between a variable and a known name for
// the variable to be taken as a typo of it.
const MaxDistance = 2

// field is one environment variable of a configuration struct.
type field struct {
	name string
	typ  reflect.Type
	tag  reflect.StructTag
}

// fields lists the env-tagged fields of the struct type t, recursively.
func fields(t reflect.Type) []field {
	var out []field
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("env")
		if !ok {
			if ft := f.Type; ft.Kind() == reflect.Struct && ft != reflect.TypeOf(time.Time{}) {
				out = append(out, fields(ft)...)
			}
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		out = append(out, field{name: strings.TrimSpace(name), typ: f.Type, tag: f.Tag})
	}
	return out
}

// Names lists the environment variables the configuration struct that
// target points at reads, in declaration order.
func Names(target any) []string {
	var out []string
	for _, f := range fields(reflect.TypeOf(target).Elem()) {
		out = append(out, f.name)
	}
	return out
}

// Parse reads each variable of target's configuration on its own and
// returns an error for each whose value does not parse, naming the
// variable (never the value) and what it should be, and the names of
// those variables. target is not changed.
func Parse(ctx context.Context, target any, lookup envconfig.Lookuper) (errs []error, bad []string) {
	for _, f := range fields(reflect.TypeOf(target).Elem()) {
		one := reflect.New(reflect.StructOf([]reflect.StructField{{Name: "V", Type: f.typ, Tag: f.tag}}))
		if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: one.Interface(), Lookuper: lookup}); err != nil {
			errs = append(errs, fmt.Errorf("%s: %s", f.name, expected(f.typ, err)))
			bad = append(bad, f.name)
		}
	}
	return errs, bad
}

// expected says what a variable of type t should hold.
func expected(t reflect.Type, err error) string {
	if t == reflect.TypeOf(time.Duration(0)) {
		return "not a duration: use a number with a unit, such as 500ms, 10s, 5m or 36h"
	}
	if reflect.PointerTo(t).Implements(reflect.TypeOf((*envconfig.Decoder)(nil)).Elem()) {
		// The configuration's own types explain themselves.
		var de interface{ Unwrap() error }
		for errors.As(err, &de) && de.Unwrap() != nil {
			err = de.Unwrap()
		}
		return err.Error()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "not a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "not a whole number of at least 0"
	case reflect.Float32, reflect.Float64:
		return "not a number"
	case reflect.Bool:
		return "not a boolean: use true or false"
	}
	return "not a valid value"
}

// Hide returns lookup without the named variables, so a configuration can
// be read (with their defaults) and its other checks still run while
// those variables are reported.
func Hide(lookup envconfig.Lookuper, names []string) envconfig.Lookuper {
	return hidden{lookup, names}
}

type hidden struct {
	envconfig.Lookuper
	names []string
}

func (h hidden) Lookup(key string) (string, bool) {
	if slices.Contains(h.names, key) {
		return "", false
	}
	return h.Lookuper.Lookup(key)
}

// Unknown returns an error for each of the environment's variable names
// that looks like one of known but is not (see the package comment),
// naming the closest known name, in the order of names.
func Unknown(names, known []string) []error {
	firsts := map[string]bool{}
	for _, k := range known {
		if first, _, ok := strings.Cut(k, "_"); ok {
			firsts[first] = true
		}
	}
	var errs []error
	for _, n := range names {
		if slices.Contains(known, n) {
			continue
		}
		up := strings.ToUpper(n)
		if slices.Contains(known, up) {
			errs = append(errs, fmt.Errorf("%s is not read (names are upper case): did you mean %s?", n, up))
			continue
		}
		first, _, ok := strings.Cut(up, "_")
		if !ok || !firsts[first] {
			continue
		}
		best, dist := "", MaxDistance+1
		for _, k := range known {
			if d := distance(up, k); d < dist {
				best, dist = k, d
			}
		}
		if best != "" {
			errs = append(errs, fmt.Errorf("%s is not a setting of this service: did you mean %s?", n, best))
		}
	}
	return errs
}

// distance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and swaps of neighbours.
func distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

package httpapi

import (
	"errors"
	"time"
)

// errDateParam is returned by datePrefix for a malformed value.
var errDateParam = errors.New("malformed date parameter")

// datePrefix reads a FHIR date search value: a two-letter prefix (ge, gt,
// le, lt) and a date or instant in one of the given layouts. bound is
// "lower" for ge/gt and "upper" for le/lt.
func datePrefix(v string, layouts ...string) (bound string, prefix string, t time.Time, err error) {
	if len(v) < 3 {
		return "", "", t, errDateParam
	}
	prefix, val := v[:2], v[2:]
	switch prefix {
	case "ge", "gt":
		bound = "lower"
	case "le", "lt":
		bound = "upper"
	default:
		return "", "", t, errDateParam
	}
	for _, l := range layouts {
		if t, err = time.Parse(l, val); err == nil {
			return bound, prefix, t, nil
		}
	}
	return "", "", t, errDateParam
}

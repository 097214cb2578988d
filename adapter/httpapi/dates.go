package httpapi

import (
	"errors"
	"strings"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
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

// lastUpdatedRange reads a _lastUpdated value as FHIR's date search does
// (search.html#date): a prefix (eq, the default, gt, ge, lt or le) and a
// date (YYYY-MM-DD: that day in Europe/London) or an instant with its zone,
// each standing for the range of its precision (a day, a second, a
// millisecond). It returns the exclusive bounds (zero: none) at the
// millisecond the store keeps.
func lastUpdatedRange(v string) (after, before time.Time, err error) {
	prefix, val := "eq", v
	if len(v) > 2 && v[0] >= 'a' && v[0] <= 'z' {
		prefix, val = v[:2], v[2:]
	}
	start, end, err := dateRange(val)
	if err != nil {
		return after, before, err
	}
	const ms = time.Millisecond
	switch prefix {
	case "eq":
		return start.Add(-ms), end, nil
	case "gt":
		return end.Add(-ms), before, nil
	case "ge":
		return start.Add(-ms), before, nil
	case "lt":
		return after, start, nil
	case "le":
		return after, end, nil
	}
	return after, before, errDateParam
}

// dateRange is the range [start, end) a date or instant value stands for:
// a day, or the precision the instant is given to (a second, a tenth of
// one, ...; at finest the millisecond the store keeps).
func dateRange(val string) (start, end time.Time, err error) {
	if d, err := time.ParseInLocation(time.DateOnly, val, adapter.London()); err == nil {
		return d, d.AddDate(0, 0, 1), nil
	}
	t, err := time.Parse(time.RFC3339Nano, val)
	if err != nil {
		return start, end, errDateParam
	}
	step := time.Second // the precision given: a second, or a tenth, a hundredth... of one
	if _, frac, ok := strings.Cut(val, "."); ok {
		digits := len(frac) - len(strings.TrimLeft(frac, "0123456789"))
		for range min(digits, 9) {
			step /= 10
		}
	}
	step = max(step, time.Millisecond) // finer than the store keeps: its millisecond
	start = t.Truncate(step)
	return start, start.Add(step), nil
}

package dashboard

import (
	"math"
	"strings"

	"github.com/social-prescribing/referral-adapter/adapter/report"
)

// A Chart is an SVG drawing computed in Go: the template only places the
// primitives, so every coordinate can be unit tested.
type Chart struct {
	ID            string
	Title, Desc   string
	Heading       string // shown above the chart when its section has several
	Width, Height float64
	Grid          []Line
	Bars          []Bar
	Paths         []Path
	Points        []Point
	Texts         []Text
	Legend        []LegendItem
	Table         Table
}

// Bar is one drawn value. A suppressed count ("<5") is not drawn to its
// value: it is a hatched glyph as wide as the threshold, the same for every
// small count, saying only "fewer than 5". A count hidden so a small one
// cannot be recovered ("suppressed") is not drawn at all.
type Bar struct {
	X, Y, W, H float64
	Series     string // CSS class and data-series: max, reserved, received, ...
	Key        string // data-key: the service, area or bucket the bar belongs to
	Kind       string // "exact", "small" (<5) or "hidden"
	Value      string // as shown: "12", "<5", "suppressed"
	Title      string // accessible description
}

// Line is a grid or axis line.
type Line struct {
	X1, Y1, X2, Y2 float64
	Class          string
}

// Path is a trend line: one or more runs of shown points ("M x y L x y ...").
type Path struct {
	D      string
	Series string
}

// Point is a marker on a trend line.
type Point struct {
	X, Y   float64
	Series string
	Key    string
	Value  string
	Title  string
}

// Text is a label.
type Text struct {
	X, Y   float64
	S      string
	Class  string
	Anchor string // start, middle, end
}

// LegendItem names a series.
type LegendItem struct{ Series, Label string }

// Table is the chart's data as a table, for screen readers and for anyone
// who wants the figures.
type Table struct {
	Caption string
	Head    []string
	Rows    [][]string
}

// Kinds of bar.
const (
	KindExact  = "exact"
	KindSmall  = "small"
	KindHidden = "hidden"
)

// countBar is the bar drawn for c on a scale of px per unit, starting at x.
func countBar(c report.Count, x, y, h, px float64, series, key, title string) Bar {
	b := Bar{X: x, Y: y, H: h, Series: series, Key: key, Value: c.String(), Title: title + ": " + c.String()}
	switch {
	case c.Suppressed && c.N < report.Threshold:
		b.Kind, b.W = KindSmall, report.Threshold*px
	case c.Suppressed:
		b.Kind = KindHidden
	default:
		b.Kind, b.W = KindExact, float64(c.N)*px
	}
	return b
}

// exactBar is a bar for a figure the report never suppresses (caseload
// limits and places held now).
func exactBar(n int, x, y, h, px float64, series, key, title, value string) Bar {
	return Bar{X: x, Y: y, W: float64(n) * px, H: h, Series: series, Key: key, Kind: KindExact, Value: value, Title: title + ": " + value}
}

// niceMax is the smallest 1, 2 or 5 × 10^k at or above v (at least 10, so
// a glyph for "<5" never fills the axis), and a tick step dividing it.
func niceMax(v float64) (top, step float64) {
	if v < 10 {
		return 10, 2
	}
	mag := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if top = m * mag; top >= v {
			break
		}
	}
	switch top / mag {
	case 1, 10:
		step = top / 5
	case 2:
		step = top / 4
	default:
		step = top / 5
	}
	return top, step
}

// shownMax is the largest count a scale must hold: exact counts, and the
// threshold for a small one.
func shownMax(cs ...report.Count) float64 {
	var m float64
	for _, c := range cs {
		switch {
		case !c.Suppressed:
			m = max(m, float64(c.N))
		case c.N < report.Threshold:
			m = max(m, report.Threshold)
		}
	}
	return m
}

// clipText shortens s to n runes with an ellipsis.
func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

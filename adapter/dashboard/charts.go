package dashboard

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/report"
)

// Capacity draws, per service, its caseload now (places held against the
// limit, as a bullet bar) beside the referrals it received, placed and had
// to redirect for lack of capacity in the period. The two panels have
// their own scales: one counts places now, the other referrals over time.
func Capacity(rows []report.ServiceRow) Chart {
	const (
		top, rowH              = 46.0, 56.0
		lx0, lx1, lval         = 10.0, 350.0, 362.0
		rlab, rx0, rx1         = 500.0, 590.0, 890.0
		barH, bulletH, demandH = 10.0, 18.0, 12.0
	)
	capMax := 0
	var demand []report.Count
	for _, r := range rows {
		capMax = max(capMax, r.Capacity.MaxOpen, r.Capacity.Reserved)
		demand = append(demand, r.Received, r.Placed, r.RedirectedCapacity)
	}
	ctop, cstep := niceMax(float64(capMax))
	dtop, dstep := niceMax(shownMax(demand...))
	cpx, dpx := (lx1-lx0)/ctop, (rx1-rx0)/dtop
	h := top + rowH*float64(len(rows)) + 4
	ch := Chart{ID: "capacity", Title: "Capacity and demand by service", Width: 1000, Height: h,
		Desc: "For each service: on the left, the places held now against its caseload limit; on the right, the referrals it received, placed and redirected for lack of capacity in the period. Counts of 1 to 4 are drawn as a hatched mark labelled <5, not to scale.",
		Legend: []LegendItem{{"max", "caseload limit now"}, {"reserved", "places held now"}, {"received", "received"},
			{"placed", "placed"}, {"redirected", "redirected for capacity"}, {"small", "fewer than 5 (not to scale)"}}}
	ch.Texts = append(ch.Texts, Text{X: 0, Y: 14, S: "Caseload now: places held of the limit", Class: "panel"},
		Text{X: rlab, Y: 14, S: "Referrals in the period", Class: "panel"})
	axis := func(x0, px, top, step float64) {
		for v := 0.0; v <= top+step/2; v += step {
			x := x0 + v*px
			ch.Grid = append(ch.Grid, Line{X1: x, Y1: 38, X2: x, Y2: h - 4, Class: "grid"})
			ch.Texts = append(ch.Texts, Text{X: x, Y: 32, S: strconv.FormatFloat(v, 'f', -1, 64), Class: "tick", Anchor: "middle"})
		}
	}
	axis(lx0, cpx, ctop, cstep)
	axis(rx0, dpx, dtop, dstep)
	ch.Table = Table{Caption: "Capacity and demand by service",
		Head: []string{"Service", "Status now", "Caseload limit now", "Places held now", "Waitlist now", "Utilisation now",
			"Utilisation over the period", "Received", "Placed", "Waitlisted", "Redirected for capacity"}}
	for i, r := range rows {
		y0 := top + rowH*float64(i)
		ch.Texts = append(ch.Texts, Text{X: 0, Y: y0 + 12, S: clipText(r.Name, 48) + " · " + r.Capacity.Status, Class: "name"})
		limit := "no limit"
		if r.Capacity.MaxOpen > 0 {
			limit = strconv.Itoa(r.Capacity.MaxOpen)
			ch.Bars = append(ch.Bars, exactBar(r.Capacity.MaxOpen, lx0, y0+20, bulletH, cpx, "max", r.Service, r.Name+" caseload limit now", limit))
		}
		held := strconv.Itoa(r.Capacity.Reserved)
		ch.Bars = append(ch.Bars, exactBar(r.Capacity.Reserved, lx0, y0+24, barH, cpx, "reserved", r.Service, r.Name+" places held now", held))
		label := held + " of " + limit
		if r.Capacity.MaxOpen == 0 {
			label = held + ", no limit"
		}
		ch.Texts = append(ch.Texts, Text{X: lval, Y: y0 + 33, S: label, Class: "value"})
		for j, s := range []struct {
			series, label string
			c             report.Count
		}{{"received", "received", r.Received}, {"placed", "placed", r.Placed}, {"redirected", "redirected", r.RedirectedCapacity}} {
			y := y0 + 4 + 16*float64(j)
			ch.Texts = append(ch.Texts, Text{X: rlab, Y: y + 11, S: s.label, Class: "series"})
			b := countBar(s.c, rx0, y, demandH, dpx, s.series, r.Service, r.Name+" "+s.label)
			ch.Bars = append(ch.Bars, b)
			ch.Texts = append(ch.Texts, Text{X: b.X + b.W + 6, Y: y + 11, S: b.Value, Class: "value"})
		}
		ch.Table.Rows = append(ch.Table.Rows, []string{r.Name, r.Capacity.Status, limit, held, r.Capacity.Waitlist.String(),
			percent(r.Capacity.UtilisationNow), percent(r.Capacity.UtilisationPeriod),
			r.Received.String(), r.Placed.String(), r.Waitlisted.String(), r.RedirectedCapacity.String()})
	}
	return ch
}

// waitTicks label the positions of the wait histogram's buckets.
var waitTicks = []string{"1h", "4h", "8h", "1d", "2d", "3d", "5d", "1w", "2w", "4w", "8w", ">8w"}

// waitPos is the axis position (1..len(waitTicks)) of a wait as the report
// gives it: the upper bound of its bucket ("<=24") or beyond the last
// (">1344"); 0 when there is none.
func waitPos(v string) int {
	if n, ok := strings.CutPrefix(v, "<="); ok {
		for i, b := range adapter.DurationBuckets {
			if strconv.Itoa(b) == n {
				return i + 1
			}
		}
	}
	if strings.HasPrefix(v, ">") {
		return len(adapter.DurationBuckets) + 1
	}
	return 0
}

// waitText is a wait in words: "≤ 24 h", "> 1344 h".
func waitText(v string) string {
	if n, ok := strings.CutPrefix(v, "<="); ok {
		return "≤ " + n + " h"
	}
	if n, ok := strings.CutPrefix(v, ">"); ok {
		return "> " + n + " h"
	}
	return "fewer than 5 people"
}

// Waits draws, per service, the median and 90th percentile of the hours
// from referral to first contact and to the start of support, on the
// histogram's bucket bounds (not a linear scale: the axis says so).
func Waits(rows []report.ServiceRow) Chart {
	const (
		top, rowH = 48.0, 26.0
		panelW    = 320.0
	)
	panels := []struct {
		x0           float64
		title, label string
		wait         func(report.ServiceRow) report.Wait
	}{
		{320, "Referral to first contact", "time to first contact", func(r report.ServiceRow) report.Wait { return r.TimeToFirstContact }},
		{670, "Referral to support starting", "time to support starting", func(r report.ServiceRow) report.Wait { return r.TimeToSupport }},
	}
	px := panelW / float64(len(waitTicks))
	h := top + rowH*float64(len(rows)) + 4
	ch := Chart{ID: "waits", Title: "Waits by service", Width: 1000, Height: h,
		Desc:   "For each service, the median and 90th percentile wait from referral to first contact and to support starting, in hours, shown at the upper bound of the range they fall in. Waits over fewer than 5 people are not shown.",
		Legend: []LegendItem{{"median", "median"}, {"p90", "90th percentile"}}}
	ch.Table = Table{Caption: "Waits by service (hours, upper bound of the range)",
		Head: []string{"Service", "First contact: median", "First contact: 90th percentile", "First contact: people",
			"Support starting: median", "Support starting: 90th percentile", "Support starting: people"}}
	for _, p := range panels {
		ch.Texts = append(ch.Texts, Text{X: p.x0, Y: 14, S: p.title, Class: "panel"})
		ch.Grid = append(ch.Grid, Line{X1: p.x0, Y1: 38, X2: p.x0, Y2: h - 4, Class: "axis"})
		for i, t := range waitTicks {
			x := p.x0 + px*float64(i+1)
			ch.Grid = append(ch.Grid, Line{X1: x, Y1: 38, X2: x, Y2: h - 4, Class: "grid"})
			ch.Texts = append(ch.Texts, Text{X: x, Y: 32, S: t, Class: "tick", Anchor: "middle"})
		}
	}
	for i, r := range rows {
		y0 := top + rowH*float64(i)
		ch.Texts = append(ch.Texts, Text{X: 0, Y: y0 + 15, S: clipText(r.Name, 38), Class: "name"})
		for _, p := range panels {
			w := p.wait(r)
			med, p90 := waitPos(w.Median), waitPos(w.P90)
			if med == 0 || p90 == 0 {
				ch.Texts = append(ch.Texts, Text{X: p.x0 + 6, Y: y0 + 15, S: "fewer than 5 people", Class: "na"})
				continue
			}
			title := fmt.Sprintf("%s %s: median %s, 90th percentile %s (%s people)", r.Name, p.label, waitText(w.Median), waitText(w.P90), w.N)
			ch.Bars = append(ch.Bars,
				Bar{X: p.x0, Y: y0 + 4, W: px * float64(p90), H: 16, Series: "p90", Key: r.Service, Kind: KindExact, Value: w.P90, Title: title},
				Bar{X: p.x0, Y: y0 + 8, W: px * float64(med), H: 8, Series: "median", Key: r.Service, Kind: KindExact, Value: w.Median, Title: title})
		}
		row := []string{r.Name}
		for _, p := range panels {
			w := p.wait(r)
			row = append(row, orDash(w.Median), orDash(w.P90), w.N.String())
		}
		ch.Table.Rows = append(ch.Table.Rows, row)
	}
	return ch
}

// funnelStages are the funnel's stages in order.
var funnelStages = []struct {
	series, label string
	get           func(report.Funnel) report.Count
}{
	{"referred", "referred", func(f report.Funnel) report.Count { return f.Referred }},
	{"contacted", "contacted", func(f report.Funnel) report.Count { return f.Contacted }},
	{"engaged", "engaged", func(f report.Funnel) report.Count { return f.Engaged }},
	{"support", "support started", func(f report.Funnel) report.Count { return f.SupportStarted }},
	{"completed", "completed", func(f report.Funnel) report.Count { return f.Completed }},
}

// Funnel draws one area's referrals through the stages referred,
// contacted, engaged, support started and completed.
func Funnel(a report.AreaRow) Chart {
	const (
		top, rowH   = 34.0, 28.0
		x0, x1, lab = 120.0, 400.0, 0.0
	)
	var cs []report.Count
	for _, s := range funnelStages {
		cs = append(cs, s.get(a.Funnel))
	}
	dtop, step := niceMax(shownMax(cs...))
	px := (x1 - x0) / dtop
	h := top + rowH*float64(len(funnelStages)) + 4
	name := AreaName(a.Area)
	ch := Chart{ID: "funnel-" + a.Area, Title: "Funnel, " + a.Area, Heading: name, Width: 500, Height: h,
		Desc: "Referrals from " + strings.ToLower(name[:1]) + name[1:] + " in the period at each stage: referred, contacted, engaged, support started, completed. Counts of 1 to 4 are drawn as a hatched mark labelled <5, not to scale."}
	for v := 0.0; v <= dtop+step/2; v += step {
		x := x0 + v*px
		ch.Grid = append(ch.Grid, Line{X1: x, Y1: top - 6, X2: x, Y2: h - 4, Class: "grid"})
		ch.Texts = append(ch.Texts, Text{X: x, Y: top - 12, S: strconv.FormatFloat(v, 'f', -1, 64), Class: "tick", Anchor: "middle"})
	}
	ch.Table = Table{Caption: "Funnel, " + a.Area, Head: []string{"Stage", "Referrals", "Of those referred"}}
	ref := a.Funnel.Referred
	for i, s := range funnelStages {
		c := s.get(a.Funnel)
		y := top + rowH*float64(i)
		ch.Texts = append(ch.Texts, Text{X: lab, Y: y + 14, S: s.label, Class: "series"})
		b := countBar(c, x0, y+2, 16, px, s.series, a.Area, a.Area+" "+s.label)
		ch.Bars = append(ch.Bars, b)
		share := ""
		if !c.Suppressed && !ref.Suppressed && ref.N > 0 {
			share = percent(float64(c.N) / float64(ref.N))
		}
		label := b.Value
		if share != "" && i > 0 {
			label += " (" + share + ")"
		}
		ch.Texts = append(ch.Texts, Text{X: b.X + b.W + 6, Y: y + 14, S: label, Class: "value"})
		ch.Table.Rows = append(ch.Table.Rows, []string{s.label, c.String(), orDash(share)})
	}
	return ch
}

// trendSeries are the trend's lines.
var trendSeries = []struct {
	series, label string
	get           func(*report.TrendPoint) report.Count
}{
	{"received", "received", func(p *report.TrendPoint) report.Count { return p.Received }},
	{"placed", "placed", func(p *report.TrendPoint) report.Count { return p.Placed }},
	{"contacted", "first contacted", func(p *report.TrendPoint) report.Count { return p.Contacted }},
	{"redirected", "redirected for capacity", func(p *report.TrendPoint) report.Count { return p.Redirected }},
}

// Trend draws the referrals received, placed, first contacted and
// redirected for capacity in each bucket of the period. A line joins shown
// counts only: a "<5" bucket is a hatched mark from 0 to 5, a hidden one
// a gap.
func Trend(t *report.Trend) Chart {
	const (
		x0, x1, y0, y1 = 56.0, 980.0, 20.0, 240.0
	)
	var cs []report.Count
	for i := range t.Points {
		for _, s := range trendSeries {
			cs = append(cs, s.get(&t.Points[i]))
		}
	}
	ytop, ystep := niceMax(shownMax(cs...))
	yOf := func(v float64) float64 { return y1 - (y1-y0)*v/ytop }
	n := len(t.Points)
	xOf := func(i int) float64 {
		if n == 1 {
			return (x0 + x1) / 2
		}
		return x0 + (x1-x0)*float64(i)/float64(n-1)
	}
	ch := Chart{ID: "trend", Title: "Referrals per " + t.Step, Heading: "Referrals per " + t.Step, Width: 1000, Height: 270,
		Desc: "Referrals received, placed, first contacted and redirected for capacity in each " + t.Step + " of the period. Counts of 1 to 4 are drawn as a hatched mark from 0 to 5, not to scale; a gap is a count hidden so that a small one cannot be worked out.",
		Legend: []LegendItem{{"received", "received"}, {"placed", "placed"}, {"contacted", "first contacted"},
			{"redirected", "redirected for capacity"}, {"small", "fewer than 5 (not to scale)"}}}
	for v := 0.0; v <= ytop+ystep/2; v += ystep {
		y := yOf(v)
		ch.Grid = append(ch.Grid, Line{X1: x0, Y1: y, X2: x1, Y2: y, Class: "grid"})
		ch.Texts = append(ch.Texts, Text{X: x0 - 8, Y: y + 4, S: strconv.FormatFloat(v, 'f', -1, 64), Class: "tick", Anchor: "end"})
	}
	every := int(math.Ceil(float64(n) / 8))
	for i, p := range t.Points {
		if i%every == 0 {
			ch.Texts = append(ch.Texts, Text{X: xOf(i), Y: y1 + 20, S: bucketLabel(t.Step, p.From), Class: "tick", Anchor: "middle"})
		}
	}
	ch.Table = Table{Caption: "Referrals per " + t.Step, Head: []string{"From", "To", "Received", "Placed", "First contacted", "Redirected for capacity", "Caseload utilisation"}}
	// Drawn last on top: received, the series the others are part of.
	for j := len(trendSeries) - 1; j >= 0; j-- {
		s := trendSeries[j]
		var d strings.Builder
		run := 0
		offset := (float64(j) - 1.5) * 3
		for i := range t.Points {
			p := &t.Points[i]
			c := s.get(p)
			x := xOf(i)
			switch {
			case !c.Suppressed:
				y := yOf(float64(c.N))
				if run == 0 {
					fmt.Fprintf(&d, "M%s %s", num(x), num(y))
				} else {
					fmt.Fprintf(&d, " L%s %s", num(x), num(y))
				}
				run++
				ch.Points = append(ch.Points, Point{X: x, Y: y, Series: s.series, Key: p.From, Value: c.String(),
					Title: p.From + bucketEnd(p) + ": " + s.label + " " + c.String()})
			case c.N < report.Threshold:
				run = 0
				top := yOf(report.Threshold)
				ch.Bars = append(ch.Bars, Bar{X: x - 3 + offset, Y: top, W: 6, H: y1 - top, Series: s.series, Key: p.From,
					Kind: KindSmall, Value: c.String(), Title: p.From + bucketEnd(p) + ": " + s.label + " <5"})
			default:
				run = 0
			}
		}
		if d.Len() > 0 {
			ch.Paths = append(ch.Paths, Path{D: d.String(), Series: s.series})
		}
	}
	ch.Grid = append(ch.Grid, Line{X1: x0, Y1: y1, X2: x1, Y2: y1, Class: "axis"})
	for i := range t.Points {
		p := &t.Points[i]
		util := "—"
		if p.Utilisation != nil {
			util = percent(*p.Utilisation)
		}
		ch.Table.Rows = append(ch.Table.Rows, []string{p.From, p.To, p.Received.String(), p.Placed.String(),
			p.Contacted.String(), p.Redirected.String(), util})
	}
	return ch
}

// Utilisation draws the places held against caseload limits, over every
// service, from the daily capacity snapshots.
func Utilisation(t *report.Trend) Chart {
	const x0, x1, y0, y1 = 56.0, 980.0, 12.0, 92.0
	top := 1.0
	for _, p := range t.Points {
		if p.Utilisation != nil {
			top = max(top, math.Ceil(*p.Utilisation*2)/2)
		}
	}
	n := len(t.Points)
	xOf := func(i int) float64 {
		if n == 1 {
			return (x0 + x1) / 2
		}
		return x0 + (x1-x0)*float64(i)/float64(n-1)
	}
	yOf := func(v float64) float64 { return y1 - (y1-y0)*v/top }
	ch := Chart{ID: "utilisation", Title: "Caseload utilisation, all services", Heading: "Caseload utilisation, all services", Width: 1000, Height: 112,
		Desc:   "Places held as a share of the caseload limits of all services with a limit, from the daily capacity snapshots, per " + t.Step + " of the period.",
		Legend: []LegendItem{{"utilisation", "places held / caseload limit"}}}
	for v := 0.0; v <= top+0.01; v += 0.5 {
		ch.Grid = append(ch.Grid, Line{X1: x0, Y1: yOf(v), X2: x1, Y2: yOf(v), Class: "grid"})
		ch.Texts = append(ch.Texts, Text{X: x0 - 8, Y: yOf(v) + 4, S: percent(v), Class: "tick", Anchor: "end"})
	}
	var d strings.Builder
	run := 0
	for i := range t.Points {
		p := &t.Points[i]
		if p.Utilisation == nil {
			run = 0
			continue
		}
		x, y := xOf(i), yOf(*p.Utilisation)
		if run == 0 {
			fmt.Fprintf(&d, "M%s %s", num(x), num(y))
		} else {
			fmt.Fprintf(&d, " L%s %s", num(x), num(y))
		}
		run++
		ch.Points = append(ch.Points, Point{X: x, Y: y, Series: "utilisation", Key: p.From, Value: percent(*p.Utilisation),
			Title: p.From + bucketEnd(p) + ": " + percent(*p.Utilisation) + " of places held"})
	}
	if d.Len() > 0 {
		ch.Paths = append(ch.Paths, Path{D: d.String(), Series: "utilisation"})
	} else {
		ch.Texts = append(ch.Texts, Text{X: (x0 + x1) / 2, Y: (y0+y1)/2 + 4, Class: "na", Anchor: "middle",
			S: "No daily capacity snapshot in this period yet (the daily-snapshot job runs at 23:55)"})
	}
	return ch
}

func bucketLabel(step, day string) string {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return day
	}
	if step == "month" {
		return t.Format("Jan 2006")
	}
	return t.Format("2 Jan")
}

func bucketEnd(p *report.TrendPoint) string {
	if p.To == p.From {
		return ""
	}
	return " to " + p.To
}

func percent(f float64) string { return strconv.FormatFloat(math.Round(f*100), 'f', 0, 64) + "%" }

func num(f float64) string { return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64) }

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

package dashboard

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/report"
)

// AreaName is an area as the page names it: "Area LS6", or "Area not
// known" for referrals with no postcode from a practice not in the
// practice table.
func AreaName(area string) string {
	if area == adapter.AreaUnknown {
		return "Area not known"
	}
	return "Area " + area
}

// scoreText is a mean score as shown: up to two decimals, no trailing zeros.
func scoreText(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// signed is a change with its sign: "+6", "-0.8", "0".
func signed(v float64) string {
	if v > 0 {
		return "+" + scoreText(v)
	}
	return scoreText(v)
}

// wellbeingRow is a row of the wellbeing chart: an area or a service.
type wellbeingRow struct {
	key, label string
	rows       []report.WellbeingRow
}

// Wellbeing draws, for each area and then each service with pairs of
// scores, the mean SWEMWBS first and latest score on the scale's range
// (7 to 35), the mean change, and how many improved, stayed the same or
// worsened by 3 points or more; with fewer than 5 pairs, no figures. Its
// table has every measure (SWEMWBS and each ONS4 item).
func Wellbeing(r *report.Report) Chart {
	const (
		top, rowH      = 48.0, 30.0
		x0, x1         = 250.0, 610.0
		sx0, sx1       = 760.0, 990.0
		lo, hi, textX  = 7.0, 35.0, 624.0
		swemwbs, first = 0, 0
	)
	var rows []wellbeingRow
	for _, a := range r.ByArea {
		rows = append(rows, wellbeingRow{a.Area, AreaName(a.Area), a.Wellbeing})
	}
	for _, s := range r.Services {
		if len(s.Wellbeing) > 0 && s.Wellbeing[swemwbs].Paired.N > 0 {
			rows = append(rows, wellbeingRow{s.Service, clipText(s.Name, 34), s.Wellbeing})
		}
	}
	h := top + rowH*float64(len(rows)) + 6
	px := (x1 - x0) / (hi - lo)
	xOf := func(v float64) float64 { return x0 + (v-lo)*px }
	ch := Chart{ID: "wellbeing", Title: "Wellbeing change: SWEMWBS, first to latest score", Width: 1000, Height: h,
		Desc: "For each area, then each service, the mean SWEMWBS score (7 to 35) of referrals with two or more scores: the first (open circle) and the latest (filled circle) by the date of each score, the mean change, and the share who improved, stayed within 3 points or worsened. Fewer than 5 pairs of scores: no figures.",
		Legend: []LegendItem{{"baseline", "mean first score"}, {"followup", "mean latest score"},
			{"improved", "improved by 3 or more"}, {"nochange", "within 3 points"}, {"worsened", "worse by 3 or more"}}}
	ch.Texts = append(ch.Texts, Text{X: x0, Y: 14, S: "Mean SWEMWBS score, first → latest", Class: "panel"},
		Text{X: sx0, Y: 14, S: "Improved · within 3 · worse", Class: "panel"})
	for v := lo; v <= hi; v += 7 {
		ch.Grid = append(ch.Grid, Line{X1: xOf(v), Y1: 38, X2: xOf(v), Y2: h - 4, Class: "grid"})
		ch.Texts = append(ch.Texts, Text{X: xOf(v), Y: 32, S: scoreText(v), Class: "tick", Anchor: "middle"})
	}
	ch.Table = Table{Caption: "Wellbeing change by area and service (first to latest score)",
		Head: []string{"Area or service", "Measure", "Pairs of scores", "Mean first score", "Mean latest score", "Mean change", "Improved", "No change", "Worsened"}}
	for i, row := range rows {
		y := top + rowH*float64(i)
		ch.Texts = append(ch.Texts, Text{X: 0, Y: y + 15, S: row.label, Class: "name"})
		var w report.WellbeingRow
		if len(row.rows) > 0 {
			w = row.rows[first]
		}
		switch {
		case w.MeanChange == nil && w.Paired.N == 0:
			ch.Texts = append(ch.Texts, Text{X: x0, Y: y + 15, S: "no pairs of scores in the period", Class: "na"})
		case w.MeanChange == nil:
			ch.Texts = append(ch.Texts, Text{X: x0, Y: y + 15, S: "fewer than 5 pairs of scores: not shown", Class: "na"})
		default:
			b, f := *w.MeanBaseline, *w.MeanFollowUp
			title := fmt.Sprintf("%s: mean SWEMWBS %s → %s (%s) over %s pairs", row.label, scoreText(b), scoreText(f), signed(*w.MeanChange), w.Paired)
			ch.Grid = append(ch.Grid, Line{X1: xOf(b), Y1: y + 10, X2: xOf(f), Y2: y + 10, Class: "change"})
			ch.Points = append(ch.Points,
				Point{X: xOf(b), Y: y + 10, Series: "baseline", Key: row.key, Value: scoreText(b), Title: title},
				Point{X: xOf(f), Y: y + 10, Series: "followup", Key: row.key, Value: scoreText(f), Title: title})
			ch.Texts = append(ch.Texts, Text{X: textX, Y: y + 15, S: signed(*w.MeanChange) + ", " + w.Paired.String() + " pairs", Class: "value"})
			ch.Bars = append(ch.Bars, shares(row.key, row.label, sx0, sx1, y+3, w)...)
			if w.Improved.Suppressed || w.NoChange.Suppressed || w.Worsened.Suppressed {
				ch.Texts = append(ch.Texts, Text{X: sx0, Y: y + 15, S: "improved " + w.Improved.String() + ", worse " + w.Worsened.String(), Class: "na"})
			}
		}
		for _, m := range row.rows {
			ch.Table.Rows = append(ch.Table.Rows, wellbeingCells(row.label, m))
		}
	}
	return ch
}

// shares is the 100% bar of improved, no change and worsened, drawn only
// when all three are shown.
func shares(key, label string, x0, x1, y float64, w report.WellbeingRow) []Bar {
	parts := []struct {
		series string
		c      *report.Count
	}{{"improved", w.Improved}, {"nochange", w.NoChange}, {"worsened", w.Worsened}}
	for _, p := range parts {
		if p.c == nil || p.c.Suppressed {
			return nil
		}
	}
	var out []Bar
	x := x0
	for _, p := range parts {
		wd := (x1 - x0) * float64(p.c.N) / float64(w.Paired.N)
		out = append(out, Bar{X: x, Y: y, W: wd, H: 14, Series: p.series, Key: key, Kind: KindExact, Value: p.c.String(),
			Title: fmt.Sprintf("%s: %s of %s pairs %s", label, p.c, w.Paired, strings.ReplaceAll(p.series, "nochange", "no change"))})
		x += wd
	}
	return out
}

func wellbeingCells(label string, m report.WellbeingRow) []string {
	f := func(v *float64, sign bool) string {
		switch {
		case v == nil:
			return "—"
		case sign:
			return signed(*v)
		}
		return scoreText(*v)
	}
	c := func(v *report.Count) string {
		if v == nil {
			return "—"
		}
		return v.String()
	}
	name := m.Measure
	if wm, ok := adapter.Measure(m.Measure); ok {
		name = wm.Display
	}
	return []string{label, name, m.Paired.String(), f(m.MeanBaseline, false), f(m.MeanFollowUp, false), f(m.MeanChange, true),
		c(m.Improved), c(m.NoChange), c(m.Worsened)}
}

// reachDims are the reach breakdowns in the order drawn.
var reachDims = []struct {
	dim, title string
	rows       func(report.AreaRow) []report.ReachRow
}{
	{adapter.DimSource, "Referrer role", func(a report.AreaRow) []report.ReachRow { return a.BySource }},
	{adapter.DimPractice, "Practice", func(a report.AreaRow) []report.ReachRow { return a.ByPractice }},
	{adapter.DimAgeBand, "Age band", func(a report.AreaRow) []report.ReachRow { return a.ByAgeBand }},
	{adapter.DimSex, "Sex", func(a report.AreaRow) []report.ReachRow { return a.BySex }},
}

// Reach draws one area's referrals by referrer role, practice, age band
// and sex: for each group a bar of the referrals and over it one of those
// whose support started, with the whole funnel in words and in the table.
func Reach(a report.AreaRow) Chart {
	const (
		top, rowH, headH = 26.0, 22.0, 24.0
		x0, x1, textX    = 220.0, 560.0, 600.0
	)
	var cs []report.Count
	n := 0
	for _, d := range reachDims {
		for _, r := range d.rows(a) {
			cs = append(cs, r.Referred, r.SupportStarted)
			n++
		}
	}
	dtop, step := niceMax(shownMax(cs...))
	px := (x1 - x0) / dtop
	h := top + rowH*float64(n) + headH*float64(len(reachDims)) + 6
	name := AreaName(a.Area)
	ch := Chart{ID: "reach-" + a.Area, Heading: name, Title: "Who is referred and who gets support, " + strings.ToLower(name[:1]) + name[1:], Width: 1000, Height: h,
		Desc:   "Referrals from " + strings.ToLower(name[:1]) + name[1:] + " in the period by referrer role, practice, age band and sex (from the Patient where the practice sent one, else unknown): referred, and of those whose support started. Counts of 1 to 4 are drawn as a hatched mark labelled <5, not to scale.",
		Legend: []LegendItem{{"referred", "referred"}, {"support", "support started"}, {"small", "fewer than 5 (not to scale)"}}}
	for v := 0.0; v <= dtop+step/2; v += step {
		ch.Grid = append(ch.Grid, Line{X1: x0 + v*px, Y1: top - 6, X2: x0 + v*px, Y2: h - 4, Class: "grid"})
		ch.Texts = append(ch.Texts, Text{X: x0 + v*px, Y: top - 12, S: strconv.FormatFloat(v, 'f', -1, 64), Class: "tick", Anchor: "middle"})
	}
	ch.Table = Table{Caption: "Who is referred and who gets support, " + a.Area,
		Head: []string{"Group", "Referred", "Contacted", "Support started", "Completed", "Support started of referred"}}
	y := top
	for _, d := range reachDims {
		rows := d.rows(a)
		ch.Texts = append(ch.Texts, Text{X: 0, Y: y + 16, S: d.title, Class: "group"})
		if len(rows) == 0 {
			ch.Texts = append(ch.Texts, Text{X: x0, Y: y + 16, S: "no referrals", Class: "na"})
		}
		y += headH
		for _, r := range rows {
			label := r.Group()
			if r.Name != "" {
				label += " " + r.Name
			}
			key := d.dim + ":" + r.Group()
			ch.Texts = append(ch.Texts, Text{X: 12, Y: y + 14, S: clipText(label, 30), Class: "series"})
			ref := countBar(r.Referred, x0, y+2, 16, px, "referred", key, a.Area+" "+label+" referred")
			sup := countBar(r.SupportStarted, x0, y+6, 8, px, "support", key, a.Area+" "+label+" support started")
			ch.Bars = append(ch.Bars, ref, sup)
			share := ""
			if !r.Referred.Suppressed && !r.SupportStarted.Suppressed && r.Referred.N > 0 {
				share = percent(float64(r.SupportStarted.N) / float64(r.Referred.N))
			}
			words := fmt.Sprintf("%s referred · %s contacted · %s support started · %s completed", r.Referred, r.Contacted, r.SupportStarted, r.Completed)
			ch.Texts = append(ch.Texts, Text{X: textX, Y: y + 14, S: words, Class: "value"})
			ch.Table.Rows = append(ch.Table.Rows, []string{d.title + ": " + label, r.Referred.String(), r.Contacted.String(),
				r.SupportStarted.String(), r.Completed.String(), orDash(share)})
			y += rowH
		}
	}
	return ch
}

// Engagement draws each practice's referrals per month over the period,
// the feedback its referrals got, and a warning when its referrals fell
// by half against the period before.
func Engagement(rows []report.Engagement) Chart {
	const (
		top, rowH     = 40.0, 30.0
		x0, x1, textX = 330.0, 640.0, 660.0
	)
	months := 0
	var cs []report.Count
	for _, e := range rows {
		months = max(months, len(e.Months))
		for _, m := range e.Months {
			cs = append(cs, m.Referrals)
		}
	}
	dtop, _ := niceMax(shownMax(cs...))
	slot := (x1 - x0) / float64(max(months, 1))
	barW := min(slot-4, 40)
	py := 22 / dtop
	h := top + rowH*float64(len(rows)) + 6
	ch := Chart{ID: "engagement", Title: "Practice engagement: referrals per month and feedback", Width: 1000, Height: h,
		Desc:   "For each practice, its referrals in each calendar month the period touches (bar heights share one scale), its referrals in the period against the same number of days before, and the share of its referrals that got any feedback from the service. A practice whose referrals fell by half is flagged.",
		Legend: []LegendItem{{"referrals", "referrals per month"}, {"small", "fewer than 5 (not to scale)"}}}
	var head []string
	if len(rows) > 0 {
		for i, m := range rows[0].Months {
			ch.Texts = append(ch.Texts, Text{X: x0 + slot*float64(i) + barW/2, Y: 14, S: monthLabel(m.Month), Class: "tick", Anchor: "middle"})
			head = append(head, "Referrals "+monthLabel(m.Month))
		}
	}
	ch.Texts = append(ch.Texts, Text{X: textX, Y: 14, S: "In the period (the period before) · feedback", Class: "panel"})
	ch.Table = Table{Caption: "Practice engagement", Head: append(append([]string{"Practice", "Area", "Referrals", "Previous period", "Fell by half"}, head...),
		"With feedback", "Feedback share")}
	for i, e := range rows {
		y := top + rowH*float64(i)
		label := e.Practice
		if e.Name != "" {
			label += " " + e.Name
		}
		ch.Texts = append(ch.Texts, Text{X: 0, Y: y + 18, S: clipText(label, 44), Class: "name"})
		for j, m := range e.Months {
			c := m.Referrals
			b := Bar{X: x0 + slot*float64(j), W: barW, Series: "referrals", Key: e.Practice + ":" + m.Month, Value: c.String(),
				Title: label + ", " + monthLabel(m.Month) + ": " + c.String() + " referrals"}
			switch {
			case c.Suppressed && c.N < report.Threshold:
				b.Kind, b.H = KindSmall, report.Threshold*py
			case c.Suppressed:
				b.Kind = KindHidden
			default:
				b.Kind, b.H = KindExact, float64(c.N)*py
			}
			b.Y = y + 24 - b.H
			ch.Bars = append(ch.Bars, b)
		}
		share := "feedback: —"
		if e.FeedbackShare != nil {
			share = "feedback " + percent(*e.FeedbackShare)
		}
		ch.Texts = append(ch.Texts, Text{X: textX, Y: y + 18, S: e.Referrals.String() + " referrals (" + e.PreviousPeriod.String() + " before) · " + share, Class: "value"})
		if e.FellByHalf {
			ch.Texts = append(ch.Texts, Text{X: 900, Y: y + 18, S: "▼ fell by half", Class: "warn"})
		}
		fell := "no"
		if e.FellByHalf {
			fell = "yes"
		}
		cells := []string{label, orDash(e.Area), e.Referrals.String(), e.PreviousPeriod.String(), fell}
		for _, m := range e.Months {
			cells = append(cells, m.Referrals.String())
		}
		sh := "—"
		if e.FeedbackShare != nil {
			sh = percent(*e.FeedbackShare)
		}
		ch.Table.Rows = append(ch.Table.Rows, append(cells, e.WithFeedback.String(), sh))
	}
	return ch
}

func monthLabel(month string) string { return bucketLabel("month", month+"-01") }

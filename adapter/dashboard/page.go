package dashboard

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"html/template"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/report"
)

//go:embed page.html.tmpl
var pageTemplate string

//go:embed dashboard.css
var stylesheet string

var tmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"n":   num,
	"css": func() template.CSS { return template.CSS(stylesheet) },
}).Parse(pageTemplate))

// CSP is the page's Content-Security-Policy: nothing may load, no script
// may run, and the one inline stylesheet is allowed by its hash.
var CSP = "default-src 'none'; style-src '" + styleHash() + "'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

func styleHash() string {
	sum := sha256.Sum256([]byte(stylesheet))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// Input is what a page shows: the capacity report and trend over one
// period, for the areas the caller asked for among those it may see.
type Input struct {
	Network   string
	Report    *report.Report
	Trend     *report.Trend
	Area      string   // the area asked for; empty: all the caller may see
	Choices   []string // areas the caller may choose; nil: any (admin)
	From, To  string   // the period asked for, YYYY-MM-DD
	Generated time.Time
	Path      string // where the page is served, e.g. /dashboard
}

// Page is the page's view model.
type Page struct {
	Network     string
	From, To    string
	Area        string
	Choices     []Choice
	FreeArea    bool // an admin types an area instead of choosing one
	Scope       string
	CSVURL      string
	PageURL     string
	Capacity    Chart
	Waits       Chart
	Funnels     []Chart
	Trend       Chart
	Utilisation Chart
	// Issue 20: did people get better, who is reached, which practices
	// are referring less.
	Wellbeing   Chart
	Reach       []Chart
	Engagement  Chart
	Unmet       Table
	Suppression string
	Generated   string
}

// Choice is an option of the area selector.
type Choice struct {
	Value, Label string
	Selected     bool
}

// Build computes the page from its input.
func Build(in Input) Page {
	r := in.Report
	p := Page{Network: in.Network, From: in.From, To: in.To, Area: in.Area, FreeArea: in.Choices == nil,
		Suppression: r.Suppression, Generated: in.Generated.UTC().Format("2 January 2006 15:04 UTC"),
		Capacity: Capacity(r.Services), Waits: Waits(r.Services), Trend: Trend(in.Trend), Utilisation: Utilisation(in.Trend)}
	switch {
	case in.Area == adapter.AreaUnknown:
		p.Scope = "area not known"
	case in.Area != "":
		p.Scope = "area " + in.Area
	case len(r.Areas) > 0:
		p.Scope = "areas " + strings.Join(r.Areas, ", ")
	default:
		p.Scope = "all areas"
	}
	if in.Choices != nil {
		p.Choices = append(p.Choices, Choice{Value: "", Label: "All my areas (" + strings.Join(in.Choices, ", ") + ")", Selected: in.Area == ""})
		for _, a := range in.Choices {
			label := a
			if a == adapter.AreaUnknown {
				label = "Area not known"
			}
			p.Choices = append(p.Choices, Choice{Value: a, Label: label, Selected: a == in.Area})
		}
	}
	q := url.Values{}
	if in.Area != "" {
		q.Set("area", in.Area)
	}
	q.Set("from", in.From)
	q.Set("to", in.To)
	base := in.Path
	if base == "" {
		base = "/dashboard"
	}
	p.CSVURL = base + "/report.csv?" + q.Encode()
	p.PageURL = base
	for _, a := range r.ByArea {
		p.Funnels = append(p.Funnels, Funnel(a))
		p.Reach = append(p.Reach, Reach(a))
	}
	p.Wellbeing = Wellbeing(r)
	p.Engagement = Engagement(r.PracticeEngagement)
	p.Unmet = Table{Caption: "Referrals redirected for lack of capacity, by need and area", Head: []string{"Need", "Area", "Referrals"}}
	for _, u := range r.UnmetDemand {
		p.Unmet.Rows = append(p.Unmet.Rows, []string{u.Need, u.Area, u.Count.String()})
	}
	return p
}

// Render writes the page as HTML.
func Render(w io.Writer, p Page) error { return tmpl.Execute(w, p) }

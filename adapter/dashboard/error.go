package dashboard

import (
	_ "embed"
	"html/template"
	"io"
	"net/http"
	"strings"
	"unicode"
)

//go:embed error.html.tmpl
var errorTemplate string

var errorTmpl = template.Must(template.New("error").Funcs(template.FuncMap{
	"css": func() template.CSS { return template.CSS(stylesheet) },
}).Parse(errorTemplate))

// ErrorPage is what a browser is shown when the page cannot be drawn: a
// date the form was given that is no date, an area the token does not
// cover, a token that has expired. The API's clients get the same
// problems as an OperationOutcome; a person at a browser gets them in
// words, with the way back.
type ErrorPage struct {
	Status   int      // HTTP status: its text is the page's heading
	Problems []string // each diagnostic, as the OperationOutcome gives it
	Back     string   // the dashboard's path
}

// RenderError writes p as HTML (escaped; no script; the page's own
// stylesheet, so CSP covers it).
func RenderError(w io.Writer, p ErrorPage) error {
	clean := make([]string, len(p.Problems))
	for i, s := range p.Problems {
		clean[i] = plainText(s)
	}
	p.Problems = clean
	return errorTmpl.Execute(w, struct {
		ErrorPage
		Title string
	}{p, http.StatusText(p.Status)})
}

// plainText is s as a page may show it: invalid UTF-8 replaced, control
// characters and bidirectional overrides (which could make an echoed
// value read as other words) left out.
func plainText(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

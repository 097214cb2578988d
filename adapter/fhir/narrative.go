package fhir

import (
	"io"
	"strings"

	"golang.org/x/net/html"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// narrativeElements are the XHTML elements FHIR narrative may use (txt-1:
// the basic formatting elements of HTML 4.0 chapters 7-11 and 15, links
// and images; the FHIR narrative schema). Anything else, scripts, styles,
// forms, frames and embedded objects among them, is refused.
var narrativeElements = map[string]bool{
	"a": true, "abbr": true, "acronym": true, "address": true, "b": true, "bdo": true, "big": true,
	"blockquote": true, "br": true, "caption": true, "cite": true, "code": true, "col": true, "colgroup": true,
	"dd": true, "del": true, "dfn": true, "div": true, "dl": true, "dt": true, "em": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "hr": true, "i": true, "img": true,
	"ins": true, "kbd": true, "li": true, "map": true, "area": true, "ol": true, "p": true, "pre": true,
	"q": true, "samp": true, "small": true, "span": true, "strong": true, "sub": true, "sup": true,
	"table": true, "tbody": true, "td": true, "tfoot": true, "th": true, "thead": true, "tr": true,
	"tt": true, "ul": true, "var": true,
}

// checkNarrative says why a narrative div breaks txt-1 or txt-2, or "".
// It is read as a browser would read it, so that what it refuses is what
// could run in a viewer that renders narrative: any element outside the
// FHIR list, any event handler attribute (on...), and any link or source
// that is a script or an HTML document (javascript:, vbscript:, data:
// other than images).
func checkNarrative(div string) string {
	z := html.NewTokenizer(strings.NewReader(div))
	content, first := false, true
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				return "the narrative is not well-formed XHTML (txt-1)"
			}
			if !content {
				return "the narrative must have some non-whitespace content (txt-2)"
			}
			return ""
		case html.TextToken:
			if strings.TrimSpace(string(z.Text())) != "" {
				content = true
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			if first && (tag != "div") {
				return "the narrative must be an XHTML div (txt-1)"
			}
			first = false
			if !narrativeElements[tag] {
				return "the narrative may hold only basic XHTML formatting, links and images: <" + adapter.Clip(tag, 32) + "> is not allowed (txt-1)"
			}
			if tag == "img" {
				content = true
			}
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				if problem := narrativeAttr(string(k), string(v)); problem != "" {
					return problem
				}
			}
		case html.CommentToken, html.DoctypeToken, html.EndTagToken:
		}
	}
}

// narrativeAttr says why an attribute is not allowed in narrative, or "".
func narrativeAttr(name, value string) string {
	lower := strings.ToLower(name)
	if strings.HasPrefix(lower, "on") {
		return "the narrative may not hold event handler attributes such as " + adapter.Clip(lower, 32) + " (txt-1)"
	}
	switch lower {
	case "style":
		v := strings.ToLower(strings.Join(strings.Fields(value), ""))
		if strings.Contains(v, "expression(") || strings.Contains(v, "javascript:") || strings.Contains(v, "behavior:") {
			return "the narrative's style may not run script (txt-1)"
		}
	case "href", "src", "background", "action", "formaction", "xlink:href", "cite", "longdesc", "usemap":
		v := strings.ToLower(strings.Join(strings.Fields(value), ""))
		if strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") ||
			strings.HasPrefix(v, "data:") && !strings.HasPrefix(v, "data:image/") {
			return "the narrative may not link to scripts or documents (" + adapter.Clip(lower, 32) + ": " + v[:strings.IndexByte(v, ':')+1] + ") (txt-1)"
		}
	}
	return ""
}

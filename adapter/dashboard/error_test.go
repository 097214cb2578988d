package dashboard

import (
	"bytes"
	"strings"
	"testing"
)

// The error page shows a problem as plain words: escaped, with control
// characters, bidirectional overrides and invalid UTF-8 (from a value the
// problem echoes) left out or replaced.
func TestRenderErrorShowsPlainText(t *testing.T) {
	var b bytes.Buffer
	p := ErrorPage{Status: 403, Back: "/dashboard", Problems: []string{"area \u202eLS6\r\nX<script>\xff\xfe is not among the token's areas"}}
	if err := RenderError(&b, p); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"\u202e", "\r", "<script>", "\xff"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page holds %q", bad)
		}
	}
	if !strings.Contains(page, "area LS6X&lt;script&gt;\uFFFD is not among") {
		t.Errorf("the problem in words: %s", page)
	}
}

package httpapi

import (
	"encoding/base64"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// Paging (issue 18). Every search answers one page: at most _count
// entries (default DefaultCount, at most MaxCount: a larger _count is
// answered with MaxCount, and the self link says so), with a self link, a
// next link while there are further pages and a previous link after the
// first, each carrying the search's own parameters and an opaque _cursor,
// so a client follows them knowing nothing else. _count=0 asks for the
// number of matches alone. Bundle.total is the number of matches in all
// pages when the adapter knows it without reading every page (a search
// whose matches are all in hand, or fit its first page); it is left out
// otherwise, as the CapabilityStatement says: a later page's cursor names
// a place, not a count.
const (
	DefaultCount = 50
	MaxCount     = 1000
)

// pageRequest is what a request asks of paging.
type pageRequest struct {
	count  int    // entries per page; 0 asks for the count alone
	cursor string // "" for the first page
}

var cursorChars = regexp.MustCompile(`^[A-Za-z0-9_\-]{1,512}$`)

func pageRequestOf(c *gin.Context) (pageRequest, error) {
	pr := pageRequest{count: DefaultCount, cursor: c.Query("_cursor")}
	if v, ok := c.GetQuery("_count"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return pr, adapter.Errorf(adapter.EVALUE, "_count must be a whole number from 0 (the count of matches alone) to %d", MaxCount).At("_count")
		}
		pr.count = min(n, MaxCount)
	}
	if _, ok := c.GetQuery("_cursor"); ok && !cursorChars.MatchString(pr.cursor) {
		return pr, badCursor()
	}
	return pr, nil
}

func badCursor() error {
	return adapter.Errorf(adapter.EVALUE, "_cursor is not one this server gave: follow the links of a search Bundle").At("_cursor")
}

// link is this search's URL with the paging parameters set: the count
// actually used and a cursor ("" for none).
func (s *Server) link(c *gin.Context, count int, cursor string) string {
	q := c.Request.URL.Query()
	q.Set("_count", strconv.Itoa(count))
	q.Del("_cursor")
	if cursor != "" {
		q.Set("_cursor", cursor)
	}
	return s.baseURL(c) + strings.TrimPrefix(c.Request.URL.Path, "/fhir") + "?" + q.Encode()
}

// page is one page of results on its way to the client.
type page struct {
	entries    []fhir.BundleEntry
	next, prev string // cursors; "" when there is no such page
	total      *int
}

// writePage answers a page as a searchset Bundle.
func (s *Server) writePage(c *gin.Context, pr pageRequest, p page) {
	fp := fhir.Page{Self: s.link(c, pr.count, pr.cursor), Total: p.total}
	if p.next != "" && pr.count > 0 {
		fp.Next = s.link(c, pr.count, p.next)
	}
	if p.prev != "" && pr.count > 0 {
		fp.Previous = s.link(c, pr.count, p.prev)
	}
	body, err := fhir.SearchSet(newBundleID(), s.now(), fp, p.entries)
	if err != nil {
		s.writeError(c, err)
		return
	}
	s.writeFHIR(c, http.StatusOK, body)
}

// listPage answers a search whose matches are all in hand, in an order
// that does not change as more arrive (they are appended): the cursor is
// an offset, and the total is known.
func (s *Server) listPage(c *gin.Context, pr pageRequest, all []fhir.BundleEntry) {
	offset := 0
	if pr.cursor != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(pr.cursor, "o"))
		if !strings.HasPrefix(pr.cursor, "o") || err != nil || n < 0 || n > len(all) {
			s.writeError(c, badCursor())
			return
		}
		offset = n
	}
	total := len(all)
	p := page{total: &total}
	if pr.count > 0 {
		end := min(offset+pr.count, len(all))
		p.entries = all[offset:end]
		if end < len(all) {
			p.next = "o" + strconv.Itoa(end)
		}
		if offset > 0 {
			p.prev = "o" + strconv.Itoa(max(0, offset-pr.count))
		}
	}
	s.writePage(c, pr, p)
}

// keyCursor is a position in an order of (creation time, id): "a" (after)
// or "b" (before), then the position, base64url-encoded.
func keyCursor(dir byte, ms int64, id string) string {
	return string(dir) + base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(ms, 10)+":"+id))
}

func parseKeyCursor(cur string) (dir byte, ms int64, id string, err error) {
	if len(cur) < 2 || cur[0] != 'a' && cur[0] != 'b' {
		return 0, 0, "", badCursor()
	}
	raw, derr := base64.RawURLEncoding.DecodeString(cur[1:])
	msPart, id, ok := strings.Cut(string(raw), ":")
	ms, perr := strconv.ParseInt(msPart, 10, 64)
	if derr != nil || !ok || perr != nil || id == "" {
		return 0, 0, "", badCursor()
	}
	return cur[0], ms, id, nil
}

// pageList answers a search whose matches are all in hand (listPage),
// reading the paging parameters.
func (s *Server) pageList(c *gin.Context, all []fhir.BundleEntry) {
	pr, err := pageRequestOf(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	s.listPage(c, pr, all)
}

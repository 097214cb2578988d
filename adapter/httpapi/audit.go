package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// Auditor records and searches the audit trail.
type Auditor interface {
	Audit(ctx context.Context, recs ...adapter.AuditRecord) error
	AuditRecords(ctx context.Context, q adapter.AuditQuery) ([]adapter.AuditRecord, error)
}

var auditFailures = promauto.NewCounter(prometheus.CounterOpts{
	Namespace: "referral_adapter", Subsystem: "audit", Name: "write_failures_total",
	Help: "Audit records that could not be written (the request was answered 503, disclosing nothing).",
})

// audit records every access to patient data: who, which route and
// entity, and the outcome. Query values are never recorded (an identifier
// search carries NHS numbers); only parameter names are.
//
// The record is written before the caller has an answer: the handler's
// response is held back until it is stored, and when it cannot be, the
// caller gets 503 (transient, Retry-After) and nothing of the response. A
// store that makes a change writes the change's record in the same atomic
// step, from the request's adapter.AuditSlot: the intake script, the
// Task-change, claim, lease, message and Flag scripts, and the outcome
// and capacity transactions. A successful answer to such a request needs
// no second record.
func (s *Server) audit() gin.HandlerFunc {
	return func(c *gin.Context) {
		p := principalOf(c)
		if p == nil || s.Audit == nil {
			c.Next()
			return
		}
		// The base record names the route's action and entity already, for
		// a store that records the change (it may name the entity better:
		// the Task a claim took, the message created).
		slot := &adapter.AuditSlot{Base: adapter.AuditRecord{Time: s.now(), Subject: p.Subject, Role: string(p.Role),
			Org: p.Org, Kind: "rest", RequestID: requestID(c), Action: auditAction(c), Entity: auditEntity(c)}}
		c.Request = c.Request.WithContext(adapter.WithAuditSlot(c.Request.Context(), slot))
		held := holdResponse(c.Writer)
		c.Writer = held
		defer func() { c.Writer = held.ResponseWriter }() // also when the handler panics
		c.Next()
		status := held.Status()
		if len(slot.Written()) > 0 && status >= 200 && status < 300 {
			held.release()
			return
		}
		rec := slot.Base
		rec.Action, rec.Entity, rec.Outcome = auditAction(c), auditEntity(c), status
		if err := s.writeAudit(c, rec); err != nil {
			if status == http.StatusServiceUnavailable { // already "unavailable, retry", in the words of what failed first
				held.release()
				return
			}
			c.Writer = held.ResponseWriter
			s.writeError(c, adapter.Errorf(adapter.EUNAVAILABLE, "the audit trail could not be written, so nothing is answered; retry later"))
			return
		}
		held.release()
	}
}

// writeAudit appends one record, bounded in time and detached from the
// request's cancellation (a caller that hung up still leaves its record).
// A failure is counted and logged, and returned: the request then fails.
func (s *Server) writeAudit(c *gin.Context, rec adapter.AuditRecord) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), 2*time.Second)
	defer cancel()
	if err := s.Audit.Audit(ctx, rec); err != nil {
		auditFailures.Inc()
		s.log.ErrorContext(ctx, "audit record not written; answering 503", "request_id", rec.RequestID, "error", err.Error())
		return err
	}
	return nil
}

// heldResponse keeps a handler's response (status, headers, body) until
// release sends it; until then the caller has nothing. Headers are kept
// apart too, so a response that is never released leaves no trace (no
// Location of something the caller will not be told about).
type heldResponse struct {
	gin.ResponseWriter
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func holdResponse(w gin.ResponseWriter) *heldResponse {
	return &heldResponse{ResponseWriter: w, header: w.Header().Clone(), status: http.StatusOK}
}

func (h *heldResponse) Header() http.Header { return h.header }

func (h *heldResponse) WriteHeader(code int) {
	if code > 0 && !h.wrote {
		h.status = code
	}
}

func (h *heldResponse) WriteHeaderNow() { h.wrote = true }

func (h *heldResponse) Write(b []byte) (int, error) {
	h.wrote = true
	return h.body.Write(b)
}

func (h *heldResponse) WriteString(s string) (int, error) {
	h.wrote = true
	return h.body.WriteString(s)
}

func (h *heldResponse) Status() int { return h.status }

func (h *heldResponse) Size() int {
	if !h.wrote {
		return -1
	}
	return h.body.Len()
}

func (h *heldResponse) Written() bool { return h.wrote }

// Flush is a no-op: nothing leaves before release.
func (h *heldResponse) Flush() {}

func (h *heldResponse) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return nil, nil, errors.New("httpapi: a held response cannot be hijacked")
}

// release sends the held response.
func (h *heldResponse) release() {
	dst := h.ResponseWriter.Header()
	clear(dst)
	for k, v := range h.header {
		dst[k] = v
	}
	h.ResponseWriter.WriteHeader(h.status)
	if h.body.Len() > 0 {
		_, _ = h.ResponseWriter.Write(h.body.Bytes())
	}
}

func auditAction(c *gin.Context) adapter.AuditAction {
	switch c.Request.Method {
	case http.MethodPost:
		if c.FullPath() == "/fhir" || strings.Contains(c.FullPath(), "/api/") && !strings.HasSuffix(c.FullPath(), "/outcomes") {
			return adapter.AuditExecute
		}
		return adapter.AuditCreate
	case http.MethodPut, http.MethodPatch:
		return adapter.AuditUpdate
	case http.MethodDelete:
		return adapter.AuditDelete
	}
	if c.Param("id") != "" {
		return adapter.AuditRead
	}
	return adapter.AuditExecute
}

// auditEntity names what was touched: Type/id, or Type?param,... for a
// search, or the created resource's location.
func auditEntity(c *gin.Context) string {
	if loc := c.Writer.Header().Get("Location"); loc != "" {
		if _, rel, ok := strings.Cut(loc, "/fhir/"); ok {
			loc = rel
		}
		rel, _, _ := strings.Cut(loc, "/_history/")
		return rel
	}
	route := strings.TrimPrefix(c.FullPath(), "/fhir/")
	if strings.HasPrefix(route, "/api/v1/referrals/:id") {
		return "Task/" + c.Param("id") + strings.TrimPrefix(route, "/api/v1/referrals/:id")
	}
	if id := c.Param("id"); id != "" {
		return strings.Replace(strings.Replace(route, ":id", id, 1), ":vid", adapter.Clip(c.Param("vid"), nameMax), 1)
	}
	if route == "/fhir" {
		return "Bundle?type=transaction"
	}
	var names []string
	for k := range c.Request.URL.Query() {
		names = append(names, adapter.Clip(k, nameMax))
	}
	if len(names) == 0 {
		return route
	}
	return route + "?" + strings.Join(names, ",")
}

// searchAuditEvent serves GET /fhir/AuditEvent (admin only): date=geX /
// date=leX, agent=<token subject>, entity=<Type/id>, _count.
func (s *Server) searchAuditEvent(c *gin.Context) {
	if err := onlyParams(c, "date", "agent", "entity"); err != nil {
		s.writeError(c, err)
		return
	}
	pr, err := pageRequestOf(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	q, err := auditQuery(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	p, err := s.auditPage(c, pr, q)
	if err != nil {
		s.writeError(c, err)
		return
	}
	s.writePage(c, pr, p)
}

// auditPage reads one page of the trail, newest first: cursors are record
// ids ("b" before one, "a" after one), which new records never move.
func (s *Server) auditPage(c *gin.Context, pr pageRequest, q adapter.AuditQuery) (page, error) {
	var p page
	backTo := ""
	switch {
	case pr.cursor == "":
	case pr.cursor[0] == 'b' && len(pr.cursor) > 1:
		q.Before = pr.cursor[1:]
	case pr.cursor[0] == 'a' && len(pr.cursor) > 1:
		q.After, backTo = pr.cursor[1:], pr.cursor[1:]
	default:
		return p, badCursor()
	}
	limit := pr.count // and one more, to tell whether there are more
	if limit == 0 {
		limit = MaxCount // the count alone: up to MaxCount, else not given
	}
	q.Limit = limit + 1
	recs, err := s.Audit.AuditRecords(c.Request.Context(), q)
	if err != nil {
		return p, err
	}
	more := len(recs) > limit
	if pr.count == 0 {
		if !more {
			n := len(recs)
			p.total = &n
		}
		return p, nil
	}
	if len(recs) > pr.count {
		recs = recs[:pr.count]
	}
	if backTo != "" {
		slices.Reverse(recs) // read oldest first: shown newest first
	}
	for _, r := range recs {
		body, err := s.render.AuditEvent(r)
		if err != nil {
			return p, err
		}
		p.entries = append(p.entries, fhir.BundleEntry{FullURL: s.baseURL(c) + "/AuditEvent/" + r.ID, Resource: body})
	}
	if len(recs) == 0 {
		return p, nil
	}
	newest, oldest := recs[0].ID, recs[len(recs)-1].ID
	switch {
	case backTo != "": // paging towards newer records
		p.next = "b" + oldest
		if more {
			p.prev = "a" + newest
		}
	default:
		if more {
			p.next = "b" + oldest
		}
		if pr.cursor != "" {
			p.prev = "a" + newest
		} else if !more {
			n := len(recs)
			p.total = &n
		}
	}
	return p, nil
}

func auditQuery(c *gin.Context) (adapter.AuditQuery, error) {
	q := adapter.AuditQuery{Subject: c.Query("agent"), Entity: c.Query("entity")}
	for _, d := range c.QueryArray("date") {
		bound, _, t, err := datePrefix(d, time.DateOnly, time.RFC3339)
		switch {
		case err != nil:
			return q, adapter.Errorf(adapter.EVALUE, "date must be ge/gt/le/lt followed by YYYY-MM-DD or an RFC 3339 instant").At("date")
		case bound == "lower":
			q.Since = t
		default:
			q.Until = t
		}
	}
	return q, nil
}

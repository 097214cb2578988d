package httpapi

import (
	"context"
	"net/http"
	"regexp"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/dialogue"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// Dialogue is the two-way dialogue on a referral and safeguarding
// escalation (issue 9; adapter/dialogue).
type Dialogue interface {
	Post(ctx context.Context, c adapter.Caller, body []byte) (*adapter.Message, []byte, error)
	Read(ctx context.Context, c adapter.Caller, id string) ([]byte, error)
	Thread(ctx context.Context, c adapter.Caller, referral string) ([]dialogue.Entry, error)
	RaiseFlag(ctx context.Context, c adapter.Caller, body []byte) (*adapter.SafeguardingFlag, []byte, error)
	ReadFlag(ctx context.Context, c adapter.Caller, id string) ([]byte, error)
	Flags(ctx context.Context, c adapter.Caller, referral string) ([]dialogue.Entry, error)
	Alerts(ctx context.Context, t *adapter.Task) ([]*adapter.SafeguardingFlag, error)
}

// fhirID is the FHIR id datatype.
var fhirID = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

// createCommunication: POST /fhir/Communication.
func (s *Server) createCommunication(c *gin.Context) {
	m, body, err := s.Dialogue.Post(c.Request.Context(), callerOf(c), bodyOf(c))
	if err != nil {
		s.writeError(c, err)
		return
	}
	s.createdDialogue(c, adapter.KindCommunication, m.ID, body)
}

// createFlag: POST /fhir/Flag (a safeguarding concern).
func (s *Server) createFlag(c *gin.Context) {
	f, body, err := s.Dialogue.RaiseFlag(c.Request.Context(), callerOf(c), bodyOf(c))
	if err != nil {
		s.writeError(c, err)
		return
	}
	s.createdDialogue(c, adapter.KindFlag, f.ID, body)
}

// createdDialogue answers a create with 201, honouring Prefer: return=.
func (s *Server) createdDialogue(c *gin.Context, kind, id string, body []byte) {
	c.Header("Location", s.location(c, kind, id, 1))
	c.Header("ETag", weakETag(1))
	switch preferReturn(c) {
	case "minimal":
		c.Status(http.StatusCreated)
	case "OperationOutcome":
		s.writeFHIR(c, http.StatusCreated, s.render.OperationOutcome(fhir.Issue{Severity: "information", Code: "informational",
			Diagnostics: kind + "/" + id + " created"}))
	default:
		s.writeFHIR(c, http.StatusCreated, body)
	}
}

func (s *Server) readCommunication(c *gin.Context) {
	body, err := s.Dialogue.Read(c.Request.Context(), callerOf(c), c.Param("id"))
	if err != nil {
		s.writeError(c, notFoundAs(err, adapter.KindCommunication))
		return
	}
	s.writeResource(c, body)
}

func (s *Server) readFlag(c *gin.Context) {
	body, err := s.Dialogue.ReadFlag(c.Request.Context(), callerOf(c), c.Param("id"))
	if err != nil {
		s.writeError(c, notFoundAs(err, adapter.KindFlag))
		return
	}
	s.writeResource(c, body)
}

// searchCommunication: GET /fhir/Communication?based-on=ServiceRequest/{id},
// the referral's thread oldest first.
func (s *Server) searchCommunication(c *gin.Context) {
	s.searchDialogue(c, "based-on", adapter.KindCommunication, s.Dialogue.Thread)
}

// searchFlag: GET /fhir/Flag?referral=ServiceRequest/{id} (the adapter's
// search parameter on the flag-detail extension).
func (s *Server) searchFlag(c *gin.Context) {
	s.searchDialogue(c, "referral", adapter.KindFlag, s.Dialogue.Flags)
}

func (s *Server) searchDialogue(c *gin.Context, param, kind string,
	find func(context.Context, adapter.Caller, string) ([]dialogue.Entry, error)) {
	if err := onlyParams(c, param); err != nil {
		s.writeError(c, err)
		return
	}
	v := c.Query(param)
	if v == "" {
		s.writeError(c, adapter.Errorf(adapter.EREQUIRED, "%s=ServiceRequest/{id} is required", param).At(param))
		return
	}
	ref := strings.TrimPrefix(v, "ServiceRequest/") // a bare id means the same (FHIR reference search)
	if !fhirID.MatchString(ref) {
		s.writeError(c, adapter.Errorf(adapter.EVALUE, "%s must be ServiceRequest/{id}", param).At(param))
		return
	}
	found, err := find(c.Request.Context(), callerOf(c), ref)
	if adapter.ErrorCode(err) == adapter.ENOTFOUND {
		// A search that matches nothing is an empty searchset, as the
		// outcome searches answer: no referral, or none the caller may see.
		found, err = nil, nil
	}
	if err != nil {
		s.writeError(c, err)
		return
	}
	entries := make([]fhir.BundleEntry, 0, len(found))
	for _, e := range found {
		entries = append(entries, fhir.BundleEntry{FullURL: s.baseURL(c) + "/" + kind + "/" + e.ID, Resource: e.Body})
	}
	s.pageList(c, entries)
}

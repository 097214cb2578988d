package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// Outcomes is the outcome store as the handlers need it.
type Outcomes interface {
	SaveOutcomeOn(ctx context.Context, o adapter.OutcomeRecord, body []byte, w *adapter.TaskWrite) error
	Outcome(ctx context.Context, id string) (*adapter.OutcomeRecord, []byte, error)
	Outcomes(ctx context.Context, taskID string) ([]*adapter.OutcomeRecord, error)
}

// outcomeTypes are the resources an outcome may be.
var outcomeTypes = []string{"Observation", "Procedure", "Goal"}

// recordOutcome: POST /api/v1/referrals/{id}/outcomes with
// {"resource": <Observation|Procedure|Goal>, "patientApprovedSharing": bool}.
func (s *Server) recordOutcome(c *gin.Context) {
	var b struct {
		Resource jsontext.Value `json:"resource"`
		Approved *bool          `json:"patientApprovedSharing"`
	}
	if err := decodeJSON(bodyOf(c), &b); err != nil {
		s.writeError(c, err)
		return
	}
	if len(b.Resource) == 0 || b.Approved == nil {
		s.writeError(c, adapter.Errorf(adapter.EREQUIRED, "resource and patientApprovedSharing are both required"))
		return
	}
	res, err := s.Parser.Parse(b.Resource, outcomeTypes...)
	if err != nil {
		s.writeError(c, err)
		return
	}
	meta := fhir.OutcomeMetaFrom(res)
	score, err := fhir.WellbeingScoreFrom(res) // for the anonymous wellbeing counts (issue 20)
	if err != nil {
		s.writeError(c, err)
		return
	}
	o := adapter.OutcomeRecord{Type: res.Type, Approved: *b.Approved, Categories: meta.Categories,
		SecurityLabels: meta.SecurityLabels, Codes: meta.Codes, Effective: meta.Effective, Score: score}
	stamp := func(id, referral string) ([]byte, error) {
		body, err := fhir.StampOutcome(res.Raw, id, s.now(), referral)
		if err != nil {
			return nil, err
		}
		if _, err := s.Parser.Parse(body, res.Type); err != nil {
			return nil, fmt.Errorf("httpapi: stamped outcome is not valid: %w", err)
		}
		return body, nil
	}
	saved, err := s.Queue.RecordOutcome(c.Request.Context(), s.Outcomes, callerOf(c), c.Param("id"), o, stamp)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.Header("Location", s.location(c, saved.Type, saved.ID, 1))
	c.JSON(http.StatusCreated, gin.H{"id": saved.ID, "reference": saved.Type + "/" + saved.ID})
}

// readOutcome serves GET /fhir/{Observation|Procedure|Goal}/{id}: to the
// workers on the referral, and to the referring practice only when
// disclosed (see disclosed).
func (s *Server) readOutcome(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		o, body, err := s.Outcomes.Outcome(c.Request.Context(), c.Param("id"))
		if err == nil && o.Type != kind {
			err = adapter.NotFound(kind)
		}
		if err != nil {
			s.writeError(c, notFoundAs(err, kind))
			return
		}
		t, err := s.visibleTask(c, o.TaskID)
		if err != nil {
			s.writeError(c, notFoundAs(err, kind))
			return
		}
		if !s.disclosed(c.Request.Context(), callerOf(c), t, o) {
			s.writeError(c, adapter.NotFound(kind))
			return
		}
		s.writeResource(c, body)
	}
}

// disclosed reports whether the caller, who may see the Task t, may see an
// outcome recorded on it: its own organisation's always; the referring
// practice only what the patient approved and their consent permits;
// another holder (the link workers following a provider's onward
// referral) what the consent permits. The Disclosure decides and audits.
func (s *Server) disclosed(ctx context.Context, caller adapter.Caller, t *adapter.Task, o *adapter.OutcomeRecord) bool {
	if caller.Role == adapter.RolePractice && o.Practice != caller.Org {
		return false
	}
	if s.Disclosure != nil {
		return s.Disclosure.Sees(ctx, caller, t, o)
	}
	return caller.Role != adapter.RolePractice || o.Approved
}

// Disclosure decides, from the patient's approval and consents, whether
// an outcome recorded by one organisation may be seen by a reader of
// another (adapter/disclosure), and audits the decision.
type Disclosure interface {
	Sees(ctx context.Context, c adapter.Caller, t *adapter.Task, o *adapter.OutcomeRecord) bool
}

// searchOutcomes serves GET /fhir/Observation?based-on=ServiceRequest/{id}
// (and Procedure): the outcomes of a referral the caller may see, in the
// order they were recorded. A referral the caller may not see has none.
func (s *Server) searchOutcomes(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := onlyParams(c, "based-on"); err != nil {
			s.writeError(c, err)
			return
		}
		ref := strings.TrimPrefix(c.Query("based-on"), "ServiceRequest/")
		if ref == "" || !fhirID.MatchString(ref) {
			s.writeError(c, adapter.Errorf(adapter.EVALUE, "based-on must be ServiceRequest/{id}").At("based-on"))
			return
		}
		entries, err := s.referralOutcomes(c, kind, ref)
		if err != nil {
			s.writeError(c, err)
			return
		}
		s.pageList(c, entries)
	}
}

func (s *Server) referralOutcomes(c *gin.Context, kind, referral string) ([]fhir.BundleEntry, error) {
	ctx, caller := c.Request.Context(), callerOf(c)
	tasks, err := s.Store.TasksForReferral(ctx, referral)
	if adapter.ErrorCode(err) == adapter.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var found []*adapter.OutcomeRecord
	for _, t := range tasks {
		seen, err := s.Access.SeeTask(ctx, caller, t)
		if err != nil {
			return nil, err
		}
		if !seen {
			continue
		}
		outs, err := s.Outcomes.Outcomes(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		for _, o := range outs {
			if o.Type == kind && s.disclosed(ctx, caller, t, o) {
				found = append(found, o)
			}
		}
	}
	slices.SortFunc(found, func(a, b *adapter.OutcomeRecord) int {
		if c := a.Recorded.Compare(b.Recorded); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	entries := make([]fhir.BundleEntry, 0, len(found))
	for _, o := range found {
		_, body, err := s.Outcomes.Outcome(ctx, o.ID)
		if err != nil {
			return nil, err
		}
		entries = append(entries, fhir.BundleEntry{FullURL: s.baseURL(c) + "/" + kind + "/" + o.ID, Resource: body})
	}
	return entries, nil
}

package httpapi

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/auth"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// Outcomes is the outcome store as the handlers need it.
type Outcomes interface {
	SaveOutcome(ctx context.Context, o adapter.OutcomeRecord, body []byte) error
	Outcome(ctx context.Context, id string) (*adapter.OutcomeRecord, []byte, error)
	Outcomes(ctx context.Context, taskID string) ([]*adapter.OutcomeRecord, error)
}

// outcomeTypes are the resources an outcome may be.
var outcomeTypes = []string{"Observation", "Procedure", "Goal"}

// recordOutcome: POST /api/v1/referrals/{id}/outcomes with
// {"resource": <Observation|Procedure|Goal>, "patientApprovedSharing": bool}.
func (s *Server) recordOutcome(c *gin.Context) {
	var b struct {
		Resource json.RawMessage `json:"resource"`
		Approved *bool           `json:"patientApprovedSharing"`
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
		SecurityLabels: meta.SecurityLabels, Codes: meta.Codes, Score: score}
	stamp := func(id string) ([]byte, error) { return fhir.Stamp(res.Raw, id, 1, s.now()) }
	saved, err := s.Queue.RecordOutcome(c.Request.Context(), s.Outcomes, callerOf(c), c.Param("id"), o, stamp)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.Header("Location", "/fhir/"+saved.Type+"/"+saved.ID)
	c.JSON(http.StatusCreated, gin.H{"id": saved.ID, "reference": saved.Type + "/" + saved.ID})
}

// readOutcome serves GET /fhir/{Observation|Procedure|Goal}/{id}: to the
// workers on the referral, and to the referring practice only when
// disclosed (see disclosed).
func (s *Server) readOutcome(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		o, body, err := s.Outcomes.Outcome(c.Request.Context(), c.Param("id"))
		if err == nil && o.Type != kind {
			err = adapter.Errorf(adapter.ENOTFOUND, "%s not found", kind)
		}
		if err != nil {
			s.writeError(c, notFoundAs(err, kind))
			return
		}
		t, err := s.visibleTask(c, o.TaskID)
		if err != nil || !s.disclosed(c.Request.Context(), principalOf(c), t, o) {
			s.writeError(c, adapter.Errorf(adapter.ENOTFOUND, "%s not found", kind))
			return
		}
		s.writeFHIR(c, http.StatusOK, body)
	}
}

// disclosed reports whether the caller may see an outcome: the workers on
// the referral always; the referring practice only what the patient
// approved for sharing (and consent permits, when a consent engine is
// configured).
func (s *Server) disclosed(ctx context.Context, p *auth.Principal, t *adapter.Task, o *adapter.OutcomeRecord) bool {
	if p.Role != auth.RolePractice {
		return true
	}
	if o.Practice != p.Org {
		return false
	}
	if s.Disclosure != nil { // checks approval too, and audits the decision
		return s.Disclosure.Permits(ctx, t, o)
	}
	return o.Approved
}

// Disclosure decides, from the patient's consents, whether an approved
// outcome may go to the referring practice.
type Disclosure interface {
	Permits(ctx context.Context, t *adapter.Task, o *adapter.OutcomeRecord) bool
}

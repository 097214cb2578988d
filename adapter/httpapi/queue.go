package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/auth"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/adapter/lifecycle"
	"github.com/social-prescribing/referral-adapter/internal/strictjson"
)

// Queue is the link-worker and provider side of referrals (issue 10).
type Queue interface {
	Claim(ctx context.Context, c lifecycle.Caller, service string) (*lifecycle.Claimed, error)
	Renew(ctx context.Context, c lifecycle.Caller, id string) (*lifecycle.Claimed, error)
	Transition(ctx context.Context, c lifecycle.Caller, id string, tr adapter.Transition) (*adapter.Task, error)
	Handover(ctx context.Context, c lifecycle.Caller, id string) (*adapter.Task, error)
	ReferOn(ctx context.Context, c lifecycle.Caller, id, service, reason string) (*adapter.Task, *adapter.Task, error)
	Waiting(ctx context.Context, c lifecycle.Caller, service string, limit int64) (waiting, claimed []*adapter.Task, err error)
	RecordOutcome(ctx context.Context, os lifecycle.OutcomeStore, c lifecycle.Caller, taskID string, o adapter.OutcomeRecord,
		stamp func(id, referral string) ([]byte, error)) (*adapter.OutcomeRecord, error)
	// Contact attempts (issue 19).
	RecordContactAttempt(ctx context.Context, c lifecycle.Caller, id string, a adapter.ContactAttempt) (*adapter.ContactAttempt, error)
	ContactAttempts(ctx context.Context, c lifecycle.Caller, id string) ([]adapter.ContactAttempt, error)
}

// callerOf is the authenticated caller as the application services take it.
func callerOf(c *gin.Context) adapter.Caller { return principalOf(c).Caller() }

// decodeJSON reads a body of the adapter's own JSON API with the one
// strict decoding every body gets (internal/strictjson): duplicate member
// names, unknown members, names in another case and trailing data are
// refused, naming the member without echoing its value.
func decodeJSON(body []byte, v any) error {
	return strictjson.Decode(body, v)
}

// Limits of the JSON API's free text, in characters (README, API).
const (
	maxReasonLen = 1000 // a transition's or onward referral's reason
	maxIDLen     = 64   // a service id, a status or a code
	maxURILen    = 256  // a code system
)

// text is one free-text member of a body and its limit.
type text struct {
	member, value string
	max           int
}

// checkText refuses members longer than their limit in characters, each
// named (400 value, one issue per member); the text is never echoed.
func checkText(fields ...text) error {
	var errs []*adapter.Error
	for _, f := range fields {
		if utf8.RuneCountInString(f.value) > f.max {
			errs = append(errs, adapter.Errorf(adapter.EVALUE, "%s is longer than %d characters", f.member, f.max).At(f.member))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	first := *errs[0]
	first.Issues = errs[1:]
	return &first
}

// claim: POST /api/v1/queues/{queue}/claim → 200 {task, serviceRequest,
// leaseExpires, patient?} or 204 when the queue is empty.
func (s *Server) claim(c *gin.Context) {
	res, err := s.Queue.Claim(c.Request.Context(), callerOf(c), c.Param("queue"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	if res == nil {
		c.Status(http.StatusNoContent)
		return
	}
	s.writeClaim(c, res)
}

func (s *Server) writeClaim(c *gin.Context, res *lifecycle.Claimed) {
	task, err := s.renderTask(c.Request.Context(), res.Task, callerOf(c))
	if err != nil {
		s.writeError(c, err)
		return
	}
	sr, err := s.Store.ServiceRequest(c.Request.Context(), res.Task.ReferralID)
	if err != nil {
		s.writeError(c, err)
		return
	}
	if principalOf(c).Role == auth.RoleProvider {
		if sr, err = fhir.MinimumNecessary(sr); err != nil {
			s.writeError(c, err)
			return
		}
	}
	out := gin.H{"task": json.RawMessage(task), "serviceRequest": json.RawMessage(sr),
		"leaseExpires": res.LeaseExpires.UTC().Format(time.RFC3339Nano)}
	// The Patient, as the claimant may see it, when the practice sent one
	// (issue 19): a link worker's first task is to phone the patient.
	if s.Patients != nil {
		pat, err := s.Patients.OfTask(c.Request.Context(), callerOf(c), res.Task)
		if err != nil {
			s.writeError(c, err)
			return
		}
		if pat != nil {
			out["patient"] = json.RawMessage(pat)
		}
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) renewLease(c *gin.Context) {
	res, err := s.Queue.Renew(c.Request.Context(), callerOf(c), c.Param("id"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"task": "Task/" + res.Task.ID, "leaseExpires": res.LeaseExpires.UTC().Format(time.RFC3339Nano)})
}

// handover: POST /api/v1/referrals/{id}/handover: the caller becomes the
// referral's named contact (issue 9); answers the Task.
func (s *Server) handover(c *gin.Context) {
	t, err := s.Queue.Handover(c.Request.Context(), callerOf(c), c.Param("id"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	s.respondTask(c, t)
}

// transitionBody is POST /api/v1/referrals/{id}/transition.
type transitionBody struct {
	Status         adapter.TaskStatus `json:"status"`
	BusinessStatus *struct {
		System string `json:"system"`
		Code   string `json:"code"`
	} `json:"businessStatus"`
	Reason string `json:"reason"`
	// When the transition ends the referral (issue 19): the holder's short
	// summary for the GP and the patient's approval of sharing it.
	Summary  string `json:"summary"`
	Approved *bool  `json:"patientApprovedSharing"`
}

func (s *Server) transition(c *gin.Context) {
	var b transitionBody
	if err := decodeJSON(bodyOf(c), &b); err != nil {
		s.writeError(c, err)
		return
	}
	if b.Status == "" {
		s.writeError(c, adapter.Errorf(adapter.EREQUIRED, "status is required").At("status"))
		return
	}
	fields := []text{{"status", string(b.Status), maxIDLen}, {"reason", b.Reason, maxReasonLen}}
	if bs := b.BusinessStatus; bs != nil {
		fields = append(fields, text{"businessStatus.system", bs.System, maxURILen}, text{"businessStatus.code", bs.Code, maxIDLen})
	}
	if err := checkText(fields...); err != nil {
		s.writeError(c, err)
		return
	}
	if b.Summary != "" && b.Approved == nil {
		s.writeError(c, adapter.Errorf(adapter.EREQUIRED, "a summary needs patientApprovedSharing: whether the patient approved sharing it with their GP").At("patientApprovedSharing"))
		return
	}
	tr := adapter.Transition{To: b.Status, Reason: b.Reason, Summary: b.Summary, SummaryApproved: b.Approved != nil && *b.Approved}
	if bs := b.BusinessStatus; bs != nil {
		if bs.System != "" && bs.System != adapter.SystemBusinessStatus {
			s.writeError(c, adapter.Errorf(adapter.ECODEINVALID, "businessStatus.system must be %s", adapter.SystemBusinessStatus).At("businessStatus.system"))
			return
		}
		tr.BusinessStatus = bs.Code
	}
	t, err := s.Queue.Transition(c.Request.Context(), callerOf(c), c.Param("id"), tr)
	if err != nil {
		s.writeError(c, err)
		return
	}
	s.respondTask(c, t)
}

func (s *Server) referOn(c *gin.Context) {
	var b struct {
		Service string `json:"service"`
		Reason  string `json:"reason"`
	}
	if err := decodeJSON(bodyOf(c), &b); err != nil {
		s.writeError(c, err)
		return
	}
	if err := checkText(text{"service", b.Service, maxIDLen}, text{"reason", b.Reason, maxReasonLen}); err != nil {
		s.writeError(c, err)
		return
	}
	_, child, err := s.Queue.ReferOn(c.Request.Context(), callerOf(c), c.Param("id"), b.Service, b.Reason)
	if err != nil {
		s.writeError(c, err)
		return
	}
	body, err := s.renderTask(c.Request.Context(), child, callerOf(c))
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.Header("Location", s.location(c, "Task", child.ID, child.Version))
	s.writeFHIR(c, http.StatusCreated, body)
}

// queueItem is one entry of a queue listing. Patient identity is shown
// only to the roles that contact patients.
type queueItem struct {
	Task            string `json:"task"`
	Priority        string `json:"priority"`
	Since           string `json:"waitingSince"`
	AgeSeconds      int64  `json:"ageSeconds"`
	FirstContactDue string `json:"firstContactDue,omitempty"`
	SLABreached     bool   `json:"slaBreached"`
	Patient         string `json:"patient,omitempty"`
	ClaimedBy       string `json:"claimedBy,omitempty"`
	LeaseExpires    string `json:"leaseExpires,omitempty"`
}

func (s *Server) listQueue(c *gin.Context) {
	limit := int64(200)
	if v := c.Query("_count"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 || n > 1000 {
			s.writeError(c, adapter.Errorf(adapter.EVALUE, "_count must be 1..1000").At("_count"))
			return
		}
		limit = n
	}
	waiting, claimed, err := s.Queue.Waiting(c.Request.Context(), callerOf(c), c.Param("queue"), limit)
	if err != nil {
		s.writeError(c, err)
		return
	}
	showPatient := principalOf(c).Role == auth.RoleLinkWorker || principalOf(c).Role == auth.RoleProvider
	now := s.now()
	c.JSON(http.StatusOK, gin.H{"queue": c.Param("queue"), "waiting": items(waiting, now, showPatient), "claimed": items(claimed, now, showPatient)})
}

func items(ts []*adapter.Task, now time.Time, showPatient bool) []queueItem {
	out := make([]queueItem, 0, len(ts))
	for _, t := range ts {
		it := queueItem{Task: "Task/" + t.ID, Priority: string(t.Priority), Since: t.AuthoredOn.UTC().Format(time.RFC3339),
			AgeSeconds: int64(now.Sub(t.AuthoredOn).Seconds()), SLABreached: !t.FirstContactDue.IsZero() && now.After(t.FirstContactDue)}
		if !t.FirstContactDue.IsZero() {
			it.FirstContactDue = t.FirstContactDue.UTC().Format(time.RFC3339)
		}
		if showPatient {
			it.Patient = t.Patient
		}
		if !t.LeaseUntil.IsZero() {
			it.ClaimedBy, it.LeaseExpires = t.ClaimantName, t.LeaseUntil.UTC().Format(time.RFC3339)
		}
		out = append(out, it)
	}
	return out
}

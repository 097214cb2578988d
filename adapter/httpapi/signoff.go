package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// signOff: POST /api/v1/referrals/{id}/sign-off (no body) → 200 with the
// Task, released to its queue or now waiting for consent. The sign-off is
// also its own audit record (kind sign-off), beside the request's.
func (s *Server) signOff(c *gin.Context) {
	p := principalOf(c)
	t, err := s.Intake.SignOff(c.Request.Context(), p.Caller(), c.Param("id"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	if s.Audit != nil {
		detail := "signed off by a clinician (" + string(adapter.SourceOf(p.Title, "", p.Org)) + "): " + string(t.Status)
		if t.BusinessStatus.Code != "" {
			detail += " (" + t.BusinessStatus.Code + ")"
		}
		s.writeAudit(c, adapter.AuditRecord{Time: s.now(), Subject: p.Subject, Role: string(p.Role), Org: p.Org, Kind: "sign-off",
			Action: adapter.AuditUpdate, Entity: "Task/" + t.ID, Outcome: http.StatusOK, RequestID: requestID(c), Detail: detail})
	}
	s.respondTask(c, t)
}

package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Subscriptions manages a practice's EHR notification Subscriptions.
type Subscriptions interface {
	Create(ctx context.Context, practice string, body []byte) (*adapter.Subscription, error)
	Get(ctx context.Context, practice, id string) (*adapter.Subscription, error)
	Delete(ctx context.Context, practice, id string) error
	DeadLetters(ctx context.Context, limit int) ([]adapter.DeadLetter, error)
}

// createSubscription handles POST /fhir/Subscription: 201 with the
// Subscription (status requested until its handshake is accepted).
func (s *Server) createSubscription(c *gin.Context) {
	sub, err := s.Subscriptions.Create(c.Request.Context(), principalOf(c).Org, bodyOf(c))
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.Header("Location", s.location(c, "Subscription", sub.ID, sub.Version))
	s.writeSubscription(c, http.StatusCreated, sub)
}

// readSubscription handles GET /fhir/Subscription/{id}: the owning
// practice only; anyone else gets 404.
func (s *Server) readSubscription(c *gin.Context) {
	sub, err := s.Subscriptions.Get(c.Request.Context(), principalOf(c).Org, c.Param("id"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	s.writeSubscription(c, http.StatusOK, sub)
}

func (s *Server) writeSubscription(c *gin.Context, status int, sub *adapter.Subscription) {
	c.Header("ETag", weakETag(sub.Version))
	if status == http.StatusCreated && preferReturn(c) == "minimal" {
		c.Status(status)
		return
	}
	body, err := s.render.Subscription(sub)
	if err != nil {
		s.writeError(c, err)
		return
	}
	s.writeFHIR(c, status, body)
}

// deleteSubscription handles DELETE /fhir/Subscription/{id}: 204, and no
// further notifications.
func (s *Server) deleteSubscription(c *gin.Context) {
	if err := s.Subscriptions.Delete(c.Request.Context(), principalOf(c).Org, c.Param("id")); err != nil {
		s.writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// deadLetters handles GET /api/v1/admin/notifications/dead-letter?limit=N
// (admin): notifications given up on, newest first, as ids and error codes
// only.
func (s *Server) deadLetters(c *gin.Context) {
	if err := onlyParams(c, "limit"); err != nil {
		s.writeError(c, err)
		return
	}
	limit := 100
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			s.writeError(c, adapter.Errorf(adapter.EVALUE, "limit must be a number from 1 to 1000").At("limit"))
			return
		}
		limit = n
	}
	dls, err := s.Subscriptions.DeadLetters(c.Request.Context(), limit)
	if err != nil {
		s.writeError(c, err)
		return
	}
	if dls == nil {
		dls = []adapter.DeadLetter{}
	}
	c.JSON(http.StatusOK, gin.H{"deadLetters": dls})
}

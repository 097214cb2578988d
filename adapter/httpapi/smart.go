package httpapi

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

// maxTokenForm bounds the token request body.
const maxTokenForm = 16 << 10

// token is the SMART Backend Services token endpoint. Its errors follow
// RFC 6749 §5.2 (JSON "error"), as OAuth clients expect, not FHIR.
func (s *Server) token(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
	if ct := c.ContentType(); ct != "application/x-www-form-urlencoded" {
		c.JSON(http.StatusBadRequest, auth.OAuthError{Code: "invalid_request", Description: "Content-Type must be application/x-www-form-urlencoded"})
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxTokenForm)
	if err := c.Request.ParseForm(); err != nil {
		c.JSON(http.StatusBadRequest, auth.OAuthError{Code: "invalid_request", Description: "the form could not be read"})
		return
	}
	res, err := s.Tokens.Issue(c.Request.Context(), c.Request.PostForm)
	var oe *auth.OAuthError
	switch {
	case errors.As(err, &oe):
		status := http.StatusBadRequest
		if oe.Code == "invalid_client" {
			status = http.StatusUnauthorized
		}
		s.log.InfoContext(c.Request.Context(), "token request refused", "error", oe.Code, "request_id", requestID(c))
		c.JSON(status, oe)
	case err != nil:
		c.Header("Retry-After", "5")
		c.JSON(http.StatusServiceUnavailable, auth.OAuthError{Code: "temporarily_unavailable", Description: "try again shortly"})
	default:
		c.JSON(http.StatusOK, res)
	}
}

func (s *Server) smartConfiguration(c *gin.Context) {
	c.JSON(http.StatusOK, s.Tokens.SMARTConfiguration())
}

func (s *Server) jwks(c *gin.Context) {
	b, err := s.Tokens.JWKS()
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.Data(http.StatusOK, "application/jwk-set+json", b)
}

package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// contactAttemptJSON is one contact attempt as the API shows it.
type contactAttemptJSON struct {
	ID         string `json:"id,omitempty"`
	Result     string `json:"result"`
	Channel    string `json:"channel"`
	Note       string `json:"note,omitempty"`
	RecordedAt string `json:"recordedAt"`
	By         string `json:"by,omitempty"`
	Task       string `json:"task"`
}

func attemptJSON(a adapter.ContactAttempt) contactAttemptJSON {
	by := a.Name
	if by == "" {
		by = a.Org
	}
	return contactAttemptJSON{ID: a.ID, Result: string(a.Result), Channel: string(a.Channel), Note: a.Note,
		RecordedAt: a.At.UTC().Format(time.RFC3339Nano), By: by, Task: "Task/" + a.TaskID}
}

// recordContactAttempt: POST /api/v1/referrals/{id}/contact-attempts with
// {"result", "channel", "note"?} → 201 the attempt.
func (s *Server) recordContactAttempt(c *gin.Context) {
	var b struct {
		Result  string `json:"result"`
		Channel string `json:"channel"`
		Note    string `json:"note"`
	}
	if err := decodeJSON(bodyOf(c), &b); err != nil {
		s.writeError(c, err)
		return
	}
	if b.Result == "" || b.Channel == "" {
		s.writeError(c, adapter.Errorf(adapter.EREQUIRED, "result and channel are both required"))
		return
	}
	a, err := s.Queue.RecordContactAttempt(c.Request.Context(), callerOf(c), c.Param("id"),
		adapter.ContactAttempt{Result: adapter.ContactResult(b.Result), Channel: adapter.ContactChannel(b.Channel), Note: b.Note})
	if err != nil {
		s.writeError(c, err)
		return
	}
	// No Location: an attempt has no URL of its own (the audit trail names
	// it Task/{id}/contact-attempts).
	c.JSON(http.StatusCreated, attemptJSON(*a))
}

// listContactAttempts: GET /api/v1/referrals/{id}/contact-attempts →
// {"attempts": [...]}, oldest first, did-not-attend steps among them.
func (s *Server) listContactAttempts(c *gin.Context) {
	as, err := s.Queue.ContactAttempts(c.Request.Context(), callerOf(c), c.Param("id"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	out := make([]contactAttemptJSON, 0, len(as))
	for _, a := range as {
		out = append(out, attemptJSON(a))
	}
	c.JSON(http.StatusOK, gin.H{"attempts": out})
}

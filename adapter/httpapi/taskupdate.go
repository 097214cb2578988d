package httpapi

import (
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// updateTask serves PUT /fhir/Task/{id}: a FHIR update of the Task, as a
// Gravity-conformant platform makes it, changing its status, businessStatus
// and statusReason through the same lifecycle rules as
// /api/v1/referrals/{id}/transition. With If-Match (W/"{versionId}") it is
// made only against that version (412 otherwise). 200 with the Task.
func (s *Server) updateTask(c *gin.Context) {
	id := c.Param("id")
	ifVersion, err := ifMatch(c.GetHeader("If-Match"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	t, err := s.visibleTask(c, id)
	if err != nil {
		s.writeError(c, err)
		return
	}
	if ifVersion != 0 && ifVersion != t.Version {
		s.writeError(c, adapter.Errorf(adapter.EVERSION,
			"the Task is at version %d, not %d: read it again and make the change on the current version", t.Version, ifVersion))
		return
	}
	current, err := s.renderTask(c.Request.Context(), t, callerOf(c))
	if err != nil {
		s.writeError(c, err)
		return
	}
	ch, err := s.Parser.TaskChangeFrom(bodyOf(c), current)
	if err == nil {
		err = checkTaskChange(ch, id)
	}
	if err != nil {
		s.writeError(c, err)
		return
	}
	if adapter.TaskStatus(ch.Status) == t.Status && ch.BusinessStatus == "" {
		if ch.Reason == "" {
			s.writeResource(c, current) // nothing changes
			return
		}
		s.writeError(c, adapter.Errorf(adapter.EBUSINESSRULE,
			"statusReason says why the status or businessStatus changed: send it with a change of either (the Task stays %s otherwise)", t.Status).At("Task.statusReason"))
		return
	}
	tr := adapter.Transition{To: adapter.TaskStatus(ch.Status), BusinessStatus: ch.BusinessStatus, Reason: ch.Reason, IfVersion: t.Version}
	if t, err = s.Queue.Transition(c.Request.Context(), callerOf(c), id, tr); err != nil {
		s.writeError(c, err)
		return
	}
	s.respondTask(c, t)
}

// checkTaskChange: the Task sent is the one in the URL, and its reason
// within the transition API's bound.
func checkTaskChange(ch fhir.TaskChange, id string) error {
	if ch.ID != id {
		return adapter.Errorf(adapter.EVALUE, "Task.id must be the id in the URL (%s)", adapter.Clip(id, nameMax)).At("Task.id")
	}
	return checkText(text{"statusReason.text", ch.Reason, maxReasonLen})
}

// ifMatch reads an If-Match header naming one version, W/"{versionId}"
// (or "{versionId}"); 0 when absent.
func ifMatch(h string) (int, error) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, nil
	}
	v := strings.Trim(strings.TrimPrefix(h, "W/"), `"`)
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || !strings.HasSuffix(h, `"`) {
		return 0, adapter.Errorf(adapter.EVALUE, `If-Match must name one version as W/"{versionId}"`).At("If-Match")
	}
	if n == 0 { // well formed, but no resource is ever at version 0: it does not match
		return 0, adapter.Errorf(adapter.EVERSION, "If-Match names version 0, which no resource has: read it again and make the change on the current version")
	}
	return n, nil
}

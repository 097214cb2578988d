package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/auth"
	"github.com/social-prescribing/referral-adapter/adapter/capacity"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// capacityJSON is a service's capacity in the JSON API.
type capacityJSON struct {
	Service        string         `json:"service"`
	Status         string         `json:"status"`
	MaxOpen        int            `json:"maxOpen"`
	WeeklyIntake   int            `json:"weeklyIntake"`
	Reserved       int            `json:"reserved"`
	Available      *int           `json:"available"` // null: unlimited
	Waiting        int            `json:"waiting"`
	LastVerified   *time.Time     `json:"lastVerified"`
	Stale          bool           `json:"stale"`
	CapacityStatus adapter.Coding `json:"capacityStatus"` // Gravity SDOHCC code
	Notes          string         `json:"notes"`
	Rerouted       *int           `json:"rerouted,omitempty"` // after an update: referrals moved on by a closure
	Promoted       *int           `json:"promoted,omitempty"` // after an update: moved off the waitlist
}

func capacityBody(v capacity.View) capacityJSON {
	out := capacityJSON{Service: v.Service, Status: string(v.Status), MaxOpen: v.MaxOpen, WeeklyIntake: v.WeeklyIntake,
		Reserved: v.Reserved, Waiting: v.Waiting, Stale: v.Stale, Notes: v.Notes,
		CapacityStatus: adapter.Coding{System: fhir.SystemSDOHCCTemp, Code: v.Gravity, Display: adapter.GravityDisplay(v.Gravity)}}
	if n := v.Available(); n >= 0 {
		out.Available = &n
	}
	if !v.LastVerified.IsZero() {
		t := v.LastVerified.UTC()
		out.LastVerified = &t
	}
	return out
}

// capacityService checks the service exists and the caller may act on its
// capacity; a service of another organisation answers 404, like any record
// of another tenant.
func (s *Server) capacityService(c *gin.Context, update bool) (*adapter.Service, error) {
	if s.Capacity == nil {
		return nil, adapter.Errorf(adapter.ENOTFOUND, "no such endpoint")
	}
	notFound := adapter.Errorf(adapter.ENOTFOUND, "HealthcareService/%s is not in the directory", adapter.Clip(c.Param("id"), nameMax))
	svc, ok := s.Mappings.Service(c.Param("id"))
	if !ok {
		return nil, notFound
	}
	p := principalOf(c)
	allowed := auth.CanSeeCapacity(p, svc.ProvidedBy.ODS)
	if update {
		allowed = auth.CanUpdateCapacity(p, svc.ProvidedBy.ODS)
	}
	if !allowed {
		return nil, notFound
	}
	return svc, nil
}

// getCapacity handles GET /api/v1/services/{id}/capacity.
func (s *Server) getCapacity(c *gin.Context) {
	svc, err := s.capacityService(c, false)
	if err != nil {
		s.writeError(c, err)
		return
	}
	v, err := s.Capacity.Get(c.Request.Context(), svc.ID)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, capacityBody(v))
}

// putCapacity handles PUT /api/v1/services/{id}/capacity with
// {"status": "open|waitlist|paused|closed", "maxOpen": N, "weeklyIntake": N}
// (weeklyIntake optional). It answers the capacity as now recorded.
func (s *Server) putCapacity(c *gin.Context) {
	svc, err := s.capacityService(c, true)
	if err != nil {
		s.writeError(c, err)
		return
	}
	u, err := decodeCapacityUpdate(bodyOf(c))
	if err != nil {
		s.writeError(c, err)
		return
	}
	p := principalOf(c)
	res, err := s.Capacity.Update(c.Request.Context(), svc.ID, u,
		adapter.CapacityChange{By: p.Subject, Role: string(p.Role), Org: p.Org, At: s.now()})
	if err != nil {
		s.writeError(c, err)
		return
	}
	body := capacityBody(res.View)
	rerouted, promoted := len(res.Rerouted), len(res.Promoted)
	s.log.InfoContext(c.Request.Context(), "capacity updated", "service", svc.ID, "status", string(res.Status),
		"max_open", res.MaxOpen, "rerouted", rerouted, "promoted", promoted, "request_id", requestID(c))
	body.Rerouted, body.Promoted = &rerouted, &promoted
	c.JSON(http.StatusOK, body)
}

// capacityUpdateJSON is the PUT body; pointers tell absent from zero.
type capacityUpdateJSON struct {
	Status       *string `json:"status"`
	MaxOpen      *int    `json:"maxOpen"`
	WeeklyIntake *int    `json:"weeklyIntake"`
}

// decodeCapacityUpdate reads the PUT body strictly (decodeJSON): one JSON
// object with only the known members, status and maxOpen required, whole
// numbers.
func decodeCapacityUpdate(body []byte) (capacity.Update, error) {
	var in capacityUpdateJSON
	if err := decodeJSON(body, &in); err != nil {
		return capacity.Update{}, err
	}
	var missing []*adapter.Error
	if in.Status == nil {
		missing = append(missing, adapter.Errorf(adapter.EREQUIRED, "status is required").At("status"))
	}
	if in.MaxOpen == nil {
		missing = append(missing, adapter.Errorf(adapter.EREQUIRED, "maxOpen is required (0 = unlimited)").At("maxOpen"))
	}
	if len(missing) > 0 {
		first := *missing[0]
		first.Issues = missing[1:]
		return capacity.Update{}, &first
	}
	u := capacity.Update{Status: adapter.CapacityStatus(*in.Status), MaxOpen: *in.MaxOpen}
	if in.WeeklyIntake != nil {
		u.WeeklyIntake = *in.WeeklyIntake
	}
	return u, u.Validate()
}

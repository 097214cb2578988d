package httpapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// searchHealthcareService lists the service directory, optionally filtered
// by service-category (token: [system|]code; FHIR R4's name for
// HealthcareService.category, also taken as category, the name this
// server used first), area (a postcode district served) and
// capacity-status (token: a Gravity SDOHCC capacity status code), so an EHR
// can check availability before referring, with no patient data.
func (s *Server) searchHealthcareService(c *gin.Context) {
	if err := onlyParams(c, "service-category", "category", "area", "_id", "capacity-status"); err != nil {
		s.writeError(c, err)
		return
	}
	views, err := s.capacityViews(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	var entries []fhir.BundleEntry
	for _, svc := range s.Mappings.Services() {
		cv := views[svc.ID]
		if !matchesDirectory(c, svc) || !matchesCapacity(c, cv) {
			continue
		}
		body, err := s.render.HealthcareService(svc, cv)
		if err != nil {
			s.writeError(c, err)
			return
		}
		entries = append(entries, fhir.BundleEntry{FullURL: s.baseURL(c) + "/HealthcareService/" + svc.ID, Resource: body})
	}
	s.pageList(c, entries)
}

func matchesDirectory(c *gin.Context, svc *adapter.Service) bool {
	if v := c.Query("_id"); v != "" && v != svc.ID {
		return false
	}
	for _, name := range []string{"service-category", "category"} {
		if v := c.Query(name); v != "" && !tokenMatches(v, svc.Categories) {
			return false
		}
	}
	if v := c.Query("area"); v != "" && !slices.ContainsFunc(svc.Areas, func(a string) bool { return strings.EqualFold(a, v) }) {
		return false
	}
	return true
}

// tokenMatches applies a FHIR token search value (code, system|code or
// |code) to a list of codings; comma-separated values are ORed.
func tokenMatches(param string, cs []adapter.Coding) bool {
	for _, v := range strings.Split(param, ",") {
		sys, code, hasSys := strings.Cut(v, "|")
		if !hasSys {
			code, sys = sys, ""
		}
		for _, c := range cs {
			if c.Code == code && (!hasSys || c.System == sys) {
				return true
			}
		}
	}
	return false
}

func (s *Server) readHealthcareService(c *gin.Context) {
	svc, ok := s.Mappings.Service(c.Param("id"))
	if !ok {
		s.writeError(c, adapter.Errorf(adapter.ENOTFOUND, "HealthcareService/%s is not in the directory", adapter.Clip(c.Param("id"), nameMax)))
		return
	}
	views, err := s.capacityViews(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	body, err := s.render.HealthcareService(svc, views[svc.ID])
	if err != nil {
		s.writeError(c, err)
		return
	}
	s.writeFHIR(c, http.StatusOK, body)
}

// capacityViews returns each service's capacity status for rendering; none
// when the server has no capacity service.
func (s *Server) capacityViews(c *gin.Context) (map[string]*fhir.CapacityView, error) {
	out := map[string]*fhir.CapacityView{}
	if s.Capacity == nil {
		return out, nil
	}
	views, err := s.Capacity.Directory(c.Request.Context())
	if err != nil {
		return nil, err
	}
	for id, v := range views {
		out[id] = &fhir.CapacityView{Code: v.Gravity, Display: adapter.GravityDisplay(v.Gravity), Note: v.Notes}
	}
	return out, nil
}

// matchesCapacity applies the capacity-status token search.
func matchesCapacity(c *gin.Context, v *fhir.CapacityView) bool {
	q := c.Query("capacity-status")
	if q == "" {
		return true
	}
	if v == nil {
		return false
	}
	return tokenMatches(q, []adapter.Coding{{System: fhir.SystemSDOHCCTemp, Code: v.Code}})
}

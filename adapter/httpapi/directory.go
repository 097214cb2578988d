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
// by category (token: [system|]code) and area (a postcode district served).
func (s *Server) searchHealthcareService(c *gin.Context) {
	if err := onlyParams(c, "category", "area", "_id"); err != nil {
		s.writeError(c, err)
		return
	}
	var entries []fhir.BundleEntry
	for _, svc := range s.Mappings.Services() {
		if !matchesDirectory(c, svc) {
			continue
		}
		body, err := s.render.HealthcareService(svc, nil)
		if err != nil {
			s.writeError(c, err)
			return
		}
		entries = append(entries, fhir.BundleEntry{FullURL: s.baseURL(c) + "/HealthcareService/" + svc.ID, Resource: body})
	}
	s.searchset(c, entries)
}

func matchesDirectory(c *gin.Context, svc *adapter.Service) bool {
	if v := c.Query("_id"); v != "" && v != svc.ID {
		return false
	}
	if v := c.Query("category"); v != "" && !tokenMatches(v, svc.Categories) {
		return false
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
		s.writeError(c, adapter.Errorf(adapter.ENOTFOUND, "HealthcareService/%s is not in the directory", clip(c.Param("id"))))
		return
	}
	body, err := s.render.HealthcareService(svc, nil)
	if err != nil {
		s.writeError(c, err)
		return
	}
	s.writeFHIR(c, http.StatusOK, body)
}

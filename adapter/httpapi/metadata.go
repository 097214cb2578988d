package httpapi

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// capabilityStatement lists exactly the interactions, search parameters
// and operations this server supports. Tests parse it with the FHIR
// library and check every route it names answers.
//
//go:embed capability.json
var capabilityStatement []byte

func (s *Server) metadata(c *gin.Context) {
	s.writeFHIR(c, http.StatusOK, capabilityStatement)
}

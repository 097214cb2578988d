package httpapi

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/tidwall/sjson"
)

// capabilityBase lists exactly the interactions, search parameters and
// operations this server supports. Tests parse it with the FHIR library and
// check every route it names answers.
//
//go:embed capability.json
var capabilityBase []byte

// capability is the CapabilityStatement of this deployment: SMART on FHIR
// (Backend Services) is declared, with its token endpoint, only when the
// token endpoint is served (AUTH_CLIENTS_FILE), so that what it says is
// there answers.
func (s *Server) capability() []byte {
	out := capabilityBase
	var err error
	if s.Tokens == nil {
		out, err = sjson.DeleteBytes(out, "rest.0.security.service")
		if err == nil {
			out, err = sjson.SetBytes(out, "rest.0.security.description",
				"Bearer JWT carrying role, organisation (ODS code) and SMART v2 scopes, from the organisation's identity provider (JWKS). This deployment serves no SMART token endpoint.")
		}
	} else {
		out, err = sjson.SetBytes(out, "rest.0.security.extension", []any{map[string]any{
			"url":       "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
			"extension": []any{map[string]any{"url": "token", "valueUri": s.Tokens.TokenURL()}},
		}})
	}
	if err != nil {
		return capabilityBase
	}
	return out
}

func (s *Server) metadata(c *gin.Context) {
	s.writeFHIR(c, http.StatusOK, s.capabilityStatement)
}

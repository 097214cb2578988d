package auth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DevIssuer is the issuer of development tokens.
const DevIssuer = "referral-adapter-dev"

// DefaultScopes are the SMART v2 scopes each role may hold; a token minted
// without --scope gets all of them.
var DefaultScopes = map[Role][]string{
	RolePractice: {"system/ServiceRequest.crs", "system/Consent.crs", "system/Patient.cru", "system/Task.rus",
		"system/Observation.rs", "system/Procedure.rs", "system/Goal.rs", "system/Communication.crs",
		"system/Flag.rs", "system/HealthcareService.rs", "system/Subscription.cruds"},
	RoleLinkWorker: {"system/ServiceRequest.rs", "system/Task.rus", "system/Observation.crs", "system/Procedure.crs",
		"system/Goal.crs", "system/Communication.crs", "system/Flag.crs", "system/HealthcareService.rs", "system/Patient.rs"},
	RoleProvider: {"system/ServiceRequest.rs", "system/Task.rus", "system/Observation.crs", "system/Procedure.crs",
		"system/Goal.crs", "system/Communication.crs", "system/Flag.crs", "system/HealthcareService.rus", "system/Patient.rs"},
	RoleCommissioner: {"system/MeasureReport.rs", "system/HealthcareService.rs"},
	RoleAdmin:        {"system/*.cruds"},
}

// MintOptions describes a development token.
type MintOptions struct {
	Role     Role
	Org      string
	Scopes   []string // nil: DefaultScopes[Role]
	Areas    []string
	Subject  string
	Name     string
	Title    string
	FHIRUser string // the person's FHIR reference, e.g. Practitioner/lw-sam
	TTL      time.Duration
	Audience string
}

// Mint signs a development token with the HS256 secret.
func Mint(secret string, o MintOptions) (string, error) {
	if secret == "" {
		return "", errors.New("AUTH_DEV_HS256_SECRET is not set")
	}
	if !o.Role.Valid() {
		return "", errors.New("unknown role " + string(o.Role))
	}
	if o.Org == "" {
		return "", errors.New("an organisation (ODS code) is required")
	}
	if o.Scopes == nil {
		o.Scopes = DefaultScopes[o.Role]
	}
	if o.TTL <= 0 {
		o.TTL = time.Hour
	}
	if o.Subject == "" {
		o.Subject = string(o.Role) + "@" + o.Org
	}
	now := time.Now()
	var jti [12]byte
	_, _ = rand.Read(jti[:])
	c := Claims{
		RegisteredClaims: jwt.RegisteredClaims{Issuer: DevIssuer, Subject: o.Subject, IssuedAt: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(o.TTL)), ID: hex.EncodeToString(jti[:])},
		Role: string(o.Role), Org: o.Org, Scope: strings.Join(o.Scopes, " "), Areas: o.Areas, Name: o.Name, Title: o.Title, FHIRUser: o.FHIRUser,
	}
	if o.Audience != "" {
		c.Audience = jwt.ClaimStrings{o.Audience}
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(secret))
}

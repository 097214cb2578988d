package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/golang-jwt/jwt/v5"

	"github.com/social-prescribing/referral-adapter/internal/strictjson"
)

// SMART Backend Services constants.
const (
	GrantClientCredentials = "client_credentials"
	AssertionTypeJWTBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	// MaxAssertionLifetime is how far ahead a client assertion's exp may be.
	MaxAssertionLifetime = 5 * time.Minute
)

// assertionAlgs are the client assertion algorithms SMART Backend Services
// requires (RS384, ES384) plus the common RS256/ES256.
var assertionAlgs = []string{"RS384", "ES384", "RS256", "ES256"}

// ServerConfig configures the SMART Backend Services token endpoint. The
// endpoint is enabled when a clients file is given.
type ServerConfig struct {
	ClientsFile    string        `env:"AUTH_CLIENTS_FILE"`     // JSON: {"clients":[...]} (see ClientConfig)
	SigningKeyFile string        `env:"AUTH_SIGNING_KEY_FILE"` // PEM private key (EC P-256 or RSA) for access tokens
	TokenURL       string        `env:"AUTH_TOKEN_URL"`        // public URL of /auth/token: the aud clients must use
	AccessTTL      time.Duration `env:"AUTH_ACCESS_TOKEN_TTL, default=5m"`
}

// Enabled reports whether the token endpoint is configured.
func (c *ServerConfig) Enabled() bool { return c.ClientsFile != "" }

// Validate reports configuration problems.
func (c *ServerConfig) Validate() []error {
	if !c.Enabled() {
		return nil
	}
	var errs []error
	if c.SigningKeyFile == "" {
		errs = append(errs, errors.New("auth: AUTH_CLIENTS_FILE needs AUTH_SIGNING_KEY_FILE (shared by every replica)"))
	}
	if u, err := url.Parse(c.TokenURL); err != nil || u.Scheme == "" || u.Host == "" {
		errs = append(errs, errors.New("auth: AUTH_CLIENTS_FILE needs AUTH_TOKEN_URL, the absolute URL of /auth/token"))
	}
	if c.AccessTTL <= 0 || c.AccessTTL > time.Hour {
		errs = append(errs, errors.New("auth: AUTH_ACCESS_TOKEN_TTL must be between 1s and 1h"))
	}
	return errs
}

// ClientConfig registers one backend client.
type ClientConfig struct {
	ID      string          `json:"id"`
	Role    Role            `json:"role"`
	Org     string          `json:"org"`
	Scopes  []string        `json:"scopes"` // the most it may be granted
	Areas   []string        `json:"areas,omitempty"`
	JWKS    json.RawMessage `json:"jwks,omitempty"`    // inline public keys
	JWKSURL string          `json:"jwksUrl,omitempty"` // or fetched (cached, refreshed, rotated by kid)
}

type client struct {
	ClientConfig
	keys keyfunc.Keyfunc
}

// ReplayGuard remembers assertion ids: FirstUse reports whether key has
// not been seen before, and keeps it until the given time.
type ReplayGuard interface {
	FirstUse(ctx context.Context, key string, until time.Time) (bool, error)
}

// TokenServer issues access tokens to registered backend clients.
type TokenServer struct {
	cfg     ServerConfig
	clients map[string]*client
	signer  crypto.Signer
	method  jwt.SigningMethod
	kid     string
	issuer  string
	replay  ReplayGuard
	now     func() time.Time
}

// NewTokenServer loads the clients and the signing key.
func NewTokenServer(ctx context.Context, cfg ServerConfig, issuer string, replay ReplayGuard) (*TokenServer, error) {
	signer, method, err := loadSigner(cfg.SigningKeyFile)
	if err != nil {
		return nil, err
	}
	clients, err := loadClients(ctx, cfg.ClientsFile)
	if err != nil {
		return nil, err
	}
	if issuer == "" {
		issuer = cfg.TokenURL
	}
	return &TokenServer{cfg: cfg, clients: clients, signer: signer, method: method, kid: keyID(signer.Public()),
		issuer: issuer, replay: replay, now: time.Now}, nil
}

func loadSigner(file string) (crypto.Signer, jwt.SigningMethod, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, fmt.Errorf("auth: read AUTH_SIGNING_KEY_FILE: %w", err)
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, nil, errors.New("auth: AUTH_SIGNING_KEY_FILE is not PEM")
	}
	var key any
	switch block.Type {
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("auth: parse AUTH_SIGNING_KEY_FILE: %w", err)
	}
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve.Params().BitSize != 256 {
			return nil, nil, errors.New("auth: the EC signing key must be P-256 (ES256)")
		}
		return k, jwt.SigningMethodES256, nil
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return nil, nil, errors.New("auth: the RSA signing key must be at least 2048 bits")
		}
		return k, jwt.SigningMethodRS256, nil
	}
	return nil, nil, errors.New("auth: the signing key must be EC P-256 or RSA")
}

func loadClients(ctx context.Context, file string) (map[string]*client, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("auth: read AUTH_CLIENTS_FILE: %w", err)
	}
	var doc struct {
		Clients []ClientConfig `json:"clients"`
	}
	if err := strictjson.Decode(raw, &doc); err != nil {
		return nil, fmt.Errorf("auth: AUTH_CLIENTS_FILE: %w", err)
	}
	out := map[string]*client{}
	var errs []error
	for i, c := range doc.Clients {
		if c.ID == "" || !c.Role.Valid() || c.Org == "" || len(c.Scopes) == 0 || out[c.ID] != nil || slices.Contains(c.Areas, "") {
			errs = append(errs, fmt.Errorf("auth: client %d (%q) needs a unique id, a known role, an org and scopes (and no empty area)", i, c.ID))
			continue
		}
		cl := &client{ClientConfig: c}
		switch {
		case len(c.JWKS) > 0:
			cl.keys, err = keyfunc.NewJWKSetJSON(c.JWKS)
		case c.JWKSURL != "":
			cl.keys, err = keyfunc.NewDefaultCtx(ctx, []string{c.JWKSURL})
		default:
			err = errors.New("no jwks or jwksUrl")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("auth: client %q keys: %w", c.ID, err))
			continue
		}
		out[c.ID] = cl
	}
	return out, errors.Join(errs...)
}

// keyID is the RFC 7638-style thumbprint-derived key id of a public key.
func keyID(pub crypto.PublicKey) string {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// OAuthError is an RFC 6749 §5.2 error response.
type OAuthError struct {
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *OAuthError) Error() string { return e.Code + ": " + e.Description }

func oauthErr(code, format string, args ...any) *OAuthError {
	return &OAuthError{Code: code, Description: fmt.Sprintf(format, args...)}
}

// TokenResponse is an RFC 6749 §5.1 success response.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
}

// Issue handles a token request form. Errors are *OAuthError, except a
// store failure, which is returned as is.
func (s *TokenServer) Issue(ctx context.Context, form url.Values) (*TokenResponse, error) {
	if g := form.Get("grant_type"); g != GrantClientCredentials {
		return nil, oauthErr("unsupported_grant_type", "grant_type must be client_credentials")
	}
	if form.Get("client_assertion_type") != AssertionTypeJWTBearer {
		return nil, oauthErr("invalid_request", "client_assertion_type must be %s", AssertionTypeJWTBearer)
	}
	cl, claims, err := s.verifyAssertion(form.Get("client_assertion"))
	if err != nil {
		return nil, err
	}
	first, err := s.replay.FirstUse(ctx, cl.ID+"\x1f"+claims.ID, claims.ExpiresAt.Time)
	if err != nil {
		return nil, err
	}
	if !first {
		return nil, oauthErr("invalid_grant", "client_assertion jti has already been used")
	}
	scopes := grant(strings.Fields(form.Get("scope")), cl.Scopes)
	if len(scopes) == 0 {
		return nil, oauthErr("invalid_scope", "none of the requested scopes is allowed for this client")
	}
	tok, err := s.sign(cl, scopes)
	if err != nil {
		return nil, err
	}
	return &TokenResponse{AccessToken: tok, TokenType: "bearer", ExpiresIn: int(s.cfg.AccessTTL.Seconds()), Scope: strings.Join(scopes, " ")}, nil
}

func (s *TokenServer) verifyAssertion(assertion string) (*client, *jwt.RegisteredClaims, error) {
	if assertion == "" {
		return nil, nil, oauthErr("invalid_request", "client_assertion is required")
	}
	var unverified jwt.RegisteredClaims
	if !compactJWS(assertion) {
		return nil, nil, oauthErr("invalid_client", "client_assertion is not a JWT")
	}
	if _, _, err := jwt.NewParser().ParseUnverified(assertion, &unverified); err != nil {
		return nil, nil, oauthErr("invalid_client", "client_assertion is not a JWT")
	}
	cl, ok := s.clients[unverified.Issuer]
	if !ok {
		return nil, nil, oauthErr("invalid_client", "unknown client")
	}
	p := jwt.NewParser(jwt.WithValidMethods(assertionAlgs), jwt.WithIssuer(cl.ID), jwt.WithSubject(cl.ID),
		jwt.WithAudience(s.cfg.TokenURL), jwt.WithExpirationRequired(), jwt.WithLeeway(10*time.Second), jwt.WithTimeFunc(s.now),
		jwt.WithStrictDecoding())
	var ac assertionClaims
	if _, err := p.ParseWithClaims(assertion, &ac, cl.keys.Keyfunc); err != nil {
		return nil, nil, oauthErr("invalid_client", "client_assertion rejected: %s", assertionProblem(err))
	}
	c := ac.RegisteredClaims
	if c.ExpiresAt.Sub(s.now()) > MaxAssertionLifetime+10*time.Second {
		return nil, nil, oauthErr("invalid_client", "client_assertion exp is more than 5 minutes ahead")
	}
	if c.ID == "" {
		return nil, nil, oauthErr("invalid_client", "client_assertion has no jti")
	}
	return cl, &c, nil
}

// assertionClaims are a client assertion's claims, read as strictly as an
// access token's (Claims.UnmarshalJSON): numeric exp, iat and nbf.
type assertionClaims struct {
	jwt.RegisteredClaims
}

// UnmarshalJSON reads the claims strictly.
func (c *assertionClaims) UnmarshalJSON(b []byte) error {
	if err := numericDates(b); err != nil {
		return err
	}
	return jsonv2.Unmarshal(b, &c.RegisteredClaims)
}

// assertionProblem names the failed check without echoing token content.
func assertionProblem(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "expired"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "aud must be the token endpoint URL"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer), errors.Is(err, jwt.ErrTokenInvalidSubject):
		return "iss and sub must both be the client id"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return "signature not verifiable with the client's registered keys"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "exp is required"
	case errors.Is(err, errDateNotNumber):
		return "exp, iat and nbf must be JSON numbers"
	}
	return "invalid"
}

// grant returns the requested scopes the client may hold (all allowed
// scopes when none are requested). A requested scope is granted, as asked,
// when an allowed scope covers it: the same context, the same resource
// type (or *), and every permission it asks for (SMART v2 letters, v1
// read/write/*): a client registered for system/ServiceRequest.cr that asks
// for system/ServiceRequest.r gets system/ServiceRequest.r.
func grant(requested, allowed []string) []string {
	if len(requested) == 0 {
		return slices.Clone(allowed)
	}
	var out []string
	for _, r := range requested {
		if slices.Contains(out, r) {
			continue
		}
		if slices.Contains(allowed, r) || slices.ContainsFunc(allowed, func(a string) bool { return covers(a, r) }) {
			out = append(out, r)
		}
	}
	return out
}

// covers reports whether the allowed scope a includes every permission the
// requested scope r asks for. A request with SMART v2 fine-grained
// constraints ("?...") is granted only as registered: the adapter does not
// narrow access by them.
func covers(a, r string) bool {
	actx, arest, ok1 := strings.Cut(a, "/")
	rctx, rrest, ok2 := strings.Cut(r, "/")
	if !ok1 || !ok2 || actx != rctx || strings.Contains(rrest, "?") {
		return false
	}
	at, ap, ok1 := strings.Cut(arest, ".")
	rt, rp, ok2 := strings.Cut(rrest, ".")
	if !ok1 || !ok2 || at != "*" && at != rt {
		return false
	}
	have, ok1 := permissions(ap)
	want, ok2 := permissions(rp)
	if !ok1 || !ok2 {
		return false
	}
	for i := 0; i < len(want); i++ {
		if strings.IndexByte(have, want[i]) < 0 {
			return false
		}
	}
	return true
}

// permissions reads a scope's permissions as SMART v2 letters.
func permissions(p string) (string, bool) {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	switch p {
	case "*":
		return "cruds", true
	case "read":
		return "rs", true
	case "write":
		return "cud", true
	}
	return p, validV2(p)
}

func (s *TokenServer) sign(cl *client, scopes []string) (string, error) {
	now := s.now()
	jti := make([]byte, 16)
	_, _ = rand.Read(jti)
	c := Claims{
		RegisteredClaims: jwt.RegisteredClaims{Issuer: s.issuer, Subject: cl.ID, IssuedAt: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(s.cfg.AccessTTL)), ID: hex.EncodeToString(jti)},
		Role: string(cl.Role), Org: cl.Org, Scope: strings.Join(scopes, " "), Areas: cl.Areas,
	}
	t := jwt.NewWithClaims(s.method, c)
	t.Header["kid"] = s.kid
	return t.SignedString(s.signer)
}

// Issuer is the iss of tokens this server signs.
func (s *TokenServer) Issuer() string { return s.issuer }

// TokenURL is the public URL of the token endpoint.
func (s *TokenServer) TokenURL() string { return s.cfg.TokenURL }

// KeyID and PublicKey identify the access-token signing key, which the
// Verifier trusts beside any external identity provider.
func (s *TokenServer) KeyID() string               { return s.kid }
func (s *TokenServer) PublicKey() crypto.PublicKey { return s.signer.Public() }

// JWKS is the public signing key as a JSON Web Key Set.
func (s *TokenServer) JWKS() ([]byte, error) {
	k := map[string]any{"kid": s.kid, "use": "sig"}
	switch pub := s.signer.Public().(type) {
	case *ecdsa.PublicKey:
		point, err := pub.Bytes() // uncompressed: 0x04, x, y
		if err != nil {
			return nil, err
		}
		size := (len(point) - 1) / 2
		k["kty"], k["crv"], k["alg"] = "EC", "P-256", "ES256"
		k["x"] = base64.RawURLEncoding.EncodeToString(point[1 : 1+size])
		k["y"] = base64.RawURLEncoding.EncodeToString(point[1+size:])
	case *rsa.PublicKey:
		k["kty"], k["alg"] = "RSA", "RS256"
		k["n"], k["e"] = b64(pub.N, 0), b64(big.NewInt(int64(pub.E)), 0)
	}
	return json.Marshal(map[string]any{"keys": []any{k}})
}

func b64(n *big.Int, size int) string {
	b := n.Bytes()
	if size > len(b) {
		b = append(make([]byte, size-len(b)), b...)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// SMARTConfiguration is the /.well-known/smart-configuration document.
func (s *TokenServer) SMARTConfiguration() map[string]any {
	var scopes []string
	for _, c := range s.clients {
		for _, sc := range c.Scopes {
			if !slices.Contains(scopes, sc) {
				scopes = append(scopes, sc)
			}
		}
	}
	slices.Sort(scopes)
	return map[string]any{
		"token_endpoint":                                   s.cfg.TokenURL,
		"grant_types_supported":                            []string{GrantClientCredentials},
		"token_endpoint_auth_methods_supported":            []string{"private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": assertionAlgs,
		"scopes_supported":                                 scopes,
		"capabilities":                                     []string{"client-confidential-asymmetric", "permission-v2", "permission-v1"},
	}
}

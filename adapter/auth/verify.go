package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/golang-jwt/jwt/v5"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/consent"
	"github.com/social-prescribing/referral-adapter/internal/fifo"
	"github.com/social-prescribing/referral-adapter/internal/strictjson"
)

// Config is the auth package's environment configuration.
type Config struct {
	JWKSFile      string `env:"AUTH_JWKS_FILE"`
	JWKSURL       string `env:"AUTH_JWKS_URL"`
	DevHS256      string `env:"AUTH_DEV_HS256_SECRET"`
	Issuer        string `env:"AUTH_ISSUER"`   // required "iss" when set
	Audience      string `env:"AUTH_AUDIENCE"` // required "aud" when set
	MinSecretSize int    `env:"AUTH_DEV_HS256_MIN_BYTES, default=16"`
	// MaxLifetime is the longest a token may live: exp - iat, or exp - now
	// for a token without iat. Zero means DefaultMaxLifetime.
	MaxLifetime time.Duration `env:"AUTH_MAX_TOKEN_LIFETIME, default=24h"`
	Server      ServerConfig
}

// DefaultMaxLifetime is AUTH_MAX_TOKEN_LIFETIME's default.
const DefaultMaxLifetime = 24 * time.Hour

// clockSkew is how far the verifier's clock and an issuer's may disagree:
// exp and nbf are allowed this much, and iat may be this far ahead.
const clockSkew = 30 * time.Second

// Bounds of the free-text claims a token carries: they are written into
// Tasks (the named contact) and keys (org), so they are bounded like any
// other free text the adapter stores.
const (
	MaxNameLen    = 200 // name and title, in characters
	MaxOrgLen     = 64  // org, in characters (an ODS code is 3-10)
	MaxSubjectLen = 256 // sub, in characters
	MaxAreas      = 100 // entries of areas
)

// Validate reports configuration problems.
func (c *Config) Validate() []error {
	var errs []error
	if c.JWKSFile == "" && c.JWKSURL == "" && c.DevHS256 == "" && !c.Server.Enabled() {
		errs = append(errs, errors.New("auth: set AUTH_JWKS_FILE or AUTH_JWKS_URL, or AUTH_CLIENTS_FILE (SMART backend clients), or AUTH_DEV_HS256_SECRET for development"))
	}
	if c.DevHS256 != "" && len(c.DevHS256) < c.MinSecretSize {
		errs = append(errs, fmt.Errorf("auth: AUTH_DEV_HS256_SECRET must be at least %d bytes", c.MinSecretSize))
	}
	if c.MaxLifetime <= 0 {
		errs = append(errs, errors.New("auth: AUTH_MAX_TOKEN_LIFETIME must be positive (e.g. 24h)"))
	} else if c.Server.Enabled() && c.Server.AccessTTL > c.MaxLifetime {
		errs = append(errs, errors.New("auth: AUTH_ACCESS_TOKEN_TTL must not be longer than AUTH_MAX_TOKEN_LIFETIME"))
	}
	return append(errs, c.Server.Validate()...)
}

// Claims are the JWT claims the adapter reads.
type Claims struct {
	jwt.RegisteredClaims
	Role  string   `json:"role"`
	Org   string   `json:"org"`
	Scope string   `json:"scope"`
	Areas []string `json:"areas,omitempty"`
	Name  string   `json:"name,omitempty"`
	Title string   `json:"title,omitempty"`
	// FHIRUser is the person the token acts for, as a FHIR reference (the
	// SMART fhirUser claim), e.g. "Practitioner/123": consent provisions
	// naming a person are decided against it (issue 17).
	FHIRUser string `json:"fhirUser,omitempty"`
}

// UnmarshalJSON reads a token's claims with the one strict JSON decoding
// (internal/strictjson: no duplicate claim, names matched exactly) and
// requires exp, iat and nbf, when present, to be JSON numbers: the JWT
// library would also read them from strings.
func (c *Claims) UnmarshalJSON(b []byte) error {
	if err := numericDates(b); err != nil {
		return err
	}
	type plain Claims // without this method
	return json.Unmarshal(b, (*plain)(c))
}

// errDateNotNumber refuses a time claim that is not a JSON number.
var errDateNotNumber = unauthorized("the bearer token's exp, iat and nbf must be JSON numbers")

// numericDates scans a claims set strictly and checks that its top-level
// exp, iat and nbf are numbers.
func numericDates(b []byte) error {
	date := false // the previous token was the name of a time claim
	return strictjson.Scan(b, func(d *jsontext.Decoder, tok jsontext.Token) error {
		switch {
		case date && tok.Kind() != '0':
			return errDateNotNumber
		case date:
			date = false
		case d.StackDepth() == 1 && tok.Kind() == '"':
			switch p := d.StackPointer(); p {
			case "/exp", "/iat", "/nbf":
				date = tok.String() == string(p[1:])
			}
		}
		return nil
	})
}

// Verifier checks bearer tokens.
type Verifier struct {
	cfg    Config
	jwks   keyfunc.Keyfunc // nil when no JWKS is configured
	own    *TokenServer    // nil when the token endpoint is disabled
	secret []byte
	parser *jwt.Parser
	// seen keeps tokens already verified, by SHA-256, so a client sending
	// the same token on every request pays for its signature check once a
	// minute, not each time.
	seen fifo.Cache[[sha256.Size]byte, verified]
	now  func() time.Time
}

// verified is a token's principal and until when it is taken as verified:
// at most verifiedFor after its check (so a key removed from the JWKS stops
// being trusted soon), never past the token's expiry.
type verified struct {
	p     Principal
	until time.Time
}

const (
	verifiedFor = time.Minute
	maxVerified = 10_000
)

// asymmetric are the algorithms accepted for JWKS keys.
var asymmetric = []string{"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384"}

// NewVerifier loads the JWKS (file now; URL fetched and refreshed in the
// background until ctx ends).
//
// own, when not nil, is the adapter's SMART token server: tokens it signed
// (matched by kid) are verified with its public key, beside the external
// identity provider's.
func NewVerifier(ctx context.Context, cfg Config, own *TokenServer) (*Verifier, error) {
	if cfg.MaxLifetime <= 0 {
		cfg.MaxLifetime = DefaultMaxLifetime
	}
	v := &Verifier{cfg: cfg, own: own, now: time.Now}
	v.seen.Max = maxVerified
	var err error
	switch {
	case cfg.JWKSFile != "":
		raw, rerr := os.ReadFile(cfg.JWKSFile)
		if rerr != nil {
			return nil, fmt.Errorf("auth: read AUTH_JWKS_FILE: %w", rerr)
		}
		v.jwks, err = keyfunc.NewJWKSetJSON(raw)
	case cfg.JWKSURL != "":
		v.jwks, err = keyfunc.NewDefaultCtx(ctx, []string{cfg.JWKSURL})
	}
	if err != nil {
		return nil, fmt.Errorf("auth: load JWKS: %w", err)
	}
	methods := []string{}
	if v.jwks != nil || own != nil {
		methods = append(methods, asymmetric...)
	}
	if cfg.DevHS256 != "" {
		v.secret = []byte(cfg.DevHS256)
		methods = append(methods, "HS256")
	}
	// Strict decoding refuses non-canonical base64url (stray trailing bits),
	// so one signed token has exactly one accepted spelling. iat, when
	// given, may not be ahead of the clock by more than the skew.
	opts := []jwt.ParserOption{jwt.WithValidMethods(methods), jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
		jwt.WithLeeway(clockSkew), jwt.WithStrictDecoding(), jwt.WithTimeFunc(func() time.Time { return v.now() })}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// keyFor returns the verification key for a token. An HMAC token is only
// ever checked against the development secret, never against a public key,
// so algorithm confusion (HS256 signed with an RSA public key) fails.
func (v *Verifier) keyFor(t *jwt.Token) (any, error) {
	if _, ok := t.Method.(*jwt.SigningMethodHMAC); ok {
		if v.secret == nil {
			return nil, errors.New("HMAC tokens are not accepted")
		}
		return v.secret, nil
	}
	if v.own != nil {
		if kid, _ := t.Header["kid"].(string); kid == v.own.KeyID() {
			return v.own.PublicKey(), nil
		}
	}
	if v.jwks == nil {
		return nil, errors.New("no JWKS configured")
	}
	return v.jwks.Keyfunc(t)
}

// Verify checks a bearer token and returns its principal.
func (v *Verifier) Verify(token string) (*Principal, error) {
	sum := sha256.Sum256([]byte(token))
	if e, ok := v.seen.Get(sum); ok && v.now().Before(e.until) {
		p := e.p
		return &p, nil
	}
	p, exp, err := v.verify(token)
	if err != nil {
		return nil, err
	}
	until := v.now().Add(verifiedFor)
	if exp.Before(until) {
		until = exp
	}
	v.seen.Set(sum, verified{p: *p, until: until})
	return p, nil
}

// verify checks a token's signature and claims; exp is its expiry.
func (v *Verifier) verify(token string) (p *Principal, exp time.Time, err error) {
	if !compactJWS(token) {
		return nil, exp, unauthorized("the bearer token is invalid")
	}
	var c Claims
	if _, err := v.parser.ParseWithClaims(token, &c, v.keyFor); err != nil {
		return nil, exp, fmt.Errorf("%w: %v", unauthorized(tokenProblem(err)), err)
	}
	if err := v.checkClaims(&c); err != nil {
		return nil, exp, err
	}
	exp = c.ExpiresAt.Time // required by the parser
	return &Principal{Subject: c.Subject, Role: Role(c.Role), Org: c.Org, Scopes: strings.Fields(c.Scope),
		Areas: c.Areas, Name: c.Name, Title: c.Title, Person: consent.PersonRef(c.FHIRUser)}, exp, nil
}

// tokenProblem says why the JWT library refused a token, without its
// content: expired, issued or valid only in the future, no exp, or
// (anything else: a signature, key or algorithm problem, which a caller
// probing the verifier is told nothing more about) invalid.
func tokenProblem(err error) string {
	var ae *adapter.Error
	switch {
	case errors.As(err, &ae):
		return ae.Message
	case errors.Is(err, jwt.ErrTokenExpired):
		return "the bearer token has expired"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "the bearer token's iat is in the future"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "the bearer token is not valid yet (nbf is in the future)"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing) && strings.Contains(err.Error(), "exp claim"):
		return "the bearer token has no exp: every token must say when it expires"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing) && strings.Contains(err.Error(), "aud claim"):
		return "the bearer token has no aud: this server requires its audience (AUTH_AUDIENCE)"
	}
	return "the bearer token is invalid"
}

// checkClaims checks what the JWT library does not: the token's lifetime,
// the role and org, and the bounds of its free-text claims.
func (v *Verifier) checkClaims(c *Claims) error {
	lifetime, from := c.ExpiresAt.Sub(v.now()), "now"
	if c.IssuedAt != nil {
		lifetime, from = c.ExpiresAt.Sub(c.IssuedAt.Time), "iat"
	} else {
		lifetime -= clockSkew // the issuer's clock may be ahead of ours
	}
	if lifetime > v.cfg.MaxLifetime {
		return unauthorized(fmt.Sprintf("the bearer token lives longer than %s (exp is %s after %s)",
			v.cfg.MaxLifetime, lifetime.Round(time.Second), from))
	}
	if role := Role(c.Role); !role.Valid() || c.Org == "" {
		return unauthorized("the token must carry a known role and an org")
	}
	for _, cl := range []struct {
		name, value string
		max         int
	}{{"sub", c.Subject, MaxSubjectLen}, {"org", c.Org, MaxOrgLen}, {"name", c.Name, MaxNameLen}, {"title", c.Title, MaxNameLen}} {
		if n := utf8.RuneCountInString(cl.value); n > cl.max {
			return unauthorized(fmt.Sprintf("the token's %s claim is longer than %d characters", cl.name, cl.max))
		}
	}
	if len(c.Areas) > MaxAreas {
		return unauthorized(fmt.Sprintf("the token's areas claim has more than %d entries", MaxAreas))
	}
	for _, a := range c.Areas {
		// An empty area would read as "the unknown area" in reports.
		if strings.TrimSpace(a) == "" {
			return unauthorized("the token's areas claim contains an empty area")
		}
		if utf8.RuneCountInString(a) > MaxOrgLen {
			return unauthorized(fmt.Sprintf("the token's areas claim has an entry longer than %d characters", MaxOrgLen))
		}
	}
	return nil
}

// compactJWS reports whether tok has only the characters of a JWS compact
// serialization: base64url and dots. Go's base64 decoder skips CR and LF
// even in strict mode, so without this one signature would pass under
// spellings with line breaks inside it.
func compactJWS(tok string) bool {
	for i := 0; i < len(tok); i++ {
		switch c := tok[i]; {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

func unauthorized(msg string) *adapter.Error {
	return &adapter.Error{Code: adapter.EUNAUTHORIZED, Message: msg}
}

// SecretEqual compares secrets in constant time.
func SecretEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

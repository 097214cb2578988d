package auth_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

const devSecret = "dev-secret-change-me-0123456789"

// idp is an identity provider made up for a test: an RSA and an EC key,
// published as a JWKS file the way AUTH_JWKS_FILE expects.
type idp struct {
	rsa      *rsa.PrivateKey
	ec       *ecdsa.PrivateKey
	jwksFile string
}

func newIDP(t *testing.T) *idp {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := ek.PublicKey.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	xy := pt.Bytes()[1:] // uncompressed point: 0x04 || X || Y
	b64 := base64.RawURLEncoding.EncodeToString
	jwks, _ := json.Marshal(map[string]any{"keys": []any{
		map[string]any{"kty": "RSA", "kid": "rsa-1", "use": "sig", "alg": "RS256",
			"n": b64(rk.N.Bytes()), "e": b64(big.NewInt(int64(rk.E)).Bytes())},
		map[string]any{"kty": "EC", "kid": "ec-1", "use": "sig", "alg": "ES256", "crv": "P-256",
			"x": b64(xy[:32]), "y": b64(xy[32:])},
	}})
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, jwks, 0o600); err != nil {
		t.Fatal(err)
	}
	return &idp{rsa: rk, ec: ek, jwksFile: path}
}

// claims for a practice user, valid for an hour.
func claims(mut ...func(*auth.Claims)) auth.Claims {
	now := time.Now()
	c := auth.Claims{
		RegisteredClaims: jwt.RegisteredClaims{Subject: "dr.a@A81001", IssuedAt: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))},
		Role: "practice", Org: "A81001", Scope: "system/ServiceRequest.crs system/Task.rs", Title: "GP",
	}
	for _, m := range mut {
		m(&c)
	}
	return c
}

func sign(t *testing.T, m jwt.SigningMethod, kid string, key any, c auth.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func verifier(t *testing.T, cfg auth.Config) *auth.Verifier {
	t.Helper()
	if cfg.MinSecretSize == 0 {
		cfg.MinSecretSize = 16
	}
	v, err := auth.NewVerifier(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVerifyAccepts(t *testing.T) {
	p := newIDP(t)
	both := verifier(t, auth.Config{JWKSFile: p.jwksFile, DevHS256: devSecret})
	minted, err := auth.Mint(devSecret, auth.MintOptions{Role: auth.RoleLinkWorker, Org: "U00001", Name: "Sam Link", Title: "Link worker"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		token string
		want  auth.Principal
	}{
		{"HS256 with the dev secret", minted, auth.Principal{Subject: "link-worker@U00001", Role: auth.RoleLinkWorker, Org: "U00001",
			Scopes: auth.DefaultScopes[auth.RoleLinkWorker], Name: "Sam Link", Title: "Link worker"}},
		{"RS256 from the JWKS", sign(t, jwt.SigningMethodRS256, "rsa-1", p.rsa, claims()),
			auth.Principal{Subject: "dr.a@A81001", Role: auth.RolePractice, Org: "A81001", Scopes: []string{"system/ServiceRequest.crs", "system/Task.rs"}, Title: "GP"}},
		{"ES256 from the JWKS", sign(t, jwt.SigningMethodES256, "ec-1", p.ec, claims(func(c *auth.Claims) { c.Role, c.Org, c.Areas = "commissioner", "15F", []string{"LS6"} })),
			auth.Principal{Subject: "dr.a@A81001", Role: auth.RoleCommissioner, Org: "15F", Scopes: []string{"system/ServiceRequest.crs", "system/Task.rs"}, Areas: []string{"LS6"}, Title: "GP"}},
		{"expired within the leeway", sign(t, jwt.SigningMethodRS256, "rsa-1", p.rsa, claims(func(c *auth.Claims) { c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-10 * time.Second)) })),
			auth.Principal{Subject: "dr.a@A81001", Role: auth.RolePractice, Org: "A81001", Scopes: []string{"system/ServiceRequest.crs", "system/Task.rs"}, Title: "GP"}},
	}
	for _, c := range cases {
		got, err := both.Verify(c.token)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got.Subject != c.want.Subject || got.Role != c.want.Role || got.Org != c.want.Org || !slices.Equal(got.Scopes, c.want.Scopes) ||
			!slices.Equal(got.Areas, c.want.Areas) || got.Name != c.want.Name || got.Title != c.want.Title {
			t.Errorf("%s: principal %+v, want %+v", c.name, *got, c.want)
		}
	}
	// Each key source also works alone.
	if _, err := verifier(t, auth.Config{JWKSFile: p.jwksFile}).Verify(cases[1].token); err != nil {
		t.Errorf("JWKS only: %v", err)
	}
	if _, err := verifier(t, auth.Config{DevHS256: devSecret}).Verify(minted); err != nil {
		t.Errorf("dev secret only: %v", err)
	}
}

// Every bad token is EUNAUTHORIZED, with a message that says what is wrong
// without repeating the token.
func TestVerifyRefuses(t *testing.T) {
	p := newIDP(t)
	other := newIDP(t)
	jwksAndDev := verifier(t, auth.Config{JWKSFile: p.jwksFile, DevHS256: devSecret})
	jwksOnly := verifier(t, auth.Config{JWKSFile: p.jwksFile})
	devOnly := verifier(t, auth.Config{DevHS256: devSecret})
	strict := verifier(t, auth.Config{JWKSFile: p.jwksFile, Issuer: "https://idp.example", Audience: "referral-adapter"})

	rs := func(mut ...func(*auth.Claims)) string {
		return sign(t, jwt.SigningMethodRS256, "rsa-1", p.rsa, claims(mut...))
	}
	hs := func(secret string, mut ...func(*auth.Claims)) string {
		return sign(t, jwt.SigningMethodHS256, "", []byte(secret), claims(mut...))
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: mustPKIX(t, &p.rsa.PublicKey)})
	none := sign(t, jwt.SigningMethodNone, "", jwt.UnsafeAllowNoneSignatureType, claims())
	good := rs()
	parts := strings.Split(good, ".")

	cases := []struct {
		name  string
		v     *auth.Verifier
		token string
		msg   string
	}{
		{"expired", jwksAndDev, rs(func(c *auth.Claims) { c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-2 * time.Minute)) }), "the bearer token has expired"},
		{"expired dev token", devOnly, hs(devSecret, func(c *auth.Claims) { c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Hour)) }), "the bearer token has expired"},
		{"no expiry", jwksAndDev, rs(func(c *auth.Claims) { c.ExpiresAt = nil }), "the bearer token has no exp: every token must say when it expires"},
		{"not yet valid", jwksAndDev, rs(func(c *auth.Claims) { c.NotBefore = jwt.NewNumericDate(time.Now().Add(time.Hour)) }), "the bearer token is not valid yet (nbf is in the future)"},
		{"RS256 signed by another key", jwksAndDev, sign(t, jwt.SigningMethodRS256, "rsa-1", other.rsa, claims()), "the bearer token is invalid"},
		{"ES256 signed by another key", jwksAndDev, sign(t, jwt.SigningMethodES256, "ec-1", other.ec, claims()), "the bearer token is invalid"},
		{"unknown kid", jwksAndDev, sign(t, jwt.SigningMethodRS256, "rsa-9", p.rsa, claims()), "the bearer token is invalid"},
		{"tampered payload", jwksAndDev, parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"role":"admin","org":"X","exp":9999999999}`)) + "." + parts[2], "the bearer token is invalid"},
		{"RS256 signature re-spelt with a stray trailing bit", jwksAndDev, respell(good), "the bearer token is invalid"},
		{"HS256 signature re-spelt with a stray trailing bit", devOnly, respell(hs(devSecret)), "the bearer token is invalid"},
		{"RS256 signature with a line break inside", jwksAndDev, good[:len(good)-4] + "\r\n" + good[len(good)-4:], "the bearer token is invalid"},
		{"HS256 signature with a carriage return inside", devOnly, withCR(hs(devSecret)), "the bearer token is invalid"},
		{"signature stripped", jwksAndDev, parts[0] + "." + parts[1] + ".", "the bearer token is invalid"},
		{"HS256 with another secret", jwksAndDev, hs("another-secret-0123456789abcdef"), "the bearer token is invalid"},
		{"alg none", jwksAndDev, none, "the bearer token is invalid"},
		{"alg none, dev only", devOnly, none, "the bearer token is invalid"},
		{"HS256 with no dev secret configured", jwksOnly, hs(devSecret), "the bearer token is invalid"},
		{"HS256 signed with the RSA public key", jwksOnly, hs(string(pubPEM)), "the bearer token is invalid"},
		{"HS256 signed with the RSA public key, dev secret set", jwksAndDev, hs(string(pubPEM)), "the bearer token is invalid"},
		{"RS256 with no JWKS configured", devOnly, good, "the bearer token is invalid"},
		{"missing role", jwksAndDev, rs(func(c *auth.Claims) { c.Role = "" }), "the token must carry a known role and an org"},
		{"unknown role", jwksAndDev, rs(func(c *auth.Claims) { c.Role = "superuser" }), "the token must carry a known role and an org"},
		{"missing org", jwksAndDev, rs(func(c *auth.Claims) { c.Org = "" }), "the token must carry a known role and an org"},
		{"dev token missing org", devOnly, hs(devSecret, func(c *auth.Claims) { c.Org = "" }), "the token must carry a known role and an org"},
		{"wrong issuer", strict, rs(func(c *auth.Claims) {
			c.Issuer, c.Audience = "https://evil.example", jwt.ClaimStrings{"referral-adapter"}
		}), "the bearer token is invalid"},
		{"wrong audience", strict, rs(func(c *auth.Claims) { c.Issuer, c.Audience = "https://idp.example", jwt.ClaimStrings{"another-api"} }), "the bearer token is invalid"},
		{"no audience", strict, rs(func(c *auth.Claims) { c.Issuer = "https://idp.example" }), "the bearer token has no aud: this server requires its audience (AUTH_AUDIENCE)"},
		{"empty", jwksAndDev, "", "the bearer token is invalid"},
		{"not a JWT", jwksAndDev, "Bearer abc.def", "the bearer token is invalid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.v.Verify(c.token)
			if err == nil {
				t.Fatalf("accepted: %+v", got)
			}
			if code := adapter.ErrorCode(err); code != adapter.EUNAUTHORIZED {
				t.Errorf("code %q, want %s (%v)", code, adapter.EUNAUTHORIZED, err)
			}
			if m := adapter.ErrorMessage(err); m != c.msg {
				t.Errorf("message %q, want %q", m, c.msg)
			}
		})
	}
	ok := rs(func(c *auth.Claims) {
		c.Issuer, c.Audience = "https://idp.example", jwt.ClaimStrings{"referral-adapter"}
	})
	if _, err := strict.Verify(ok); err != nil {
		t.Errorf("right issuer and audience: %v", err)
	}
}

// respell flips the lowest bit of a token's last base64url character. For a
// signature whose length is not a multiple of 3 bytes that bit is padding:
// a lenient decoder reads the same signature from both spellings.
func respell(tok string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, tok[len(tok)-1])
	return tok[:len(tok)-1] + string(alphabet[i^1])
}

// withCR puts a carriage return before a token's last four characters.
func withCR(tok string) string { return tok[:len(tok)-4] + "\r" + tok[len(tok)-4:] }

func mustPKIX(t *testing.T, pub crypto.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestVerifierConfig(t *testing.T) {
	if errs := (&auth.Config{MinSecretSize: 16, MaxLifetime: time.Hour}).Validate(); len(errs) != 1 {
		t.Errorf("nothing configured: %v", errs)
	}
	if errs := (&auth.Config{DevHS256: "short", MinSecretSize: 16, MaxLifetime: time.Hour}).Validate(); len(errs) != 1 {
		t.Errorf("short secret: %v", errs)
	}
	if errs := (&auth.Config{DevHS256: devSecret, MinSecretSize: 16, MaxLifetime: time.Hour}).Validate(); len(errs) != 0 {
		t.Errorf("dev secret: %v", errs)
	}
	if _, err := auth.NewVerifier(context.Background(), auth.Config{JWKSFile: filepath.Join(t.TempDir(), "missing.json")}, nil); err == nil {
		t.Error("a missing JWKS file was accepted")
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	_ = os.WriteFile(bad, []byte(`{"keys": [`), 0o600)
	if _, err := auth.NewVerifier(context.Background(), auth.Config{JWKSFile: bad}, nil); err == nil {
		t.Error("a malformed JWKS file was accepted")
	}
	if _, err := auth.Mint("", auth.MintOptions{Role: auth.RolePractice, Org: "A81001"}); err == nil {
		t.Error("Mint without a secret")
	}
	if _, err := auth.Mint(devSecret, auth.MintOptions{Role: "nobody", Org: "A81001"}); err == nil {
		t.Error("Mint with an unknown role")
	}
	if _, err := auth.Mint(devSecret, auth.MintOptions{Role: auth.RolePractice}); err == nil {
		t.Error("Mint without an org")
	}
}

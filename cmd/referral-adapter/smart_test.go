package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

const tokenURL = "https://sp.example.nhs.uk/auth/token"

// smartClient is a registered backend client with its private key.
type smartClient struct {
	id     string
	key    crypto.Signer
	method jwt.SigningMethod
	kid    string
}

func jwk(pub crypto.PublicKey, kid, alg string) map[string]any {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return map[string]any{"kty": "RSA", "kid": kid, "alg": alg, "use": "sig",
			"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())}
	case *ecdsa.PublicKey:
		point, err := k.Bytes() // uncompressed: 0x04, x, y
		if err != nil {
			panic(err)
		}
		size := (len(point) - 1) / 2
		return map[string]any{"kty": "EC", "kid": kid, "alg": alg, "use": "sig", "crv": k.Curve.Params().Name,
			"x": base64.RawURLEncoding.EncodeToString(point[1 : 1+size]), "y": base64.RawURLEncoding.EncodeToString(point[1+size:])}
	}
	panic("key type")
}

// newSMARTHarness starts the service with two registered clients: an EHR
// (RS384) and a VCSE provider system (ES384).
func newSMARTHarness(t *testing.T) (*harness, *smartClient, *smartClient) {
	dir := t.TempDir()
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	ehr := &smartClient{id: "ehr-a81001", key: rsaKey, method: jwt.SigningMethodRS384, kid: "ehr-1"}
	vcse := &smartClient{id: "vcse-x1v01", key: ecKey, method: jwt.SigningMethodES384, kid: "vcse-1"}
	clients := map[string]any{"clients": []any{
		map[string]any{"id": ehr.id, "role": "practice", "org": practice,
			"scopes": []string{"system/ServiceRequest.crs", "system/Task.rs", "system/Consent.crs"},
			"jwks":   map[string]any{"keys": []any{jwk(rsaKey.Public(), ehr.kid, "RS384")}}},
		map[string]any{"id": vcse.id, "role": "provider", "org": "X1V01", "scopes": []string{"system/Task.rus"},
			"jwks": map[string]any{"keys": []any{jwk(ecKey.Public(), vcse.kid, "ES384")}}},
	}}
	b, _ := json.Marshal(clients)
	cf := filepath.Join(dir, "clients.json")
	if err := os.WriteFile(cf, b, 0o600); err != nil {
		t.Fatal(err)
	}
	signKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalECPrivateKey(signKey)
	kf := filepath.Join(dir, "signing.pem")
	if err := os.WriteFile(kf, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, map[string]string{"AUTH_DEV_HS256_SECRET": "", "AUTH_CLIENTS_FILE": cf,
		"AUTH_SIGNING_KEY_FILE": kf, "AUTH_TOKEN_URL": tokenURL})
	return h, ehr, vcse
}

type assertionOpt func(c jwt.MapClaims, t *jwt.Token)

func (c *smartClient) assertion(t *testing.T, opts ...assertionOpt) string {
	claims := jwt.MapClaims{"iss": c.id, "sub": c.id, "aud": tokenURL, "exp": time.Now().Add(4 * time.Minute).Unix(),
		"jti": fmt.Sprintf("%d", time.Now().UnixNano())}
	tok := jwt.NewWithClaims(c.method, claims)
	tok.Header["kid"] = c.kid
	for _, o := range opts {
		o(claims, tok)
	}
	s, err := tok.SignedString(c.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (h *harness) tokenRequest(form url.Values) (int, map[string]any) {
	res, err := h.srv.Client().PostForm(h.srv.URL+"/auth/token", form)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(res.Body).Decode(&body)
	return res.StatusCode, body
}

func form(assertion, scope string) url.Values {
	v := url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion": {assertion}}
	if scope != "" {
		v.Set("scope", scope)
	}
	return v
}

func TestSMARTBackendServicesTokenFlow(t *testing.T) {
	h, ehr, vcse := newSMARTHarness(t)
	status, body := h.tokenRequest(form(ehr.assertion(t), "system/ServiceRequest.crs system/Task.rs system/Patient.rs"))
	if status != 200 {
		t.Fatalf("token = %d %v", status, body)
	}
	if body["token_type"] != "bearer" || body["scope"] != "system/ServiceRequest.crs system/Task.rs" || body["expires_in"] != float64(300) {
		t.Errorf("token response %v (scope must be the intersection of requested and allowed)", body)
	}
	access := body["access_token"].(string)
	r := h.do("POST", "/fhir/ServiceRequest", access, fixture(t, "servicerequest-debt.json"))
	if r.status != 201 {
		t.Fatalf("issued token refused: %d %s", r.status, r.body)
	}
	id := r.json(t)["id"].(string)
	// The provider system's token works for the referral routed to it.
	_, pb := h.tokenRequest(form(vcse.assertion(t), ""))
	if got := h.do("GET", "/fhir/Task/"+id, pb["access_token"].(string), nil); got.status != 200 {
		t.Errorf("provider token: %d %s", got.status, got.body)
	}
	// A dev HS256 token is not accepted when no dev secret is configured.
	if got := h.do("GET", "/fhir/Task/"+id, h.token("practice", practice), nil); got.status != 401 {
		t.Errorf("HS256 token accepted without a dev secret: %d", got.status)
	}

	cfg := h.do("GET", "/.well-known/smart-configuration", "", nil).json(t)
	if cfg["token_endpoint"] != tokenURL || !strings.Contains(fmt.Sprint(cfg["token_endpoint_auth_signing_alg_values_supported"]), "ES384") {
		t.Errorf("smart-configuration = %v", cfg)
	}
	// The published key set verifies the tokens the server issues: what a
	// resource server elsewhere in the network would check them with.
	set := h.do("GET", "/.well-known/jwks.json", "", nil)
	if set.status != 200 || set.header.Get("Content-Type") != "application/jwk-set+json" {
		t.Fatalf("jwks = %d %s", set.status, set.header.Get("Content-Type"))
	}
	kf, err := keyfunc.NewJWKSetJSON(set.body)
	if err != nil {
		t.Fatalf("jwks does not parse: %v\n%s", err, set.body)
	}
	if _, err := jwt.Parse(access, kf.Keyfunc, jwt.WithValidMethods([]string{"ES256"})); err != nil {
		t.Errorf("an issued token does not verify with the published key set: %v", err)
	}
}

func TestSMARTTokenRequestsRefused(t *testing.T) {
	h, ehr, _ := newSMARTHarness(t)
	replayed := ehr.assertion(t)
	if s, b := h.tokenRequest(form(replayed, "")); s != 200 {
		t.Fatalf("first use = %d %v", s, b)
	}
	rsaPub := ehr.key.Public().(*rsa.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(rsaPub))})
	confused := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": ehr.id, "sub": ehr.id, "aud": tokenURL,
		"exp": time.Now().Add(time.Minute).Unix(), "jti": "c1"})
	confused.Header["kid"] = ehr.kid
	confusedTok, _ := confused.SignedString(pubPEM)
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"iss": ehr.id, "sub": ehr.id, "aud": tokenURL,
		"exp": time.Now().Add(time.Minute).Unix(), "jti": "n1"}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	cases := []struct {
		name  string
		form  url.Values
		code  string
		state int
	}{
		{"replayed jti", form(replayed, ""), "invalid_grant", 400},
		{"wrong aud", form(ehr.assertion(t, func(c jwt.MapClaims, _ *jwt.Token) { c["aud"] = "https://elsewhere/token" }), ""), "invalid_client", 401},
		{"expired", form(ehr.assertion(t, func(c jwt.MapClaims, _ *jwt.Token) { c["exp"] = time.Now().Add(-time.Minute).Unix() }), ""), "invalid_client", 401},
		{"exp too far ahead", form(ehr.assertion(t, func(c jwt.MapClaims, _ *jwt.Token) { c["exp"] = time.Now().Add(time.Hour).Unix() }), ""), "invalid_client", 401},
		{"no jti", form(ehr.assertion(t, func(c jwt.MapClaims, _ *jwt.Token) { delete(c, "jti") }), ""), "invalid_client", 401},
		{"sub differs", form(ehr.assertion(t, func(c jwt.MapClaims, _ *jwt.Token) { c["sub"] = "someone" }), ""), "invalid_client", 401},
		{"unknown kid", form(ehr.assertion(t, func(_ jwt.MapClaims, tk *jwt.Token) { tk.Header["kid"] = "rotated-away" }), ""), "invalid_client", 401},
		{"wrong key", form((&smartClient{id: ehr.id, key: other, method: jwt.SigningMethodRS384, kid: ehr.kid}).assertion(t), ""), "invalid_client", 401},
		{"algorithm confusion", form(confusedTok, ""), "invalid_client", 401},
		{"signature re-spelt with a stray trailing bit", form(respelt(ehr.assertion(t)), ""), "invalid_client", 401},
		{"line break inside the signature", form(withLineBreak(ehr.assertion(t)), ""), "invalid_client", 401},
		{"alg none", form(none, ""), "invalid_client", 401},
		{"unknown client", form((&smartClient{id: "stranger", key: other, method: jwt.SigningMethodRS384, kid: "x"}).assertion(t), ""), "invalid_client", 401},
		{"no allowed scope", form(ehr.assertion(t), "system/MeasureReport.rs"), "invalid_scope", 400},
		{"wrong grant", url.Values{"grant_type": {"password"}}, "unsupported_grant_type", 400},
		{"wrong assertion type", url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {"x"}}, "invalid_request", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, b := h.tokenRequest(tc.form)
			if s != tc.state || b["error"] != tc.code {
				t.Errorf("= %d %v, want %d %s", s, b, tc.state, tc.code)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// respelt flips the lowest bit of a JWT's last base64url character: for an
// RS384 signature (256 bytes) that bit is padding, which a lenient decoder
// ignores, so the same signature would pass under a second spelling.
func respelt(tok string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, tok[len(tok)-1])
	return tok[:len(tok)-1] + string(alphabet[i^1])
}

// withLineBreak puts CR LF before a JWT's last four characters, which Go's
// base64 decoder would skip.
func withLineBreak(tok string) string { return tok[:len(tok)-4] + "\r\n" + tok[len(tok)-4:] }

// A SMART v2 client asking for part of what it was registered for gets
// that part (system/ServiceRequest.r of .crs), not a refusal; what goes
// beyond its registration, or another context, is not granted.
func TestSMARTScopeSubsetGranted(t *testing.T) {
	h, ehr, _ := newSMARTHarness(t)
	for _, tc := range []struct{ ask, want string }{
		{"system/ServiceRequest.r", "system/ServiceRequest.r"},
		{"system/ServiceRequest.rs system/Consent.c", "system/ServiceRequest.rs system/Consent.c"},
		{"system/ServiceRequest.read", "system/ServiceRequest.read"},
		{"system/ServiceRequest.r system/Task.u", "system/ServiceRequest.r"},
		{"system/ServiceRequest.rsd", ""},
		{"user/ServiceRequest.r", ""},
	} {
		status, body := h.tokenRequest(form(ehr.assertion(t), tc.ask))
		if tc.want == "" {
			if status != 400 || body["error"] != "invalid_scope" {
				t.Errorf("%q: %d %v", tc.ask, status, body)
			}
			continue
		}
		if status != 200 || body["scope"] != tc.want {
			t.Errorf("%q: %d %v, want scope %q", tc.ask, status, body, tc.want)
		}
	}
}

package auth_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

// rawHS256 signs a claims set written out by hand with the dev secret, so
// a test can send what a JWT library would never produce (string dates,
// duplicate claims).
func rawHS256(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	signing := enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc([]byte(payload))
	m := hmac.New(sha256.New, []byte(devSecret))
	m.Write([]byte(signing))
	return signing + "." + enc(m.Sum(nil))
}

// Issue 21: time claims are numbers, iat is not in the future, a token
// lives no longer than AUTH_MAX_TOKEN_LIFETIME, areas hold no empty area,
// free-text claims are bounded, and claims are read as strict JSON.
func TestVerifyStrictClaims(t *testing.T) {
	v := verifier(t, auth.Config{DevHS256: devSecret, MaxLifetime: 24 * time.Hour})
	now := time.Now().Unix()
	body := func(extra string) string {
		return fmt.Sprintf(`{"sub":"dr.a@A81001","role":"practice","org":"A81001","scope":"system/Task.rs"%s}`, extra)
	}
	hs := func(mut ...func(*auth.Claims)) string {
		return sign(t, jwt.SigningMethodHS256, "", []byte(devSecret), claims(mut...))
	}
	good := rawHS256(body(fmt.Sprintf(`,"iat":%d,"exp":%d`, now, now+3600)))
	if _, err := v.Verify(good); err != nil {
		t.Fatalf("a plain token: %v", err)
	}
	for name, tok := range map[string]string{
		"iat within the clock skew":  hs(func(c *auth.Claims) { c.IssuedAt = jwt.NewNumericDate(time.Now().Add(20 * time.Second)) }),
		"exactly the longest life":   hs(func(c *auth.Claims) { c.ExpiresAt = jwt.NewNumericDate(c.IssuedAt.Add(24 * time.Hour)) }),
		"no iat, a day ahead":        hs(func(c *auth.Claims) { c.IssuedAt, c.ExpiresAt = nil, jwt.NewNumericDate(time.Now().Add(24*time.Hour)) }),
		"fractional numeric dates":   rawHS256(body(fmt.Sprintf(`,"iat":%d.5,"exp":%d.25`, now, now+60))),
		"an exp-named string inside": rawHS256(body(fmt.Sprintf(`,"exp":%d,"x":{"exp":"soon"}`, now+60))),
		"areas":                      hs(func(c *auth.Claims) { c.Areas = []string{"LS6", "LS7"} }),
		"a long but allowed name":    hs(func(c *auth.Claims) { c.Name = strings.Repeat("é", auth.MaxNameLen) }),
	} {
		if _, err := v.Verify(tok); err != nil {
			t.Errorf("%s: refused: %v", name, err)
		}
	}

	cases := []struct {
		name, token, msg string
	}{
		{"exp as a string", rawHS256(body(fmt.Sprintf(`,"exp":"%d"`, now+60))), "must be JSON numbers"},
		{"iat as a string", rawHS256(body(fmt.Sprintf(`,"iat":"%d","exp":%d`, now, now+60))), "must be JSON numbers"},
		{"nbf as a string", rawHS256(body(fmt.Sprintf(`,"nbf":"%d","exp":%d`, now, now+60))), "must be JSON numbers"},
		{"exp as null", rawHS256(body(`,"exp":null`)), "must be JSON numbers"},
		{"exp as an object", rawHS256(body(`,"exp":{"t":1}`)), "must be JSON numbers"},
		{"exp twice", rawHS256(body(fmt.Sprintf(`,"exp":%d,"exp":%d`, now-3600, now+60))), `duplicate JSON member name "exp"`},
		{"role twice", rawHS256(body(fmt.Sprintf(`,"exp":%d,"role":"admin"`, now+60))), `duplicate JSON member name "role"`},
		{"role in another case", rawHS256(fmt.Sprintf(`{"sub":"x","Role":"admin","org":"A81001","exp":%d}`, now+60)), "known role"},
		{"iat in the future", hs(func(c *auth.Claims) {
			c.IssuedAt = jwt.NewNumericDate(time.Now().Add(10 * time.Minute))
			c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(time.Hour))
		}), "iat is in the future"},
		{"300 years", hs(func(c *auth.Claims) { c.ExpiresAt = jwt.NewNumericDate(time.Now().AddDate(300, 0, 0)) }), "lives longer than 24h0m0s"},
		{"a day and a second", hs(func(c *auth.Claims) { c.ExpiresAt = jwt.NewNumericDate(c.IssuedAt.Add(24*time.Hour + time.Second)) }), "lives longer"},
		{"no iat, two days ahead", hs(func(c *auth.Claims) { c.IssuedAt, c.ExpiresAt = nil, jwt.NewNumericDate(time.Now().Add(48*time.Hour)) }), "lives longer"},
		{"an empty area", hs(func(c *auth.Claims) { c.Areas = []string{"LS6", ""} }), "empty area"},
		{"a blank area", hs(func(c *auth.Claims) { c.Areas = []string{" "} }), "empty area"},
		{"an overlong name", hs(func(c *auth.Claims) { c.Name = strings.Repeat("x", auth.MaxNameLen+1) }), "name claim is longer than 200"},
		{"an overlong title", hs(func(c *auth.Claims) { c.Title = strings.Repeat("x", auth.MaxNameLen+1) }), "title claim is longer"},
		{"an overlong org", hs(func(c *auth.Claims) { c.Org = strings.Repeat("A", auth.MaxOrgLen+1) }), "org claim is longer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := v.Verify(c.token)
			if err == nil {
				t.Fatalf("accepted: %+v", got)
			}
			if code := adapter.ErrorCode(err); code != adapter.EUNAUTHORIZED {
				t.Errorf("code %q, want %s (%v)", code, adapter.EUNAUTHORIZED, err)
			}
			if m := adapter.ErrorMessage(err); !strings.Contains(m, c.msg) {
				t.Errorf("message %q, want it to contain %q", m, c.msg)
			}
		})
	}

	short := verifier(t, auth.Config{DevHS256: devSecret, MaxLifetime: 5 * time.Minute})
	if _, err := short.Verify(hs()); err == nil || !strings.Contains(adapter.ErrorMessage(err), "lives longer than 5m0s") {
		t.Errorf("an hour's token with AUTH_MAX_TOKEN_LIFETIME=5m: %v", err)
	}
}

func TestMaxLifetimeConfig(t *testing.T) {
	if errs := (&auth.Config{DevHS256: devSecret, MinSecretSize: 16}).Validate(); len(errs) != 1 ||
		!strings.Contains(errs[0].Error(), "AUTH_MAX_TOKEN_LIFETIME") {
		t.Errorf("no lifetime: %v", errs)
	}
	c := auth.Config{DevHS256: devSecret, MinSecretSize: 16, MaxLifetime: time.Minute,
		Server: auth.ServerConfig{ClientsFile: "c.json", SigningKeyFile: "k.pem", TokenURL: "https://sp.example/auth/token", AccessTTL: 5 * time.Minute}}
	if errs := c.Validate(); len(errs) != 1 || !strings.Contains(errs[0].Error(), "AUTH_ACCESS_TOKEN_TTL must not be longer than AUTH_MAX_TOKEN_LIFETIME") {
		t.Errorf("access tokens outliving the maximum: %v", errs)
	}
}

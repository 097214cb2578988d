package auth_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

// FuzzVerify feeds arbitrary strings to the bearer-token verifier: it
// never panics, and anything not signed with the key is refused as
// EUNAUTHORIZED.
func FuzzVerify(f *testing.F) {
	const secret = "fuzz-secret-0123456789abcdef"
	v, err := auth.NewVerifier(context.Background(), auth.Config{DevHS256: secret, MinSecretSize: 16}, nil)
	if err != nil {
		f.Fatal(err)
	}
	good, _ := auth.Mint(secret, auth.MintOptions{Role: auth.RolePractice, Org: "A81001"})
	parts := strings.Split(good, ".")
	f.Add(good)
	f.Add(parts[0] + "." + parts[1] + ".")
	f.Add(respell(good))
	f.Add(withCR(good))
	f.Add("eyJhbGciOiJub25lIn0." + parts[1] + ".")
	f.Add(strings.Repeat("a.", 1000))
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		p, err := v.Verify(tok)
		if err == nil {
			// Only a correctly signed token may pass (tokens minted in other
			// fuzz worker processes are signed with the same secret).
			if !signedWith(tok, secret) {
				t.Fatalf("token with a bad signature accepted: %+v", p)
			}
			return
		}
		var e *adapter.Error
		if !errors.As(err, &e) || e.Code != adapter.EUNAUTHORIZED {
			t.Fatalf("refusal is not EUNAUTHORIZED: %v", err)
		}
	})
}

func signedWith(tok, secret string) bool {
	i := strings.LastIndexByte(tok, '.')
	if i < 0 {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(tok[:i]))
	return tok[i+1:] == base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

package auth

import (
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// A verified token is taken as verified for a minute at most and never
// past its expiry: after that its signature is checked again, so a key or
// secret taken away stops being trusted. Callers get their own copy.
func TestVerifiedTokensKeptBoundedly(t *testing.T) {
	const secret = "cache-secret-0123456789abcdef"
	v, err := NewVerifier(context.Background(), Config{DevHS256: secret, MinSecretSize: 16}, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	v.now = func() time.Time { return start }
	mint := func(ttl time.Duration) string {
		c := Claims{Role: string(RolePractice), Org: "A81001"}
		c.Subject, c.ExpiresAt = "ehr", jwt.NewNumericDate(start.Add(ttl))
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(secret))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	long, short := mint(time.Hour), mint(20*time.Second)
	for _, tok := range []string{long, short} {
		p, err := v.Verify(tok)
		if err != nil {
			t.Fatal(err)
		}
		p.Org = "changed by a caller"
	}
	v.secret = []byte("rotated-secret-0123456789abcdef") // the old secret is no longer trusted
	at := func(d time.Duration, tok string) error {
		v.now = func() time.Time { return start.Add(d) }
		p, err := v.Verify(tok)
		if err == nil && p.Org != "A81001" {
			t.Fatalf("org %q: a caller's change leaked into the cache", p.Org)
		}
		return err
	}
	if err := at(10*time.Second, long); err != nil {
		t.Errorf("within the minute: %v", err)
	}
	if err := at(10*time.Second, short); err != nil {
		t.Errorf("short token within its life: %v", err)
	}
	if err := at(25*time.Second, short); err == nil {
		t.Error("short token past its expiry was not checked again")
	}
	if err := at(30*time.Second, long); err != nil {
		t.Errorf("long token within the minute: %v", err)
	}
	if err := at(61*time.Second, long); err == nil {
		t.Error("long token after a minute was not checked again")
	}
}

// BenchmarkVerify prints the cost of a bearer token check, first seen and
// seen again.
func BenchmarkVerify(b *testing.B) {
	const secret = "bench-secret-0123456789abcdef"
	v, err := NewVerifier(context.Background(), Config{DevHS256: secret, MinSecretSize: 16}, nil)
	if err != nil {
		b.Fatal(err)
	}
	tok, _ := Mint(secret, MintOptions{Role: RolePractice, Org: "A81001"})
	b.Run("first", func(b *testing.B) {
		for range b.N {
			if _, _, err := v.verify(tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("again", func(b *testing.B) {
		for range b.N {
			if _, err := v.Verify(tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}

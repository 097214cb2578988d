package main

import (
	"encoding/json"
	"net"
	"strings"
	"testing"

	"github.com/social-prescribing/referral-adapter/internal/redistest"
)

// Every line the service writes is a JSON log record, libraries' included:
// a JWKS the identity provider's URL does not serve is logged by keyfunc
// through slog's default logger, which the service makes its own (it
// printed a plain-text line among the JSON before).
func TestEveryLogLineIsJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the service as a separate process")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	_ = ln.Close()
	p := startAdapterProcess(t, map[string]string{"AUTH_DEV_HS256_SECRET": testSecret, "REDIS_URL": redistest.URL(t),
		"REDIS_NAMESPACE": redistest.Namespace(t), "AUTH_JWKS_URL": "https://" + closed + "/jwks.json",
		"AUTH_ISSUER": "https://idp.example.nhs.uk", "AUTH_AUDIENCE": "referral-adapter", "JOBS_ENABLED": "false"})
	p.kill()
	out := p.logs.String()
	var jwks bool
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["level"] == nil || rec["msg"] == nil {
			t.Errorf("not a JSON log record: %s", line)
			continue
		}
		jwks = jwks || strings.Contains(rec["msg"].(string), "JWK Set")
	}
	if !jwks {
		t.Errorf("no record of the JWKS that could not be fetched:\n%s", out)
	}
}

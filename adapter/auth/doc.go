// Package auth verifies the bearer tokens callers present (JWTs signed with
// RS256/ES256 keys from a JWKS file or URL, or HS256 with a development
// secret), turns them into a Principal (role, organisation, scopes), and
// mints development tokens. What each role may do is decided in policy.go.
package auth

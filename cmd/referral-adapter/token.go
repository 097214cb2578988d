package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

// multi collects a repeatable flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, " ") }
func (m *multi) Set(v string) error { *m = append(*m, strings.Fields(v)...); return nil }

// token prints a development token signed with AUTH_DEV_HS256_SECRET.
func token(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	role := fs.String("role", "", "practice | link-worker | provider | commissioner | admin")
	org := fs.String("org", "", "organisation ODS code")
	ttl := fs.Duration("ttl", time.Hour, "lifetime")
	sub := fs.String("sub", "", "subject (default role@org)")
	name := fs.String("name", "", "display name of the user or system")
	title := fs.String("title", "", "job title (GP, Practice nurse, Care navigator...): the referral source, and who may sign off")
	fhirUser := fs.String("fhir-user", "", "the person's FHIR reference (fhirUser claim), e.g. Practitioner/lw-sam: consent provisions naming a person are decided against it")
	var scopes, areas multi
	fs.Var(&scopes, "scope", "SMART v2 scope (repeatable; default: every scope the role may hold)")
	fs.Var(&areas, "area", "area a commissioner covers (repeatable)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	// A token the service would refuse is no use: its lifetime is bounded
	// by AUTH_MAX_TOKEN_LIFETIME (default 24h).
	longest := auth.DefaultMaxLifetime
	if v := os.Getenv("AUTH_MAX_TOKEN_LIFETIME"); v != "" {
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			longest = d
		}
	}
	if *ttl > longest {
		return fmt.Errorf("--ttl %s is longer than AUTH_MAX_TOKEN_LIFETIME (%s): the service would refuse the token", *ttl, longest)
	}
	o := auth.MintOptions{Role: auth.Role(*role), Org: *org, TTL: *ttl, Subject: *sub, Name: *name, Title: *title, FHIRUser: *fhirUser, Areas: areas,
		Audience: os.Getenv("AUTH_AUDIENCE")}
	if len(scopes) > 0 {
		o.Scopes = scopes
	}
	tok, err := auth.Mint(os.Getenv("AUTH_DEV_HS256_SECRET"), o)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

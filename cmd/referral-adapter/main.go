// Command referral-adapter runs the FHIR R4 social prescribing referral
// adapter, and offers operator subcommands:
//
//	referral-adapter                 serve (the default)
//	referral-adapter serve
//	referral-adapter token --role practice --org A81001 [--name n] [--title t] [--fhir-user ref] [--scope s] [--area a] [--ttl 1h]
//	referral-adapter jobs list
//	referral-adapter jobs run NAME
//	referral-adapter demo [--months 4] [--per-week 45] [--seed 1] [--browser 127.0.0.1:8081]
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	_ "time/tzdata" // Europe/London deadlines on minimal images
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		stop()
		fmt.Fprintln(os.Stderr, "referral-adapter:", err)
		os.Exit(1)
	}
}

// errUsage reports a bad command line.
var errUsage = errors.New("usage: referral-adapter [serve | token --role ROLE --org ODS [--name N] [--title T] [--fhir-user REF] [--scope S]... [--area A]... [--ttl D] | jobs list | jobs run NAME | demo [--months N] [--per-week N] [--seed N] [--browser ADDR]]")

func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, stderr)
	case "token":
		return token(args, stdout, stderr)
	case "jobs":
		return jobsCommand(ctx, args, stdout, stderr)
	case "demo":
		return demoCommand(ctx, args, stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, errUsage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%w", cmd, errUsage)
}

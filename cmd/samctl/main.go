// Command samctl sets up and checks a Microsoft partner's Secure Application
// Model: the SAM app, its consent, its refresh token, and access to every
// customer tenant. Run "samctl demo" to see all of it against a built-in
// sandbox, with no credentials and no network.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

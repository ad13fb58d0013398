package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/exchange"
	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/partner"
	"github.com/samkit/samkit/sam"
	"github.com/samkit/samkit/token"
)

// Exit codes: 0 when everything checked passed, 1 when something failed,
// 2 for a command line samctl cannot run, 130 after Ctrl-C (as shells
// report a process ended by SIGINT).
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// app is one invocation of samctl: its streams and global flags.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	credentials string
	cloudName   string
	jsonOut     bool
	sandboxURL  string
	sandboxCA   string
	verbose     bool

	log *slog.Logger
}

// run executes samctl with args and returns its exit code. It is main
// without the process: tests call it directly.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	return a.fail(ctx, err)
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "samctl",
		Short: "Set up and check Microsoft's Secure Application Model for a partner",
		Long: `samctl creates a partner's SAM app, consents it, keeps its refresh token,
lists the customer tenants and checks access to each of them.

Start with "samctl demo": it runs everything against a built-in sandbox of
the Microsoft cloud, with no credentials and no network.

Credentials are read from the file given by --credentials (by default
samkit/credentials.json in your configuration directory, written by
"samctl setup") or, when --credentials is not given, from the SAMKIT_
environment variables if they are set (SAMKIT_TENANT_ID,
SAMKIT_APPLICATION_ID, SAMKIT_CLIENT_SECRET, SAMKIT_REFRESH_TOKEN…).`,
		Example: `  samctl demo
  samctl setup --display-name "Contoso SAM"
  samctl check
  samctl check --tenant fabrikam.onmicrosoft.com --json`,
		Args:          usageArgs(cobra.NoArgs),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE:          func(c *cobra.Command, _ []string) error { return c.Help() },
		PersistentPreRunE: func(c *cobra.Command, _ []string) error {
			return a.prepare(c)
		},
	}
	f := root.PersistentFlags()
	f.StringVar(&a.credentials, "credentials", "", "credentials file (default: samkit/credentials.json in your configuration directory)")
	f.StringVar(&a.cloudName, "cloud", "", "Microsoft cloud: public, usgov, usgovdod or china (default: the one saved with the credentials)")
	f.BoolVar(&a.jsonOut, "json", false, "print one JSON object instead of text")
	f.StringVar(&a.sandboxURL, "sandbox", "", "use the sandbox served by 'samctl sandbox' at this URL instead of Microsoft's cloud")
	f.StringVar(&a.sandboxCA, "sandbox-ca", "", "the sandbox's TLS certificate (PEM); default: the file 'samctl sandbox' wrote for that URL")
	f.BoolVarP(&a.verbose, "verbose", "v", false, "log every request to stderr (secrets redacted)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err: err, cmd: c.CommandPath()} })

	root.AddCommand(a.demoCommand(), a.setupCommand(), a.checkCommand(), a.tenantsCommand(), a.inspectCommand(),
		a.consentCommand(), a.rotateCommand(), a.tokenCommand(), a.sandboxCommand())
	return root
}

// prepare checks the global flags once they are parsed.
func (a *app) prepare(c *cobra.Command) error {
	if a.verbose {
		a.log = slog.New(httpx.NewRedactingHandler(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelDebug})))
	}
	if a.sandboxURL != "" && a.cloudName != "" {
		return usageError{err: errors.New("--sandbox and --cloud cannot be used together"), cmd: c.CommandPath()}
	}
	if a.cloudName != "" {
		if _, err := cloud.ByName(a.cloudName); err != nil {
			return usageError{err: fmt.Errorf("--cloud %q: use public, usgov, usgovdod or china", a.cloudName), cmd: c.CommandPath()}
		}
	}
	if a.sandboxCA != "" && a.sandboxURL == "" {
		return usageError{err: errors.New("--sandbox-ca needs --sandbox URL"), cmd: c.CommandPath()}
	}
	return nil
}

// usageError is a command line samctl cannot run: exit code 2.
type usageError struct {
	err error
	cmd string
}

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usageArgs makes cobra's argument checks usage errors.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if err := check(c, args); err != nil {
			return usageError{err: err, cmd: c.CommandPath()}
		}
		return nil
	}
}

// exactArgs wants n arguments, described by what.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return usageArgs(func(c *cobra.Command, args []string) error {
		if len(args) != n {
			return fmt.Errorf("%s needs %s", c.CommandPath(), what)
		}
		return nil
	})
}

// fixError is an error with what to do about it.
type fixError struct {
	err error
	fix string
}

func (e fixError) Error() string { return e.err.Error() }
func (e fixError) Unwrap() error { return e.err }

func withFix(err error, fix string) error { return fixError{err: err, fix: fix} }

// silentFailure ends a command that has already reported its outcome (an
// access check with failures): nothing more is printed.
type silentFailure struct{ code int }

func (e silentFailure) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// fail prints err in a line or two, with its fix when one is known, and
// returns the exit code.
func (a *app) fail(ctx context.Context, err error) int {
	var (
		sf silentFailure
		ue usageError
	)
	switch {
	case errors.As(err, &sf):
		return sf.code
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		fmt.Fprintln(a.stderr, "samctl: interrupted")
		return exitInterrupted
	case errors.As(err, &ue):
		fmt.Fprintf(a.stderr, "samctl: %s (see '%s --help')\n", oneLine(err), ue.cmd)
		return exitUsage
	}
	fmt.Fprintf(a.stderr, "samctl: %s\n", oneLine(err))
	if fix := fixFor(err); fix != "" {
		fmt.Fprintf(a.stderr, "  fix: %s\n", oneLine(errors.New(fix)))
	}
	return exitFailed
}

// packagePrefixes are the prefixes samkit's packages start their errors
// with; after "samctl: " they only add noise.
var packagePrefixes = []string{"sam: ", "token: ", "graph: ", "partner: ", "exchange: ", "cloud: "}

// oneLine flattens an error's text to a single line (joined errors are
// separated by newlines) without its package prefix.
func oneLine(err error) string {
	s := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
	for _, p := range packagePrefixes {
		if strings.HasPrefix(s, p) {
			return s[len(p):]
		}
	}
	return s
}

// fixFor finds what a person should do about err: the hint of the
// service error inside it, or samctl's own advice.
func fixFor(err error) string {
	var (
		fe fixError
		se *sam.SetupError
		te *token.Error
		pe *partner.Error
		xe *exchange.Error
	)
	switch {
	case errors.As(err, &fe):
		return fe.fix
	case errors.As(err, &se):
		return se.Fix
	case errors.Is(err, sam.ErrNoCredentials):
		return "run 'samctl setup' to create the credentials, pass --credentials PATH, or set SAMKIT_TENANT_ID, SAMKIT_APPLICATION_ID, SAMKIT_CLIENT_SECRET and SAMKIT_REFRESH_TOKEN"
	case errors.As(err, &te):
		return te.Hint()
	case errors.As(err, &pe):
		return pe.Hint()
	case errors.As(err, &xe):
		return xe.Hint()
	}
	return ""
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/internal/httpx"
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
	stores      storeFlags
	cloudName   string
	cloudFile   string
	// custom is the cloud --cloud-file describes.
	custom     *cloud.Configuration
	jsonOut    bool
	output     string
	sandboxURL string
	sandboxCA  string
	verbose    bool
	timeout    time.Duration

	log *slog.Logger
	// deadline is the context --timeout bounds, and stop releases it.
	deadline context.Context
	stop     context.CancelFunc
	watcher  *deadlineWatch
	// cloud and partnerTenant are those of the credentials in use, once
	// known: failures name the services by them.
	cloud         cloud.Configuration
	partnerTenant string
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
	if a.stop != nil {
		defer a.stop()
	}
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
SAMKIT_APPLICATION_ID, SAMKIT_CLIENT_SECRET, SAMKIT_REFRESH_TOKEN…).

Exit codes:
  0    everything checked passed
  1    something failed (a check, a tenant source, the credentials, the network)
  2    usage error: a command line samctl cannot run
  130  interrupted (Ctrl-C)`,
		Example: `  samctl demo
  samctl setup --display-name "Contoso SAM"
  samctl check
  samctl check --tenant fabrikam.onmicrosoft.com -o json`,
		Args:          subcommandArgs,
		Version:       readBuildInfo().String(),
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
	f.StringVar(&a.cloudFile, "cloud-file", "", "a custom cloud: a JSON file naming its login, Graph, Partner Center and Exchange endpoints")
	f.StringVarP(&a.output, "output", "o", "table", "output format: table (text for people) or json (one JSON object for scripts)")
	f.BoolVar(&a.jsonOut, "json", false, "print one JSON object instead of text (same as -o json)")
	f.StringVar(&a.sandboxURL, "sandbox", "", "use the sandbox served by 'samctl sandbox' at this URL instead of Microsoft's cloud")
	f.StringVar(&a.sandboxCA, "sandbox-ca", "", "the sandbox's TLS certificate (PEM); default: the file 'samctl sandbox' wrote for that URL")
	f.BoolVarP(&a.verbose, "verbose", "v", false, "log every request to stderr (secrets redacted)")
	f.DurationVar(&a.timeout, "timeout", 0, "give up after this long (e.g. 30s, 5m), naming the service that did not answer; 0 waits as long as the services answer")
	a.addStoreFlags(root)
	_ = root.RegisterFlagCompletionFunc("cloud", fixedCompletion(cloudNames()...))
	_ = root.RegisterFlagCompletionFunc("output", fixedCompletion("table", "json"))
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err: err, cmd: c.CommandPath()} })

	root.AddCommand(a.demoCommand(), a.setupCommand(), a.checkCommand(), a.tenantsCommand(), a.inspectCommand(),
		a.consentCommand(), a.rotateCredentialsCommand(), a.rotateCommand(), a.tokenCommand(), a.sandboxCommand(), a.versionCommand(),
		a.doctorCommand(), a.keepaliveCommand(), a.gdapCommand(), a.onboardCommand(), a.offboardCommand())
	return root
}

// fixedCompletion completes a flag's value from a fixed list.
func fixedCompletion(values ...string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// prepare checks the global flags once they are parsed.
func (a *app) prepare(c *cobra.Command) error {
	if a.verbose {
		a.log = slog.New(httpx.NewRedactingHandler(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelDebug})))
	}
	switch a.output {
	case "json":
		a.jsonOut = true
	case "table", "text":
		if c.Flags().Changed("output") && a.jsonOut {
			return usageError{err: fmt.Errorf("--json and -o %s disagree: use one of them", a.output), cmd: c.CommandPath()}
		}
	default:
		return usageError{err: fmt.Errorf("-o %q: use table or json", a.output), cmd: c.CommandPath()}
	}
	if !a.jsonOut && useColor(a.stdout, os.Getenv) {
		a.stdout = colorWriter{a.stdout}
	}
	if err := oneCloud(a); err != nil {
		return usageError{err: err, cmd: c.CommandPath()}
	}
	if a.cloudFile != "" {
		custom, err := readCloudFile(a.cloudFile)
		if err != nil {
			return usageError{err: err, cmd: c.CommandPath()}
		}
		a.custom = &custom
	}
	if a.cloudName != "" {
		if _, err := cloud.ByName(a.cloudName); err != nil {
			return usageError{err: fmt.Errorf("--cloud %q: use public, usgov, usgovdod or china", a.cloudName), cmd: c.CommandPath()}
		}
	}
	if a.sandboxCA != "" && a.sandboxURL == "" {
		return usageError{err: errors.New("--sandbox-ca needs --sandbox URL"), cmd: c.CommandPath()}
	}
	if a.timeout < 0 {
		return usageError{err: fmt.Errorf("--timeout %s is negative", a.timeout), cmd: c.CommandPath()}
	}
	if a.timeout > 0 {
		a.deadline, a.stop = context.WithTimeout(c.Context(), a.timeout)
		c.SetContext(a.deadline)
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

// subcommandArgs refuses an argument to a command that only groups
// others, suggesting the subcommand it most likely meant.
func subcommandArgs(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2
	}
	err := fmt.Errorf("unknown command %q for %q", args[0], c.CommandPath())
	if s := c.SuggestionsFor(args[0]); len(s) > 0 {
		err = fmt.Errorf("%w: did you mean %q?", err, s[0])
	}
	return usageError{err: err, cmd: c.CommandPath()}
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

// fail prints err in at most three lines, with its fix when one is known
// (see writeProblem), and returns the exit code.
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
		printf(a.stderr, "samctl: %s (see '%s --help')\n", oneLine(err), ue.cmd)
		if fix := fixFor(err); fix != "" {
			printf(a.stderr, "  fix: %s\n", fix)
		}
		return exitUsage
	}
	writeProblem(a.stderr, a.problems(err))
	return exitFailed
}

// problems tells err as problemsOf does, knowing the run: the cloud in
// use names the services, and a sandbox that does not know the
// credentials has most likely been restarted.
func (a *app) problems(err error) []problem {
	var timeout time.Duration
	if a.deadline != nil && errors.Is(a.deadline.Err(), context.DeadlineExceeded) {
		timeout = a.timeout
	}
	if timeout > 0 {
		// Whatever else failed, it failed for want of time: name the
		// request the deadline caught.
		if u := a.watcher.hung(); u != "" {
			err = &url.Error{Op: "request", URL: u, Err: context.DeadlineExceeded}
		}
		return []problem{problemOf(err, a.cloud, timeout)}
	}
	ps := problemsOf(err, a.cloud, timeout)
	var te *token.Error
	if a.sandboxURL != "" && errors.As(err, &te) && te.Tenant == a.partnerTenant &&
		(errors.Is(te, token.ErrTenantNotFound) || errors.Is(te, token.ErrAppNotFound)) {
		ps[0].fix = "the sandbox at " + a.sandboxURL + " does not know these credentials: if it was restarted, use the credentials file it printed when it started"
	}
	return ps
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
func fixFor(err error) string { return problemOf(err, cloud.Configuration{}, 0).fix }

// cloudNames lists the names --cloud takes, for completion.
func cloudNames() []string {
	var names []string
	for _, c := range cloud.Builtins() {
		names = append(names, c.Name)
	}
	return names
}

// oneCloud refuses more than one of --sandbox, --cloud and --cloud-file.
func oneCloud(a *app) error {
	var set []string
	for _, f := range []struct{ name, value string }{{"--sandbox", a.sandboxURL}, {"--cloud", a.cloudName}, {"--cloud-file", a.cloudFile}} {
		if f.value != "" {
			set = append(set, f.name)
		}
	}
	if len(set) > 1 {
		return fmt.Errorf("%s cannot be used together: choose one cloud", strings.Join(set, " and "))
	}
	return nil
}

// readCloudFile reads the custom cloud of --cloud-file.
func readCloudFile(path string) (cloud.Configuration, error) {
	f, err := os.Open(path)
	if err != nil {
		return cloud.Configuration{}, withFix(fmt.Errorf("--cloud-file: %w", err), "pass the path of a JSON file describing the cloud's endpoints")
	}
	defer f.Close()
	c, err := cloud.Parse(f)
	if err != nil {
		return cloud.Configuration{}, withFix(fmt.Errorf("--cloud-file %s: %w", path, err),
			`write {"name": …, "loginEndpoint": "https://…", "graph": {"endpoint": …, "resource": …}, "partnerCenter": {…}, "exchange": {…}} with every endpoint an https URL`)
	}
	return c, nil
}

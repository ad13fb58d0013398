package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/samkit/samkit/exchange"
	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/partner"
	"github.com/samkit/samkit/sam"
	"github.com/samkit/samkit/token"
)

const (
	markOK   = "✓"
	markFail = "✗"
	markSkip = "-"
)

// printJSON writes v as the command's one JSON object. "&" and "<" stay
// as they are: JSON output is read by programs, not embedded in HTML,
// and a URL with \u0026 in it cannot be pasted.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// isTerminal reports whether w is an interactive terminal.
func isTerminal(w any) bool {
	if c, ok := w.(colorWriter); ok {
		w = c.w
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func table(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }

// progress shows how far a long run is: a bar when stderr is a terminal,
// otherwise a plain line every few seconds (none with --json, whose readers
// want a quiet stderr).
type progress struct {
	bar   *progressbar.ProgressBar
	w     io.Writer
	label string
	total int
	last  time.Time
}

// plainProgressEvery spaces the plain progress lines: a log gets a sign of
// life from a long run, a short run prints none.
const plainProgressEvery = 5 * time.Second

func (a *app) progress(total int, label string) *progress {
	p := &progress{label: label, total: total, last: time.Now()}
	switch {
	case total == 0:
	case isTerminal(a.stderr):
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(a.stderr), progressbar.OptionSetDescription(label),
			progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish(),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionSetWidth(30))
	case !a.jsonOut:
		p.w = a.stderr
	}
	return p
}

// set reports that done of total are done, failed of them with failures.
func (p *progress) set(done, failed int) {
	switch {
	case p.bar != nil:
		if failed > 0 {
			p.bar.Describe(fmt.Sprintf("%s (%d failed)", p.label, failed))
		}
		_ = p.bar.Set(done)
	case p.w != nil && done < p.total && time.Since(p.last) >= plainProgressEvery:
		p.last = time.Now()
		printf(p.w, "%s: %d of %d done, %d failed\n", p.label, done, p.total, failed)
	}
}

// finish removes the bar, so that what follows starts on a clean line.
func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// checkTitle is a check's column heading.
func checkTitle(c sam.Check) string {
	switch c {
	case sam.CheckDelegatedGraph:
		return "GRAPH"
	case sam.CheckDelegatedExchange:
		return "EXCHANGE"
	case sam.CheckAppGraph:
		return "GRAPH (APP)"
	case sam.CheckPartnerCenter:
		return "PARTNER CENTER"
	}
	return strings.ToUpper(string(c))
}

func outcomeMark(o sam.Outcome) string {
	switch o {
	case sam.OutcomePassed:
		return markOK
	case sam.OutcomeFailed:
		return markFail
	}
	return markSkip
}

// tableWidth is the width the access report fits in: a terminal's
// default, and what a log or an e-mail shows without wrapping.
const tableWidth = 80

// writeReport prints an access report as a person reads it, within
// tableWidth columns: a row per tenant checked (names and domains
// shortened to fit), then each failure with its code and what to do
// (wrapped at word boundaries, so a GUID stays whole), then the line the
// PowerShell test script ended with, with the lines of note just before
// it, each escaped on its own. A run cut
// short shows the tenants it checked and counts the others.
func writeReport(w io.Writer, rep *sam.AccessReport, note []string) {
	var perTenant []sam.Check
	for _, c := range rep.Checks {
		if c != sam.CheckPartnerCenter {
			perTenant = append(perTenant, c)
		}
	}
	var shown []sam.TenantResult
	for _, t := range rep.Tenants {
		if slices.ContainsFunc(t.Checks, func(c sam.CheckResult) bool { return c.Outcome != sam.OutcomeSkipped }) {
			shown = append(shown, t)
		}
	}
	if len(shown) > 0 && len(perTenant) > 0 {
		nameW, domainW := nameColumns(shown, perTenant)
		tw := table(w)
		printf(tw, "TENANT\tDOMAIN")
		for _, c := range perTenant {
			printf(tw, "\t%s", checkTitle(c))
		}
		printLine(tw)
		for _, t := range shown {
			printf(tw, "%s\t%s", truncate(safe(orDash(t.Tenant.DisplayName)), nameW), truncate(safe(orDash(t.Tenant.DefaultDomain)), domainW))
			for _, c := range t.Checks {
				printf(tw, "\t%s", outcomeMark(c.Outcome))
			}
			printLine(tw)
		}
		tw.Flush()
	}
	if n := len(rep.Tenants) - len(shown); n > 0 && len(perTenant) > 0 {
		printf(w, "\n%s not checked: the run was cut short.\n", plural(n, "tenant", "tenants"))
	}
	if pc := rep.PartnerCenter; pc != nil {
		printf(w, "\n%s Partner Center (partner tenant)\n", outcomeMark(pc.Outcome))
		if pc.Outcome == sam.OutcomeFailed {
			writeFailure(w, *pc)
		}
	}
	if failures := rep.Failures(); len(failures) > 0 {
		printf(w, "\nFailures:\n")
		for _, t := range failures {
			label := t.Tenant.ID
			if t.Tenant.DisplayName != "" {
				// The id stays whole: it is what a person pastes.
				label = truncate(safe(t.Tenant.DisplayName), tableWidth-len(t.Tenant.ID)-6) + " (" + t.Tenant.ID + ")"
			}
			printf(w, "\n%s %s\n", markFail, label)
			for _, c := range t.Checks {
				if c.Outcome == sam.OutcomeFailed {
					writeFailure(w, c)
				}
			}
		}
	}
	printLine(w)
	if rep.Throttled > 0 {
		printf(w, "Throttled %s; every worker waited out the service's Retry-After.\n", plural(rep.Throttled, "time", "times"))
	}
	for _, l := range note {
		printLine(w, l)
	}
	printLine(w, rep.Summary())
}

// nameColumns shares what the check columns leave of tableWidth between
// the tenant name and domain columns.
func nameColumns(rows []sam.TenantResult, checks []sam.Check) (nameW, domainW int) {
	const pad = 2 // tabwriter's padding
	left := tableWidth - 2*pad
	for _, c := range checks {
		left -= len(checkTitle(c)) + pad
	}
	longestName, longestDomain := len("TENANT"), len("DOMAIN")
	for _, t := range rows {
		longestName = max(longestName, utf8.RuneCountInString(safe(t.Tenant.DisplayName)))
		longestDomain = max(longestDomain, utf8.RuneCountInString(t.Tenant.DefaultDomain))
	}
	if longestName+longestDomain <= left {
		return longestName, longestDomain
	}
	// Domains are what people paste: they keep their width while the
	// names keep at least a readable start.
	const least = 16
	domainW = min(longestDomain, left-least)
	return left - domainW, domainW
}

// writeFailure prints a failed check: its code, then its fix wrapped to
// tableWidth.
func writeFailure(w io.Writer, c sam.CheckResult) {
	code := c.Code
	if code == "" {
		code = "no answer"
	}
	printf(w, "    %s: %s\n", checkTitle(c.Check), code)
	if c.Hint == "" {
		return
	}
	const first, rest = "      fix: ", "           "
	for i, l := range wrap(safe(c.Hint), tableWidth-len(first)) {
		prefix := first
		if i > 0 {
			prefix = rest
		}
		printf(w, "%s%s\n", prefix, l)
	}
}

// reason is the gist of an error for a listing: the service's code and
// the first sentence of its message.
func reason(err error) string {
	var (
		te *token.Error
		pe *partner.Error
		ge *graph.Error
		xe *exchange.Error
	)
	switch {
	case errors.As(err, &te):
		code := te.Code
		if len(te.Codes) > 0 {
			code = fmt.Sprintf("AADSTS%d", te.Codes[0])
		}
		return code + ": " + firstSentence(aadstsPrefix.ReplaceAllString(te.Description, ""))
	case errors.As(err, &pe):
		return fmt.Sprintf("Partner Center answered %d (code %s): %s", pe.StatusCode, pe.Code, firstSentence(pe.Description))
	case errors.As(err, &ge):
		return fmt.Sprintf("Graph answered %d %s: %s", ge.StatusCode, ge.Code, firstSentence(ge.Message))
	case errors.As(err, &xe):
		return fmt.Sprintf("Exchange answered %d %s: %s", xe.StatusCode, xe.Code, firstSentence(xe.Message))
	}
	return oneLine(err)
}

var aadstsPrefix = regexp.MustCompile(`^AADSTS\d+: `)

// firstSentence keeps a service's message to its first sentence.
func firstSentence(s string) string {
	s = oneLine(errors.New(s))
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// failureJSON is one failed check in --json output.
type failureJSON struct {
	TenantID string    `json:"tenantId"`
	Tenant   string    `json:"tenant"`
	Check    sam.Check `json:"check"`
	Code     string    `json:"code,omitempty"`
	Status   int       `json:"status,omitempty"`
	Message  string    `json:"message"`
	Hint     string    `json:"hint,omitempty"`
}

// checkJSON is an access check in --json output: the measures of the run
// first (what a benchmark reads), then its outcome tenant by tenant. Every
// duration is in milliseconds, in a field whose name ends in _ms.
type checkJSON struct {
	OK            bool                    `json:"ok"`
	Summary       string                  `json:"summary"`
	DurationMS    int64                   `json:"duration_ms"`
	Requests      int64                   `json:"requests"`
	TokenRequests int64                   `json:"tokenRequests"`
	Throttled     int                     `json:"throttled"`
	Concurrency   int                     `json:"concurrency"`
	Tenants       int                     `json:"tenants"`
	FailedTenants int                     `json:"failedTenants"`
	Totals        map[sam.Check]sam.Tally `json:"totals"`
	Failures      []failureJSON           `json:"failures"`
	Warnings      []string                `json:"warnings,omitempty"`
	Results       []tenantResultJSON      `json:"results"`
	PartnerCenter *checkResultJSON        `json:"partnerCenter,omitempty"`
	// Stopped is the failure of the credentials that stopped the run.
	Stopped *checkResultJSON `json:"stopped,omitempty"`
}

// tenantResultJSON and checkResultJSON are sam's results with their
// durations in milliseconds.
type tenantResultJSON struct {
	Tenant     sam.Tenant        `json:"tenant"`
	Checks     []checkResultJSON `json:"checks"`
	DurationMS int64             `json:"duration_ms"`
}

type checkResultJSON struct {
	Check      sam.Check   `json:"check"`
	Outcome    sam.Outcome `json:"outcome"`
	Code       string      `json:"code,omitempty"`
	Status     int         `json:"status,omitempty"`
	Message    string      `json:"message,omitempty"`
	Hint       string      `json:"hint,omitempty"`
	DurationMS int64       `json:"duration_ms"`
}

func checkResultOf(c *sam.CheckResult) *checkResultJSON {
	if c == nil {
		return nil
	}
	return &checkResultJSON{Check: c.Check, Outcome: c.Outcome, Code: c.Code, Status: c.Status, Message: c.Message, Hint: c.Hint,
		DurationMS: c.Duration.Milliseconds()}
}

func reportJSON(rep *sam.AccessReport, requests, tokenRequests int64, warnings []string) checkJSON {
	out := checkJSON{
		OK: rep.OK() && len(warnings) == 0, Summary: rep.Summary(),
		DurationMS: rep.Duration.Milliseconds(),
		Requests:   requests, TokenRequests: tokenRequests, Throttled: rep.Throttled, Concurrency: rep.Concurrency,
		Tenants: len(rep.Tenants), FailedTenants: len(rep.Failures()), Totals: rep.Totals,
		Failures: []failureJSON{}, Warnings: warnings, Results: make([]tenantResultJSON, 0, len(rep.Tenants)),
		PartnerCenter: checkResultOf(rep.PartnerCenter), Stopped: checkResultOf(rep.Stopped),
	}
	for _, t := range rep.Tenants {
		r := tenantResultJSON{Tenant: t.Tenant, Checks: make([]checkResultJSON, len(t.Checks)), DurationMS: t.Duration.Milliseconds()}
		for i := range t.Checks {
			r.Checks[i] = *checkResultOf(&t.Checks[i])
		}
		out.Results = append(out.Results, r)
	}
	for _, t := range rep.Failures() {
		for _, c := range t.Checks {
			if c.Outcome == sam.OutcomeFailed {
				out.Failures = append(out.Failures, failureJSON{TenantID: t.Tenant.ID, Tenant: t.Tenant.DisplayName, Check: c.Check,
					Code: c.Code, Status: c.Status, Message: c.Message, Hint: c.Hint})
			}
		}
	}
	return out
}

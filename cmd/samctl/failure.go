package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/exchange"
	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/partner"
	"github.com/samkit/samkit/sam"
	"github.com/samkit/samkit/token"
)

// A failure that ends a whole run is told once, in at most three lines of
// at most maxLineWidth characters: what went wrong, then what to do.
//
//	samctl: AADSTS7000215 invalid_client for tenant 1c8f…: Invalid client secret provided.
//	  fix: The client secret is wrong — often the secret's ID was pasted instead of its value: paste the secret value.
//
// The error it comes from is often a tree: three tenant sources that all
// failed on the same bad secret, each wrapped in the layers it crossed
// ("graph: GET …: getting a token: token: …"). problemOf goes to the cause
// that a person can act on — the identity platform's verdict, a service's
// error, a network failure — and tells it without the layers; failing
// branches that tell the same thing are told once.
const (
	maxLineWidth = 160
	maxFixLines  = 2
)

// problem is an error as a person reads it.
type problem struct {
	what string // one line, without "samctl: "
	fix  string // what to do; "" when nothing better than the message is known
}

// problemOf finds what went wrong in err and what to do about it. c names
// the services of the cloud in use (zero when not known yet); timeout is
// the --timeout that ran out, when it did.
func problemOf(err error, c cloud.Configuration, timeout time.Duration) problem {
	var (
		fe fixError
		se *sam.SetupError
		te *token.Error
		pe *partner.Error
		xe *exchange.Error
		ge *graph.Error
	)
	switch {
	case errors.As(err, &fe):
		return problem{what: oneLine(err), fix: fe.fix}
	case errors.As(err, &se):
		return problem{what: oneLine(err), fix: se.Fix}
	case errors.Is(err, sam.ErrNoCredentials):
		return problem{what: oneLine(err), fix: "run 'samctl setup', pass --credentials PATH, or set SAMKIT_TENANT_ID, SAMKIT_APPLICATION_ID, SAMKIT_CLIENT_SECRET and SAMKIT_REFRESH_TOKEN"}
	case errors.As(err, &te):
		return problem{what: oneLine(te), fix: te.Hint()}
	case timeout > 0 && errors.Is(err, context.DeadlineExceeded):
		svc, host := serviceOf(err, c)
		return problem{what: fmt.Sprintf("%s did not answer within --timeout %s", svc, timeout),
			fix: fmt.Sprintf("check the network path to %s (proxy, firewall) and the service's status, or allow more time with --timeout", host)}
	}
	var (
		he *httpx.TimeoutError
		re *httpx.RedirectError
	)
	switch {
	case errors.As(err, &he):
		svc, _ := serviceOf(&url.Error{URL: "https://" + he.Host + "/"}, c)
		if svc == "https://"+he.Host {
			svc = "a service"
		}
		return problem{what: fmt.Sprintf("%s: %s", svc, he.Error()),
			fix: fmt.Sprintf("check the network path to %s (proxy, firewall) and the service's status, then retry", he.Host)}
	case errors.As(err, &re):
		svc, _ := serviceOf(err, c)
		return problem{what: fmt.Sprintf("%s: %s", svc, re.Error()),
			fix: "a proxy, captive portal or wrong endpoint answers in the service's place: check the cloud's endpoints and the network path"}
	}
	if p, ok := networkProblem(err, c); ok {
		return p
	}
	switch {
	case errors.As(err, &pe):
		return problem{what: reason(pe), fix: pe.Hint()}
	case errors.As(err, &xe):
		return problem{what: reason(xe), fix: xe.Hint()}
	case errors.As(err, &ge):
		return problem{what: reason(ge)}
	}
	// Only an error that is no service's answer is read for its text.
	if p, ok := networkProblem(retyped(err), c); ok {
		return p
	}
	return problem{what: oneLine(err)}
}

// networkProblem tells the failures of the network below HTTP: a name
// that does not resolve, a port nothing listens on, a certificate that is
// not trusted, a connection that timed out.
func networkProblem(err error, c cloud.Configuration) (problem, bool) {
	var (
		dns     *net.DNSError
		unknown x509.UnknownAuthorityError
		name    x509.HostnameError
		invalid x509.CertificateInvalidError
		verify  *tls.CertificateVerificationError
		record  tls.RecordHeaderError
		ne      net.Error
	)
	if err == nil {
		return problem{}, false
	}
	svc, host := serviceOf(err, c)
	switch {
	case errors.As(err, &dns):
		return problem{what: fmt.Sprintf("cannot reach %s: the name %s does not resolve (DNS)", svc, dns.Name),
			fix: "check the address and this machine's DNS and proxy settings (HTTPS_PROXY); a custom cloud's endpoints may be mistyped"}, true
	case errors.Is(err, syscall.ECONNREFUSED):
		return problem{what: fmt.Sprintf("cannot reach %s: connection to %s refused", svc, host),
			fix: "nothing listens at that address: check it and any proxy or firewall on the way; a sandbox must be running ('samctl sandbox')"}, true
	case errors.As(err, &unknown), errors.As(err, &name), errors.As(err, &invalid), errors.As(err, &verify):
		return problem{what: fmt.Sprintf("cannot reach %s: the TLS certificate of %s is not trusted (%s)", svc, host, tlsReason(err)),
			fix: "a proxy that inspects TLS needs its root certificate in the system's store; for a sandbox, pass the certificate it wrote (--sandbox-ca)"}, true
	case errors.As(err, &record):
		return problem{what: fmt.Sprintf("cannot reach %s: %s does not speak TLS", svc, host),
			fix: "the address is not an https endpoint: check the port and the scheme"}, true
	case errors.As(err, &ne) && ne.Timeout():
		return problem{what: fmt.Sprintf("%s at %s did not answer in time", svc, host),
			fix: "check the network path (proxy, firewall) and the service's status, then retry; --timeout bounds the whole command"}, true
	}
	return problem{}, false
}

// Some libraries (MSAL's sign-in among them) keep only the text of a
// network error. retyped reads that text back into the error Go's
// net/http would have returned, so that networkProblem can tell it; it
// returns nil when the text is of no network failure it knows.
var quotedURL = regexp.MustCompile(`"(https?://[^"\s]+)"`)

func retyped(err error) error {
	text := err.Error()
	var cause error
	switch {
	case strings.Contains(text, "connection refused"):
		cause = syscall.ECONNREFUSED
	case strings.Contains(text, "no such host"):
		cause = &net.DNSError{Err: "no such host", IsNotFound: true}
	case strings.Contains(text, "x509: certificate has expired"):
		cause = x509.CertificateInvalidError{Reason: x509.Expired}
	case strings.Contains(text, "x509: certificate is valid for"):
		cause = x509.HostnameError{Certificate: &x509.Certificate{}}
	case strings.Contains(text, "x509: "):
		cause = x509.UnknownAuthorityError{}
	case strings.Contains(text, "i/o timeout"), strings.Contains(text, "Client.Timeout exceeded"):
		cause = timeoutText{}
	default:
		return nil
	}
	u := ""
	if m := quotedURL.FindStringSubmatch(text); m != nil {
		u = m[1]
	}
	if dns, ok := cause.(*net.DNSError); ok {
		if parsed, perr := url.Parse(u); perr == nil {
			dns.Name = parsed.Hostname()
		}
	}
	return &url.Error{Op: "request", URL: u, Err: cause}
}

// timeoutText is a timeout known only by its text.
type timeoutText struct{}

func (timeoutText) Error() string   { return "i/o timeout" }
func (timeoutText) Timeout() bool   { return true }
func (timeoutText) Temporary() bool { return true }

// tlsReason is the gist of a certificate failure, without the chain's
// details.
func tlsReason(err error) string {
	var (
		name    x509.HostnameError
		invalid x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &name):
		return "it names another host"
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return "it has expired or is not yet valid"
	case errors.As(err, &invalid):
		return "it is not valid for this use"
	}
	return "signed by an unknown authority"
}

// serviceOf names the service a failed request went to, from the URL in
// err ("Microsoft Graph", "the sign-in service (Entra ID)"), and its
// address as scheme://host: never a path or query, which may carry a
// tenant's data. c is the cloud in use; when it is zero, Microsoft's
// public cloud names the usual hosts.
func serviceOf(err error, c cloud.Configuration) (service, host string) {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return "a Microsoft service", "the service"
	}
	u, perr := url.Parse(ue.URL)
	if perr != nil || u.Host == "" {
		return "a Microsoft service", "the service"
	}
	host = u.Scheme + "://" + u.Host
	for _, cfg := range append([]cloud.Configuration{c}, cloud.Builtins()...) {
		for _, s := range []struct{ name, endpoint string }{
			{"the sign-in service (Entra ID)", cfg.LoginEndpoint},
			{"Microsoft Graph", cfg.Graph.Endpoint},
			{"Partner Center", cfg.PartnerCenter.Endpoint},
			{"Exchange Online", cfg.Exchange.Endpoint},
		} {
			if s.endpoint != "" && underEndpoint(u, s.endpoint) && !(s.endpoint == cfg.LoginEndpoint && servedBelow(u, cfg)) {
				return s.name, host
			}
		}
	}
	return host, host
}

// underEndpoint reports whether u is at or below endpoint.
func underEndpoint(u *url.URL, endpoint string) bool {
	e, err := url.Parse(endpoint)
	if err != nil || !strings.EqualFold(e.Host, u.Host) || e.Scheme != u.Scheme {
		return false
	}
	p := strings.TrimSuffix(e.Path, "/")
	return p == "" || u.Path == p || strings.HasPrefix(u.Path, p+"/")
}

// servedBelow reports whether u is one of c's services served under the
// login host, as a sandbox serves them all from one address.
func servedBelow(u *url.URL, c cloud.Configuration) bool {
	for _, s := range []string{c.Graph.Endpoint, c.PartnerCenter.Endpoint, c.Exchange.Endpoint} {
		if s != "" && s != c.LoginEndpoint && underEndpoint(u, s) {
			return true
		}
	}
	return false
}

// leaves splits joined errors (errors.Join, and errors that unwrap to
// several) into the failures they hold.
func leaves(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leaves(e)...)
		}
		return out
	}
	return []error{err}
}

// problemsOf is problemOf for each failure err holds, each told once.
func problemsOf(err error, c cloud.Configuration, timeout time.Duration) []problem {
	var out []problem
	for _, e := range leaves(err) {
		p := problemOf(e, c, timeout)
		if !containsProblem(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func containsProblem(ps []problem, p problem) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// writeProblem prints the first problem of ps (and how many others there
// are) in at most 1+maxFixLines lines of at most maxLineWidth characters.
func writeProblem(w io.Writer, ps []problem) {
	if len(ps) == 0 {
		return
	}
	p := ps[0]
	what := p.what
	if n := len(ps) - 1; n > 0 {
		what += fmt.Sprintf(" (and %s)", plural(n, "other failure", "other failures"))
	}
	printf(w, "%s\n", truncate("samctl: "+safe(what), maxLineWidth))
	if p.fix == "" {
		return
	}
	lines := wrap(safe(oneLine(errors.New(p.fix))), maxLineWidth-len("  fix: "))
	if len(lines) > maxFixLines {
		lines = lines[:maxFixLines]
		lines[maxFixLines-1] = truncate(lines[maxFixLines-1]+" …", maxLineWidth-len("  fix: "))
	}
	for i, l := range lines {
		prefix := "  fix: "
		if i > 0 {
			prefix = "       "
		}
		printf(w, "%s%s\n", prefix, l)
	}
}

package sam

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/samkit/samkit/exchange"
	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/partner"
	"github.com/samkit/samkit/token"
)

// describe fills a failed check's code, status, message and hint from
// err. A token failure is looked for first: the API clients wrap the
// token errors they meet.
func describe(res *CheckResult, t Tenant, err error) {
	res.Err, res.Message = err, err.Error()
	var (
		te *token.Error
		ge *graph.Error
		xe *exchange.Error
		pe *partner.Error
	)
	switch {
	case errors.As(err, &te):
		// The token package's hint, as samctl prints it everywhere and
		// the README's table of hints shows it.
		res.Status, res.Code = te.StatusCode, tokenCode(te)
		res.Hint = te.Hint()
	case errors.As(err, &ge):
		res.Status, res.Code = ge.StatusCode, orHTTP(ge.Code, ge.StatusCode)
		res.Hint = graphHint(res.Check, t, ge)
	case errors.As(err, &xe):
		res.Status, res.Code = xe.StatusCode, orHTTP(xe.Code, xe.StatusCode)
		res.Hint = exchangeHint(t, xe)
	case errors.As(err, &pe):
		res.Status, res.Code = pe.StatusCode, orHTTP(pe.Code, pe.StatusCode)
		res.Hint = pe.Hint()
		if res.Hint == "" {
			res.Hint = fmt.Sprintf("Partner Center answered HTTP %d: see the message, and quote its MS-CorrelationId to Microsoft support if it persists.", pe.StatusCode)
		}
	case errors.Is(err, token.ErrNoRefreshToken):
		res.Hint = "The stored credentials hold no refresh token: run the consent sign-in (samctl setup) to get one."
	default:
		res.Hint = fmt.Sprintf("The request for %s did not complete: check the network path to %s (proxy, firewall, DNS, TLS inspection) and run the check again.",
			t.Label(), serviceOf(res.Check))
	}
}

func tokenCode(e *token.Error) string {
	switch {
	case len(e.Codes) > 0:
		return "AADSTS" + strconv.Itoa(e.Codes[0])
	case e.Code != "":
		return e.Code
	}
	return "HTTP " + strconv.Itoa(e.StatusCode)
}

func orHTTP(code string, status int) string {
	if code != "" {
		return code
	}
	return "HTTP " + strconv.Itoa(status)
}

func serviceOf(c Check) string {
	switch c {
	case CheckDelegatedExchange:
		return "Exchange Online"
	case CheckPartnerCenter:
		return "Partner Center"
	}
	return "Microsoft Graph"
}

func graphHint(c Check, t Tenant, e *graph.Error) string {
	name, id := t.Label(), t.ID
	switch {
	case e.StatusCode == http.StatusForbidden && c == CheckAppGraph:
		return fmt.Sprintf("The SAM app holds no Graph application permission to read tenant %s: add Directory.Read.All (application) to the app and push consent again (samctl consent push %s).", name, id)
	case e.StatusCode == http.StatusForbidden:
		return fmt.Sprintf("Graph would not list users in tenant %s: the admin's GDAP roles there, or the SAM app's consented Graph permissions, do not allow it. Give the GDAP relationship a role that reads the directory (Directory Readers, Global Reader) and push consent again (samctl consent push %s).", name, id)
	case e.StatusCode == http.StatusUnauthorized:
		return fmt.Sprintf("Microsoft Graph refused the token for tenant %s: push consent again (samctl consent push %s); if that does not help, re-run the consent sign-in (samctl setup).", name, id)
	case e.StatusCode == http.StatusTooManyRequests:
		return fmt.Sprintf("Microsoft Graph kept throttling tenant %s after the retries: run the check again later, or with fewer tenants at once.", name)
	case e.StatusCode >= 500:
		return fmt.Sprintf("Microsoft Graph failed for tenant %s (HTTP %d): run the check again later; quote request-id %s to Microsoft support if it persists.", name, e.StatusCode, e.RequestID)
	}
	return fmt.Sprintf("Microsoft Graph answered HTTP %d for tenant %s: see the message; quote request-id %s to Microsoft support if it persists.", e.StatusCode, name, e.RequestID)
}

func exchangeHint(t Tenant, e *exchange.Error) string {
	if e.StatusCode == http.StatusForbidden {
		return fmt.Sprintf("The admin has no Exchange management role in tenant %s: add Exchange Administrator to the GDAP relationship with this customer and put the admin in the security group it is assigned to.", t.Label())
	}
	if e.StatusCode == http.StatusGone {
		return "Microsoft has switched off the Exchange Online admin API's InvokeCommand (beta) endpoint, which this check calls: check through the Exchange Online Admin API v2.0 instead (samctl check --exchange-api v2; CheckOptions.ExchangeAPI = exchange.APIV2), after adding its permission Exchange.ManageV2 to the SAM app and consenting again."
	}
	if h := e.Hint(); h != "" {
		return h
	}
	return fmt.Sprintf("Exchange Online answered HTTP %d for tenant %s: see the message; quote its request-id to Microsoft support if it persists.", e.StatusCode, t.Label())
}

package exchange

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/samkit/samkit/internal/faulttest/marker"
)

// Admin API answers as the service, gateways and broken connections give
// them. SECRET marks where a credential sits.
var exchangeBodies = []string{
	`{"error":{"code":"BadRequest","message":"Invalid Operation","details":[{"code":"Client","target":"","message":"|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'x' couldn't be found on 'y'."}],"innererror":{"message":"m","type":"t","internalexception":{"message":"inner","type":"Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException"}}}}`,
	`{"error":{"code":"BadRequest","message":"Invalid Operation","details":[{"code":"Client","message":"|System.Management.Automation.CommandNotFoundException|The term 'Get-Nothing' is not recognized."}]}}`,
	`{"error":{"code":"Forbidden","message":"Access denied","innererror":{"internalException":{"message":"Bearer SECRET"}}}}`,
	`{"error":{"code":"x","message":"refresh_token=SECRET","details":[{"message":"|T|access_token=SECRET"}]}}`,
	`{"@odata.context":"x","value":[{"Identity":"x","secretText":"SECRET"}]}`,
	`{"error":{"code":"x","message":"echo {\"client_secret\":\"SECRET`,
	`<html><head><title>503 Service Unavailable</title></head><body>client_assertion=SECRET</body></html>`,
	`{"token_type":"Bearer","value":[{"id":"0000`,
	``,
	`{"error":[]}`,
}

// FuzzError: whatever the admin API answers, with whatever
// x-ms-diagnostics, the client's error keeps the status, names the cmdlet
// and tenant, never panics, and never prints a credential the answer held.
func FuzzError(f *testing.F) {
	for _, b := range exchangeBodies {
		for _, status := range []int{200, 400, 401, 403, 429, 500} {
			f.Add(status, "application/json", "", []byte(b))
		}
	}
	f.Add(401, "", `2000008;reason="The token contains no permissions, or permissions can not be understood.";error_category="invalid_grant"`, []byte{})
	f.Add(401, "", `2000001;reason="Bearer SECRET is invalid";error_category="invalid_token"`, []byte{})
	f.Add(401, "", `;reason="`, []byte{})
	f.Fuzz(func(t *testing.T, status int, contentType, diagnostics string, body []byte) {
		if status < 100 || status > 999 {
			return
		}
		text, secretsPlaced := marker.WithMarker(body)
		diag, diagPlaced := marker.WithMarker([]byte(diagnostics))
		resp := &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {contentType}}}
		if diag != "" {
			resp.Header.Set("x-ms-diagnostics", diag)
		}
		e := newError("Get-Mailbox", "contoso.com", resp.StatusCode, resp.Header, []byte(text), "req")
		if e.StatusCode != status || !strings.HasPrefix(e.Error(), "exchange: Get-Mailbox in contoso.com failed: ") || e.RequestID != "req" {
			t.Fatalf("error %q: %+v", e.Error(), e)
		}
		if errors.Is(e, ErrUnauthorized) != (status == http.StatusUnauthorized) || errors.Is(e, ErrThrottled) != (status == http.StatusTooManyRequests) {
			t.Fatalf("status %d matches the wrong sentinels", status)
		}
		_ = e.Hint()
		described := describeBody(contentType, []byte(text))
		if secretsPlaced && diagPlaced {
			marker.NoMarker(t, e.Error(), fmt.Sprintf("%+v", e), described)
		}
	})
}

package partner

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/samkit/samkit/internal/faulttest/marker"
)

// Partner Center answers as the service, gateways and broken connections
// give them. SECRET marks where a credential sits.
var partnerBodies = []string{
	`{"code":"600008","description":"The requested resource was not found.","data":[],"source":"PartnerFD"}`,
	`{"code":900421,"description":"Multi-factor authentication is required.","source":"PartnerFD"}`,
	`{"code":null,"description":"Permission entry already exists."}`,
	`{"code":"2032","description":"Access denied: Authorization: Bearer SECRET","data":["access_token=SECRET"],"source":"PartnerFD"}`,
	`{"totalCount":1,"items":[{"id":"c","companyProfile":{"tenantId":"c","domain":"contoso.com","companyName":"Contoso"},"relationshipToPartner":"reseller"}],"links":{"next":{"uri":"/customers?size=1&seekOperation=Next","method":"GET","headers":[{"key":"MS-ContinuationToken","value":"x"}]}}}`,
	`{"applicationId":"a","displayName":"SAM","applicationGrants":[{"enterpriseApplicationId":"00000003-0000-0000-c000-000000000000","scope":"Directory.Read.All"}],"client_secret":"SECRET"}`,
	`{"code":"x","description":"echo {\"refresh_token\":\"SECRET`,
	`<html><head><title>502 Bad Gateway</title></head><body>refresh_token=SECRET</body></html>`,
	`{"token_type":"Bearer","value":[{"id":"0000`,
	``,
	`[]`,
}

// FuzzError: whatever Partner Center answers, the client's error keeps
// the status and the request's ids, names the operation, never panics,
// and never prints a credential the answer held; the same holds for a
// success answer whose body cannot be used.
func FuzzError(f *testing.F) {
	for _, b := range partnerBodies {
		for _, status := range []int{200, 400, 401, 403, 404, 409, 429, 500} {
			f.Add(status, "application/json", []byte(b))
		}
	}
	f.Add(502, "text/html; charset=utf-8", []byte(partnerBodies[7]))
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		if status < 100 || status > 999 {
			return
		}
		text, secretsPlaced := marker.WithMarker(body)
		op := &operation{name: "list customers", correlationID: "corr"}
		resp := &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {contentType}}}
		e := newError(op, resp.StatusCode, resp.Header, []byte(text), "req")
		if e.StatusCode != status || e.Operation != op.name || e.RequestID != "req" || e.CorrelationID != "corr" ||
			!strings.HasPrefix(e.Error(), "partner: list customers: ") {
			t.Fatalf("error %q: %+v", e.Error(), e)
		}
		if errors.Is(e, ErrNotFound) != (status == http.StatusNotFound) || errors.Is(e, ErrThrottled) != (status == http.StatusTooManyRequests) {
			t.Fatalf("status %d matches the wrong sentinels", status)
		}
		_ = e.Hint()
		texts := []string{e.Error(), fmt.Sprintf("%+v", e)}
		var page customerPage
		if err := json.Unmarshal([]byte(text), &page); err != nil {
			bad := op.undecodable(&response{status: status, body: []byte(text), requestID: "req"}, "decoding a page", err)
			if bad.StatusCode != status || !strings.HasPrefix(bad.Error(), "partner: list customers: ") {
				t.Fatalf("undecodable page: %q", bad.Error())
			}
			texts = append(texts, bad.Error())
		}
		if secretsPlaced {
			marker.NoMarker(t, texts...)
		}
	})
}

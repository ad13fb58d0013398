package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/samkit/samkit/internal/faulttest/marker"
)

// Graph answers as the service, gateways and broken connections give them.
// SECRET marks where a credential sits.
var graphBodies = []string{
	`{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation.","innerError":{"date":"2026-01-01T08:55:37","request-id":"9a1c0b1e-0000-4000-8000-000000000001","client-request-id":"9a1c0b1e-0000-4000-8000-000000000002"}}}`,
	`{"error":{"code":"InvalidAuthenticationToken","message":"Access token has expired or is not yet valid.","innerError":{"date":"2026-01-01T08:55:37Z","request-id":"r"}}}`,
	`{"error":{"code":"TooManyRequests","message":"Too many requests.","details":[{"code":"x","message":"y","target":"z"}]}}`,
	`{"error":{"code":"Request_BadRequest","message":"Invalid value specified for property 'secretText' of resource 'PasswordCredential'."}}`,
	`{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.passwordCredential","customKeyIdentifier":null,"displayName":"samkit","endDateTime":"2028-01-01T00:00:00Z","hint":"Abc","keyId":"k","secretText":"SECRET","startDateTime":"2026-01-01T00:00:00Z"}`,
	`{"@odata.context":"x","displayName":"samkit","hint":"Abc","keyId":"k","secretText":"SECRET`,
	`{"error":{"code":"x","message":"Bearer SECRET was refused: access_token=SECRET"}}`,
	`{"error":{"code":"x","message":"token eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJ0aWQiOiJ4In0.SECRET expired"}}`,
	`<html><head><title>504 Gateway Time-out</title></head><body>client_secret=SECRET</body></html>`,
	"<!-- İstek \xff -->\n<TITLE>502 Proxy Error</TITLE>",
	`{"token_type":"Bearer","value":[{"id":"0000`,
	``,
	`{"error":null}`,
	`{"error":"invalid"}`,
}

// FuzzError: whatever Graph answers, the client's error keeps the status,
// names the call, never panics, and never prints a credential the answer
// held; the same holds for a $batch item and for a success answer whose
// body cannot be used.
func FuzzError(f *testing.F) {
	for _, b := range graphBodies {
		for _, status := range []int{200, 400, 401, 403, 404, 429, 503} {
			f.Add(status, "application/json", "", []byte(b))
		}
	}
	f.Add(429, "application/json", "1.5", []byte(graphBodies[2]))
	f.Add(503, "text/html", "Wed, 21 Oct 2015 07:28:00 GMT", []byte(graphBodies[8]))
	f.Add(429, "", "-1", []byte{})
	f.Fuzz(func(t *testing.T, status int, contentType, retryAfter string, body []byte) {
		if status < 100 || status > 999 {
			return
		}
		text, secretsPlaced := marker.WithMarker(body)
		resp := &http.Response{StatusCode: status, Header: http.Header{}}
		resp.Header.Set("Content-Type", contentType)
		resp.Header.Set("Retry-After", retryAfter)
		e := newError(resp.StatusCode, resp.Header, []byte(text), http.MethodGet, "/users", "crid")
		if e.StatusCode != status || !strings.HasPrefix(e.Error(), "graph: GET /users: ") || e.RetryAfter < 0 {
			t.Fatalf("error %q: status %d, retry after %v", e.Error(), e.StatusCode, e.RetryAfter)
		}
		if errors.Is(e, ErrNotFound) != (status == http.StatusNotFound) || errors.Is(e, ErrUnavailable) != (status >= 500) {
			t.Fatalf("status %d matches the wrong sentinels", status)
		}
		item := BatchResponse{ID: "1", Status: status, Headers: map[string]string{"retry-after": retryAfter, "Content-Type": contentType},
			Body: json.RawMessage(text), method: http.MethodGet, url: "/users"}
		itemErr := item.Err()
		if (itemErr != nil) != (status >= 400) {
			t.Fatalf("$batch item of status %d: err %v", status, itemErr)
		}
		var ie *Error
		if itemErr != nil && (!errors.As(itemErr, &ie) || ie.StatusCode != status) {
			t.Fatalf("$batch item error %v is not an *Error of status %d", itemErr, status)
		}
		var v map[string]any
		decoded := describeBody(contentType, []byte(text), json.Unmarshal([]byte(text), &v))
		if secretsPlaced {
			marker.NoMarker(t, e.Error(), fmt.Sprintf("%+v", e), decoded, fmt.Sprint(itemErr))
		}
	})
}

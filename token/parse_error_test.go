package token

import (
	"errors"
	"strings"
	"testing"
)

func TestParseError(t *testing.T) {
	t.Parallel()
	const consent = `{"error":"invalid_grant","error_description":"AADSTS65001: The user or administrator has not consented. Trace ID: t Correlation ID: c Timestamp: 2026-01-01 08:55:37Z","error_codes":[65001],"suberror":"consent_required","trace_id":"t","correlation_id":"c"}`
	tests := []struct {
		name, contentType, body string
		status                  int
		want                    error
		wantDesc                string
	}{
		{"microsoft json", "application/json; charset=utf-8", consent, 400, ErrConsentRequired, "AADSTS65001"},
		{"codes only in description", "application/json", `{"error":"invalid_grant","error_description":"AADSTS700082: The refresh token has expired due to inactivity."}`, 400, ErrRefreshTokenExpired, "inactivity"},
		{"html from a proxy", "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>", 502, nil, "unexpected response (text/html): 502 Bad Gateway"},
		{"empty body", "", "", 503, nil, "empty response body"},
		{"json without error", "application/json", `{"unexpected":true}`, 500, nil, "unexpected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := ParseError(tt.status, tt.contentType, []byte(tt.body), "contoso.onmicrosoft.com", "https://graph.microsoft.com/.default", "https://login.example/x/oauth2/v2.0/token")
			if e.StatusCode != tt.status || e.Tenant != "contoso.onmicrosoft.com" {
				t.Errorf("got status %d tenant %q, want %d and the tenant", e.StatusCode, e.Tenant, tt.status)
			}
			if tt.want != nil && !errors.Is(e, tt.want) {
				t.Errorf("errors.Is(%v, %v) = false", e, tt.want)
			}
			if !strings.Contains(e.Description, tt.wantDesc) {
				t.Errorf("Description = %q, want it to contain %q", e.Description, tt.wantDesc)
			}
		})
	}
}

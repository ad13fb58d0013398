package token

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// msBody is the identity platform's error body for code, as the service
// writes it.
func msBody(oauthErr string, code int, msg, extra string) string {
	return fmt.Sprintf(`{"error":%q,"error_description":"AADSTS%d: %s\r\nTrace ID: 0f1e2d3c-trace\r\nCorrelation ID: 9a8b7c6d-corr\r\nTimestamp: 2026-01-01 08:55:37Z","error_codes":[%d],"timestamp":"2026-01-01 08:55:37Z","trace_id":"0f1e2d3c-trace","correlation_id":"9a8b7c6d-corr","error_uri":"https://login.microsoftonline.com/error?code=%d"%s}`,
		oauthErr, code, msg, code, code, extra)
}

var allSentinels = []error{ErrConsentRequired, ErrConsentDeclined, ErrMFARequired, ErrConditionalAccess, ErrSignInFrequency,
	ErrRevoked, ErrRefreshTokenInvalid, ErrRefreshTokenExpired, ErrInvalidClient, ErrSecretExpired, ErrAppNotFound,
	ErrTenantNotFound, ErrNotInGDAPGroups, ErrThrottled, ErrInteractionRequired}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	const tenant = "contoso.com"
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		is          []error
		wantMsg     string // exact Error()
		wantHint    string // substring of Hint()
	}{
		{"consent", 400, "application/json", msBody("invalid_grant", 65001, "The user or administrator has not consented to use the application with ID '11111111-2222-3333-4444-555555555555' named 'SAM'. Send an interactive authorization request for this user and resource.", `,"suberror":"consent_required"`),
			[]error{ErrConsentRequired},
			"token: AADSTS65001 consent_required for tenant contoso.com: The user or administrator has not consented to use the application with ID '11111111-2222-3333-4444-555555555555' named 'SAM'.",
			"push CPV consent to this customer (samctl consent push contoso.com)"},
		{"MFA with claims", 400, "application/json", msBody("invalid_grant", 50076, "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access 'https://graph.microsoft.com'.", `,"suberror":"basic_action","claims":"{\"access_token\":{\"capolids\":{\"essential\":true,\"values\":[\"c1\"]}}}"`),
			[]error{ErrMFARequired}, "", "complete MFA"},
		{"MFA registration", 400, "application/json", msBody("interaction_required", 50079, "Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication.", ""),
			[]error{ErrMFARequired, ErrInteractionRequired}, "", "register for MFA"},
		{"conditional access", 400, "application/json", msBody("invalid_grant", 53003, "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.", ""),
			[]error{ErrConditionalAccess}, "", "Conditional Access policy in tenant contoso.com"},
		{"revoked", 400, "application/json", msBody("invalid_grant", 50173, "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.", ""),
			[]error{ErrRevoked}, "", "samctl setup"},
		{"expired by inactivity 70008", 400, "application/json", msBody("invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.", ""),
			[]error{ErrRevoked}, "", "re-run the consent sign-in"},
		{"idle 90 days", 400, "application/json", msBody("invalid_grant", 700082, "The refresh token has expired due to inactivity. The token was issued on 2025-10-01T08:00:00Z and was inactive for 90.00:00:00.", ""),
			[]error{ErrRefreshTokenExpired},
			"token: AADSTS700082 invalid_grant for tenant contoso.com: The refresh token has expired due to inactivity.",
			"The refresh token was unused for 90 days and has expired: re-run the consent sign-in (samctl setup) and persist rotated tokens so it never idles."},
		{"secret ID pasted", 401, "application/json", msBody("invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '11111111-2222-3333-4444-555555555555'.", ""),
			[]error{ErrInvalidClient}, "", "The client secret is wrong — often the secret's ID was pasted instead of its value: paste the secret value."},
		{"secret expired", 401, "application/json", msBody("invalid_client", 7000222, "The provided client secret keys for app '11111111-2222-3333-4444-555555555555' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.", ""),
			[]error{ErrSecretExpired, ErrInvalidClient}, "", "samctl rotate-secret"},
		{"public client with secret", 401, "application/json", msBody("invalid_client", 700025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.", ""),
			[]error{ErrInvalidClient}, "", "public"},
		{"app not found", 400, "application/json", msBody("unauthorized_client", 700016, "Application with identifier '11111111-2222-3333-4444-555555555555' was not found in the directory 'Contoso'.", ""),
			[]error{ErrAppNotFound}, "", "check the application (client) ID"},
		{"tenant not found", 400, "application/json", msBody("invalid_request", 90002, "Tenant 'contoso.com' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", ""),
			[]error{ErrTenantNotFound}, "", "Tenant contoso.com was not found"},
		{"not in GDAP groups", 400, "application/json", msBody("invalid_grant", 50020, "User account 'admin@partner.onmicrosoft.com' from identity provider 'https://sts.windows.net/aaaa/' does not exist in tenant 'Contoso' and cannot access the application.", ""),
			[]error{ErrNotInGDAPGroups}, "", "GDAP relationship"},
		{"not in GDAP groups 50177", 400, "application/json", msBody("invalid_grant", 50177, "User account is from an external tenant that is not allowed to access this application.", ""),
			[]error{ErrNotInGDAPGroups}, "", "security groups"},
		{"throttled", 429, "", "", []error{ErrThrottled}, "token: HTTP 429 for tenant contoso.com: empty response body", "throttling"},
		{"error in a 200", 200, "application/json", `{"error":"invalid_grant","error_description":"AADSTS70000: Provided grant is invalid or malformed.","error_codes":[70000]}`,
			[]error{ErrRefreshTokenInvalid}, "token: AADSTS70000 invalid_grant for tenant contoso.com: Provided grant is invalid or malformed.", "samctl setup"},
		{"codes only in description", 400, "application/json", `{"error":"invalid_client","error_description":"AADSTS7000222: The provided client secret keys are expired."}`,
			[]error{ErrSecretExpired, ErrInvalidClient}, "", "rotate-secret"},
		{"generic invalid_client", 401, "application/json", `{"error":"invalid_client","error_description":"Something new."}`,
			[]error{ErrInvalidClient}, "token: invalid_client for tenant contoso.com: Something new.", "check the application ID"},
		{"proxy HTML", 502, "text/html; charset=utf-8", "<html><head><style>body{}</style><script>var t='x';</script></head><body><h1>502 Bad Gateway</h1>\n<p>upstream https://login.example/t?code=SECRETCODE failed</p></body></html>",
			nil, "token: HTTP 502 for tenant contoso.com: unexpected response (text/html): 502 Bad Gateway upstream https://login.example/t failed", "proxy"},
		{"empty 503", 503, "", "", nil, "token: HTTP 503 for tenant contoso.com: empty response body", "outage"},
		{"JSON without error", 500, "application/json", `{"message":"boom"}`, nil, `token: HTTP 500 for tenant contoso.com: {"message":"boom"}`, "outage"},
		{"200 without token", 200, "application/json", `{"token_type":"Bearer"}`, nil, "token: HTTP 200 for tenant contoso.com: the token response has no access_token", ""},
		{"200 not JSON", 200, "text/plain", "OK", nil, "token: HTTP 200 for tenant contoso.com: unexpected response (text/plain): OK", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := &http.Response{StatusCode: tt.status, Header: http.Header{}}
			if tt.contentType != "" {
				resp.Header.Set("Content-Type", tt.contentType)
			}
			k := cacheKey{kind: Delegated, tenant: tenant, scope: graphScope}
			_, err := decodeTokenResponse(resp, []byte(tt.body), nil, k, "https://login.example/contoso.com/oauth2/v2.0/token")
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want a *Error", err)
			}
			for _, s := range allSentinels {
				want := false
				for _, w := range tt.is {
					want = want || w == s
				}
				if got := errors.Is(err, s); got != want {
					t.Errorf("errors.Is(err, %v) = %v, want %v", s, got, want)
				}
			}
			if tt.wantMsg != "" && e.Error() != tt.wantMsg {
				t.Errorf("Error()\n got %q\nwant %q", e.Error(), tt.wantMsg)
			}
			if !strings.Contains(e.Hint(), tt.wantHint) || e.Hint() == "" {
				t.Errorf("Hint() = %q, want it to contain %q", e.Hint(), tt.wantHint)
			}
			if strings.Contains(e.Error(), "Trace ID") || strings.Contains(e.Error(), "\n") {
				t.Errorf("Error() is not one sentence on one line: %q", e.Error())
			}
			if strings.Contains(e.Error()+e.Description, "SECRETCODE") {
				t.Errorf("error quotes a secret: %q", e.Error())
			}
			if e.StatusCode != tt.status || e.Tenant != tenant || e.Scope != graphScope {
				t.Errorf("status %d tenant %q scope %q; want %d, %q, %q", e.StatusCode, e.Tenant, e.Scope, tt.status, tenant, graphScope)
			}
		})
	}
}

func TestErrorFields(t *testing.T) {
	t.Parallel()
	body := msBody("invalid_grant", 50076, "You must use multi-factor authentication.", `,"suberror":"basic_action","claims":"{\"access_token\":{\"capolids\":{\"essential\":true}}}"`)
	resp := &http.Response{StatusCode: 400, Header: http.Header{"Content-Type": {"application/json"}}}
	_, err := decodeTokenResponse(resp, []byte(body), nil, cacheKey{tenant: "t"}, "https://login.example/t/oauth2/v2.0/token")
	e := err.(*Error)
	want := Error{StatusCode: 400, Code: "invalid_grant", SubError: "basic_action", TraceID: "0f1e2d3c-trace", CorrelationID: "9a8b7c6d-corr",
		Timestamp: "2026-01-01 08:55:37Z", Claims: `{"access_token":{"capolids":{"essential":true}}}`, Tenant: "t", Endpoint: "https://login.example/t/oauth2/v2.0/token"}
	if e.StatusCode != want.StatusCode || e.Code != want.Code || e.SubError != want.SubError || e.TraceID != want.TraceID ||
		e.CorrelationID != want.CorrelationID || e.Timestamp != want.Timestamp || e.Claims != want.Claims || e.Endpoint != want.Endpoint ||
		fmt.Sprint(e.Codes) != "[50076]" || !strings.HasPrefix(e.Description, "AADSTS50076: You must use") {
		t.Errorf("decoded %+v\nwant %+v", *e, want)
	}
	if got := e.Error(); got != "token: AADSTS50076 basic_action for tenant t: You must use multi-factor authentication." {
		t.Errorf("Error() = %q", got)
	}
}

func TestFirstSentence(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"AADSTS65001: One. Two.", "One."},
		{"AADSTS90002: Tenant 'contoso.com' not found. Check it.", "Tenant 'contoso.com' not found."},
		{"AADSTS50076: Line one\r\nTrace ID: x", "Line one"},
		{"No code here Trace ID: x", "No code here"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := firstSentence(tt.in); got != tt.want {
			t.Errorf("firstSentence(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestExcerpt(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 500)
	if got := excerpt([]byte(long)); len([]rune(got)) != 201 {
		t.Errorf("excerpt of 500 runes has %d runes, want 200 and an ellipsis", len([]rune(got)))
	}
	if got := excerpt([]byte("a\x00b\x1bc\n\nd eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig")); got != "a b c d [redacted]" {
		t.Errorf("excerpt = %q", got)
	}
}

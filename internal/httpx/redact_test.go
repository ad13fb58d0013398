package httpx

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRedactURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://login.example/t/oauth2/v2.0/token", "https://login.example/t/oauth2/v2.0/token"},
		{"https://host/cb?code=abc&state=x#frag", "https://host/cb"},
		{"https://user:pw@host/p?q=1", "https://host/p"},
		{"https://graph.example/v1.0/users?$skiptoken=XYZ", "https://graph.example/v1.0/users"},
		{"https://host/a%2Fb?x=1", "https://host/a%2Fb"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := RedactURL(u); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if RedactURL(nil) != "" {
		t.Error("RedactURL(nil) is not empty")
	}
}

func TestRedactText(t *testing.T) {
	t.Parallel()
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{`Post "https://h/p?code=SECRET&x=1": EOF`, `Post "https://h/p": EOF`},
		{"token " + jwt + " end", "token [redacted] end"},
		{"Authorization: Bearer abc.def-ghi", "Authorization: Bearer [redacted]"},
		{"grant_type=refresh_token&refresh_token=RT123&client_secret=CS456&code=C789", "grant_type=refresh_token&refresh_token=[redacted]&client_secret=[redacted]&code=[redacted]"},
		{`{"access_token":"AT","code":"Authorization_RequestDenied","secretText":"ST"}`, `{"access_token":"[redacted]","code":"Authorization_RequestDenied","secretText":"[redacted]"}`},
		{"error_code=42 status code: 500", "error_code=42 status code: 500"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, RedactText(tt.in), "RedactText(%q)", tt.in)
	}
}

// TestRedactTextShapes: each shape of credential that an earlier,
// expression-based redactor let through.
func TestRedactTextShapes(t *testing.T) {
	t.Parallel()
	// RFC 7516 appendix A.1: a JWE in compact form has five parts.
	jwe := "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ." +
		"OKOawDo13gRp2ojaHV7LFpZcgV7T6DVZKTyKOMTYUmKoTCVJRgckCL9kiMT03JGeipsEdY3mx_etLbbWSrFr05kLzcSr4qKAq7YN7e9jwQRb23nfa6c9d-StnImGyFDbSv04uVuxIp5Zms1gNxKKK2Da14B8S4rzVRltdYwam_lDp5XnZAYpQdb76FdIKLaVmqgfwX7XWRxv2322i-vDxRfqNzo_tETKzpVLzfiwQyeyPGLBIO56YJ7eObdv0je81860ppamavo35UgoRdbYaBcoh9QcfylQr66oc6vFWXRcZ_ZT2LawVCWTIy3brGPi6UklfCpIMfIjf7iGdXKHzg." +
		"48V1_ALb6US04U3b." +
		"5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6jiSdiwkIr3ajwQzaBtQD_A." +
		"XFBoMYUZodetZdvTiFvSkQ"
	tests := []struct {
		name, in, want string
	}{
		{"overlapping quoted fields", `""ACCess_token":","refresh_token":"SECRET`, `""ACCess_token":"[redacted]"refresh_token":"[redacted]`},
		{"a name as the value of another", `password:"refresh_token":"SECRET"`, `password:"[redacted]":"[redacted]"`},
		{"JWE, five parts", "token " + jwe + " end", "token [redacted] end"},
		{"JWE, direct encryption", "token eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..48V1_ALb6US04U3b.5eym8TW_c8SuK0.XFBoMYUZodetZdvTiFvSkQ end", "token [redacted] end"},
		{"form inside a JSON string", `{"body":"scope=x\u0026client_secret=SECRET\u0026grant_type=client_credentials"}`, `{"body":"scope=x\u0026client_secret=[redacted]\u0026grant_type=client_credentials"}`},
		{"JSON inside a JSON string", `{"detail":"{\"refresh_token\":\"SECRET\"}"}`, `{"detail":"{\"refresh_token\":\"[redacted]\"}"}`},
		{"name: value", "client_secret: SECRET\ntenant: t", "client_secret: [redacted]\ntenant: t"},
		{"single-quoted value", "client_secret='SECRET PART'", "client_secret='[redacted]'"},
		{"single-quoted member", "{'refresh_token': 'SECRET', 'scope': 's'}", "{'refresh_token': '[redacted]', 'scope': 's'}"},
		{"camelCase members", `{"refreshToken":"SECRET","clientSecret":"SECRET","accessToken":"SECRET","idToken":"SECRET"}`,
			`{"refreshToken":"[redacted]","clientSecret":"[redacted]","accessToken":"[redacted]","idToken":"[redacted]"}`},
		{"camelCase form field", "clientSecret=SECRET&refresh-token=SECRET", "clientSecret=[redacted]&refresh-token=[redacted]"},
		{"Basic authorization", "Authorization: Basic dXNlcjpTRUNSRVQ=", "Authorization: Basic [redacted]"},
		{"authorization in a header dump", "map[Authorization:[Basic dXNlcjpTRUNSRVQ=]]", "map[Authorization:[Basic [redacted]]]"},
		{"authorization with no scheme", "authorization=SECRET", "authorization=[redacted]"},
		{"quoted authorization", `{"Authorization":"Basic SECRET"}`, `{"Authorization":"[redacted]"}`},
		{"a query between a name and its value", "GET https://h/cb?password= SECRET", "GET https://h/cb [redacted]"},
		{"a name left by a query", "https://h/password?x= :SECRET", "https://h/password :[redacted]"},
		{"a body cut short", `{"token_type":"Bearer","refresh_token":"SECR`, `{"token_type":"Bearer","refresh_token":"[redacted]`},
		// What is not a credential stays, since people need it.
		{"codes and counts", `{"code":"AADSTS50076","error_codes":[50076],"refresh_token_expires_in":3600,"token_type":"Bearer"}`,
			`{"code":"AADSTS50076","error_codes":[50076],"refresh_token_expires_in":3600,"token_type":"Bearer"}`},
		{"prose", "AADSTS70008: The provided authorization code or refresh token has expired. status code: 400",
			"AADSTS70008: The provided authorization code or refresh token has expired. status code: 400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := RedactText(tt.in)
			assert.Equal(t, tt.want, got)
			assert.NotContains(t, got, "SECRET")
			assert.Equal(t, got, RedactText(got), "redacting twice changes nothing more")
		})
	}
}

func TestRedactError(t *testing.T) {
	t.Parallel()
	ue := &url.Error{Op: "Post", URL: "https://h/p?code=SECRET", Err: context.Canceled}
	got := RedactError(ue)
	if strings.Contains(got.Error(), "SECRET") || !strings.Contains(got.Error(), "https://h/p") {
		t.Errorf("RedactError = %q, want the URL without its query", got)
	}
	if !errors.Is(got, context.Canceled) {
		t.Error("RedactError lost the cause")
	}
	plain := errors.New("x")
	if RedactError(plain) != plain || RedactError(nil) != nil {
		t.Error("RedactError changed an error that holds no URL")
	}
}

func TestIsSecretKey(t *testing.T) {
	t.Parallel()
	for _, k := range []string{"client_secret", "Password", "refresh_token", "access_token", "token", "client_assertion", "assertion", "code", "code_verifier", "Authorization", "X-Api-Key-Secret", "Cookie", "set-cookie", "api_key", "credentials"} {
		if !IsSecretKey(k) {
			t.Errorf("IsSecretKey(%q) = false, want true", k)
		}
	}
	for _, k := range []string{"tenant", "scope", "status", "status_code", "error_codes", "trace_id", "url", "grant", "duration", "method"} {
		if IsSecretKey(k) {
			t.Errorf("IsSecretKey(%q) = true, want false", k)
		}
	}
}

func TestExcerpt(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"<h1>502 Bad\r\nGateway</h1>", "<h1>502 Bad Gateway</h1>"},
		{"a\x00b\x97Bearer eyJhbGciOi.x.y", "a b " + "Bearer " + Redacted},
		{strings.Repeat("x", 250), strings.Repeat("x", 200) + "…"},
	}
	for _, tt := range tests {
		if got := Excerpt([]byte(tt.in)); got != tt.want {
			t.Errorf("Excerpt(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// BenchmarkRedactText: redaction runs on every error message and log line,
// so the common cases (prose, and a token endpoint's JSON error) stay cheap.
func BenchmarkRedactText(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"prose", "AADSTS700082: The refresh token has expired due to inactivity. The token was issued on 2026-01-01 and was inactive for 90.00:00:00. Trace ID: 5b0e8c1a Correlation ID: 0c3b8e2f Timestamp: 2026-04-01 10:00:00Z"},
		{"json", `{"error":"invalid_grant","error_description":"AADSTS50076: Due to a configuration change made by your administrator, you must use multi-factor authentication.","error_codes":[50076],"timestamp":"2026-04-01 10:00:00Z","trace_id":"5b0e8c1a","correlation_id":"0c3b8e2f","suberror":"basic_action","refresh_token":"0.AXYA-secret-value"}`},
		{"url", `Get "https://graph.microsoft.com/v1.0/users?$skiptoken=RFNwdAIAAQAAAB8&$top=999": context deadline exceeded`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				RedactText(bc.in)
			}
		})
	}
}

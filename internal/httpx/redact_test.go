package httpx

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
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
		if got := RedactText(tt.in); got != tt.want {
			t.Errorf("RedactText(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
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

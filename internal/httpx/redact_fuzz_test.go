package httpx_test

import (
	"testing"
	"time"

	"github.com/samkit/samkit/internal/faulttest/marker"
	"github.com/samkit/samkit/internal/httpx"
)

// FuzzRedactText: a credential in free text — a JSON or form member, a
// bearer header, a JWT — never survives redaction, even in a body cut
// short in the middle of it; and redacting twice changes nothing more.
func FuzzRedactText(f *testing.F) {
	for _, s := range []string{
		`{"access_token":"SECRET","refresh_token":"SECRET","token_type":"Bearer"}`,
		`{"token_type":"Bearer","refresh_token":"SECRET`,
		`{"secretText" : "SECRET\"more"}`,
		`grant_type=refresh_token&refresh_token=SECRET&client_secret=SECRET`,
		`Authorization: Bearer SECRET`,
		`token eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJ0aWQiOiJ4In0.SECRET expired`,
		`https://login.example/t/oauth2/v2.0/authorize?code=SECRET&state=x#frag`,
		`{"code":"AADSTS50173","error":"invalid_grant"}`,
		`""ACCess_token":","refresh_token":"SECRET`,
		`{"refreshToken":"SECRET","clientSecret":'SECRET'}`,
		`{"body":"scope=x\u0026client_secret=SECRET\u0026grant_type=y"}`,
		"client_secret: SECRET\npassword = 'SECRET'",
		`Authorization: Basic SECRET`,
		`token eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..aXY.Y2lwaGVy.SECRET end`,
		`GET https://h/cb?password= SECRET`,
		``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		text, placed := marker.WithMarker([]byte(s))
		out := httpx.RedactText(text)
		if placed {
			marker.NoMarker(t, out)
		}
		if again := httpx.RedactText(out); again != out {
			t.Fatalf("redacting again changed %q into %q", out, again)
		}
	})
}

// FuzzParseRetryAfter: any Retry-After header gives a wait that is never
// negative, and none at all for what is neither seconds nor a date.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"1", "0.25", "1.5", "0", "", "-1", "1e3", "inf", "NaN", "0x10", " 2 ", "99999999999999999999",
		"Wed, 21 Oct 2015 07:28:00 GMT", "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", ".5", "5."} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 1, 8, 55, 37, 0, time.UTC)
	f.Fuzz(func(t *testing.T, h string) {
		d, ok := httpx.ParseRetryAfter(h, now)
		if d < 0 || (!ok && d != 0) {
			t.Fatalf("ParseRetryAfter(%q) = %v, %v", h, d, ok)
		}
	})
}

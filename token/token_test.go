package token

import (
	"fmt"
	"net/http"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClaims(t *testing.T) {
	t.Parallel()
	tok := Token{AccessToken: NewSecret(fakeJWT(map[string]any{
		"tid": customerA, "aud": "https://graph.microsoft.com", "appid": testAppID, "oid": "o1", "upn": "admin@x",
		"scp": "User.Read  Directory.Read.All", "amr": []string{"pwd", "mfa"}, "exp": 1767254400,
	}))}
	c, err := tok.Claims()
	if err != nil {
		t.Fatal(err)
	}
	if c.TenantID != customerA || c.Audience != "https://graph.microsoft.com" || c.AppID != testAppID || c.ObjectID != "o1" ||
		c.UPN != "admin@x" || len(c.Scopes) != 2 || c.Scopes[1] != "Directory.Read.All" || !c.MFA() || !c.Expiry.Equal(time.Unix(1767254400, 0)) {
		t.Errorf("claims = %+v", c)
	}
	v2 := Token{AccessToken: NewSecret(fakeJWT(map[string]any{"aud": []string{"api://x", "y"}, "azp": "app2", "roles": []string{"R"}}))}
	if c, err := v2.Claims(); err != nil || c.Audience != "api://x" || c.AppID != "app2" || c.MFA() || c.Roles[0] != "R" {
		t.Errorf("v2 claims = %+v, %v", c, err)
	}
	for _, bad := range []string{"", "opaque", "a.!!!.c", "a.bm90IGpzb24.c", fakeJWT(map[string]any{"exp": "soon"})} {
		if _, err := (Token{AccessToken: NewSecret(bad)}).Claims(); err == nil {
			t.Errorf("Claims(%q) succeeded, want an error", bad)
		}
	}
}

func TestSetAuthHeader(t *testing.T) {
	t.Parallel()
	r, _ := http.NewRequest("GET", "https://graph.example/v1.0/me", nil)
	Token{AccessToken: NewSecret("abc")}.SetAuthHeader(r)
	if got := r.Header.Get("Authorization"); got != "Bearer abc" {
		t.Errorf("Authorization = %q", got)
	}
}

// TestSetAuthHeaderOfAnIssuedToken takes the header built with a token
// the Provider decoded, and builds another once the access token was
// replaced; neither shows in the token's printed form.
func TestSetAuthHeaderOfAnIssuedToken(t *testing.T) {
	t.Parallel()
	var res tokenResponse
	require.True(t, decodeFlat([]byte(`{"token_type":"Bearer","access_token":"eyJ.abc.def","expires_in":3599}`), &res))
	tok := Token{AccessToken: NewSecret(res.AccessToken), bearer: NewSecret(res.bearer)}
	r, err := http.NewRequest("GET", "https://graph.example/v1.0/me", nil)
	require.NoError(t, err)
	tok.SetAuthHeader(r)
	assert.Equal(t, "Bearer eyJ.abc.def", r.Header.Get("Authorization"))
	assert.Same(t, unsafe.StringData(res.bearer), unsafe.StringData(r.Header.Get("Authorization")), "the header built with the token")

	tok.AccessToken = NewSecret("other")
	tok.SetAuthHeader(r)
	assert.Equal(t, "Bearer other", r.Header.Get("Authorization"), "not the header of the token replaced")
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		assert.NotContains(t, fmt.Sprintf(verb, tok), "eyJ", verb)
	}
}

func TestKindStrings(t *testing.T) {
	t.Parallel()
	for k, want := range map[Kind]string{Delegated: "delegated", AppOnly: "app-only", LegacyExchange: "legacy-exchange", 9: "Kind(9)"} {
		if k.String() != want {
			t.Errorf("Kind(%d) = %q, want %q", k, k.String(), want)
		}
	}
	for k, want := range map[RefreshKind]string{RefreshSAM: "SAM", RefreshExchange: "Exchange", 7: "RefreshKind(7)"} {
		if k.String() != want {
			t.Errorf("RefreshKind(%d) = %q, want %q", k, k.String(), want)
		}
	}
}

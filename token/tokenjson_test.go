package token

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var flatSeeds = []string{
	`{"token_type":"Bearer","scope":"https://graph.microsoft.com/.default","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ0.eyJ1.c2ln","refresh_token":"0.AAAA-rt"}`,
	` { "access_token" : "a" , "expires_in" : 10 } `,
	`{"error":"invalid_grant","error_description":"AADSTS70000: x","error_codes":[70000]}`,
	`{"error":"invalid_grant","error_description":"line\r\nbreak"}`,
	`{}`,
	`{"access_token":"a","ok":true,"no":false,"nothing":null,"n":-12}`,
	`{"Access_Token":"a"}`,
	`{"expires_in":"3599"}`,
	`{"expires_in":3599.5}`,
	`{"expires_in":01}`,
	`{"access_token":"a",}`,
	`{"access_token":"a"} x`,
	`{"access_token":"caf\u00e9"}`,
	`{"access_token":"é"}`,
	`{"access_token":null}`,
	`{"a":truex}`,
	`[]`,
	``,
	`{"nested":{"a":1}}`,
	`{"access_token":"a","access_token":"b"}`,
}

// TestDecodeFlatAgreesWithEncodingJSON: the fast path decodes what it
// takes exactly as json.Unmarshal does, and leaves the rest to it.
func TestDecodeFlatAgreesWithEncodingJSON(t *testing.T) {
	t.Parallel()
	cases := []struct {
		body string
		fast bool
	}{
		{flatSeeds[0], true},
		{flatSeeds[1], true},
		{flatSeeds[2], false}, // an array
		{flatSeeds[3], false}, // escapes
		{flatSeeds[4], true},
		{flatSeeds[5], true},
		{flatSeeds[6], false}, // a member's name in another case
		{flatSeeds[7], false}, // a number as a string
		{flatSeeds[8], false},
		{flatSeeds[9], false},
		{flatSeeds[10], false},
		{flatSeeds[11], false},
		{flatSeeds[12], false},
		{flatSeeds[13], false},
		{flatSeeds[14], false},
		{flatSeeds[15], false},
		{flatSeeds[16], false},
		{flatSeeds[17], false},
		{flatSeeds[18], false},
		{flatSeeds[19], true},
	}
	for _, c := range cases {
		t.Run(c.body, func(t *testing.T) {
			t.Parallel()
			var fast tokenResponse
			require.Equal(t, c.fast, decodeFlat([]byte(c.body), &fast), "taken by the fast path")
			if !c.fast {
				assert.Zero(t, fast, "left unchanged")
				return
			}
			var slow tokenResponse
			require.NoError(t, json.Unmarshal([]byte(c.body), &slow))
			assert.Equal(t, slow, withoutBearer(t, fast))
		})
	}
}

func FuzzDecodeFlat(f *testing.F) {
	for _, s := range flatSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var fast tokenResponse
		if !decodeFlat([]byte(body), &fast) {
			return
		}
		var slow tokenResponse
		if err := json.Unmarshal([]byte(body), &slow); err != nil {
			t.Fatalf("fast path took %q, which encoding/json refuses: %v", body, err)
		}
		if withoutBearer(t, fast) != slow {
			t.Fatalf("%q: fast path %+v, encoding/json %+v", body, fast, slow)
		}
	})
}

// withoutBearer checks the Authorization header decodeFlat built beside
// the access token, and returns r without it, as encoding/json decodes.
func withoutBearer(t *testing.T, r tokenResponse) tokenResponse {
	t.Helper()
	if r.AccessToken != "" && r.bearer != "Bearer "+r.AccessToken {
		t.Fatalf("bearer %q for access token %q", r.bearer, r.AccessToken)
	}
	r.bearer = ""
	return r
}

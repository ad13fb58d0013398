package sam

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/samkit/samkit/internal/faulttest/marker"
)

// fileSecretSlotRE finds SECRET where the credentials file keeps a secret.
var fileSecretSlotRE = regexp.MustCompile(`"(?:clientSecret|certificatePassword|refreshToken|exchangeRefreshToken)"\s*:\s*"SECRET`)

// FuzzDecodeFileDoc: whatever the credentials file holds, decoding never
// panics; a refusal names the file and never quotes a secret from it, nor
// prints a raw control character; and what is accepted has a tenant and
// an application, and reads back the same once written.
func FuzzDecodeFileDoc(f *testing.F) {
	for _, s := range []string{
		`{"version":1,"tenantId":"contoso.onmicrosoft.com","applicationId":"8d5c0b9e-6f4a-4a39-9d8b-2b8f0f1e2a3c","clientSecret":"SECRET","refreshToken":"SECRET","exchangeRefreshToken":"SECRET","cloud":"public","savedAt":"2026-01-01T08:55:37Z"}`,
		`{"version":1,"tenantId":"t","applicationId":"a","certificatePath":"sam.pfx","certificatePassword":"SECRET","refreshToken":"SECRET"}`,
		`{"version":2,"tenantId":"t","applicationId":"a"}`,
		`{"version":1,"tenantId":"t","applicationId":"a","refreshToken":"SECRET","extra":"x"}`,
		`{"version":1,"tenantId":"t","applicationId":"a","refreshToken":"SECRET"}{}`,
		`{"version":"1","tenantId":"t","applicationId":"a","refreshToken":"SECRET"}`,
		`{"version":1,"tenantId":"t","applicationId":"a","refreshToken":SECRET}`,
		`{"version":1,"tenantId":"t","applicationId":"a","savedAt":"SECRET"}`,
		`{"version":1,"tenantId":"t","applicationId":"a","refreshToken":"SECRET`,
		`{"tenantId":"","applicationId":"a"}`,
		`[]`, `null`, ``, `{}`,
	} {
		f.Add([]byte(s))
	}
	const path = "/home/admin/.config/samkit/credentials.json"
	f.Fuzz(func(t *testing.T, b []byte) {
		s := string(b)
		placed := len(fileSecretSlotRE.FindAllStringIndex(s, -1)) == strings.Count(s, "SECRET")
		text := strings.ReplaceAll(s, "SECRET", marker.Marker)
		doc, err := decodeFileDoc(path, []byte(text))
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "sam: "+path) || strings.ContainsFunc(msg, unicode.IsControl) {
				t.Fatalf("error %q", msg)
			}
			if placed {
				marker.NoMarker(t, strings.TrimPrefix(msg, "sam: "+path))
			}
			return
		}
		if doc.TenantID == "" || doc.ApplicationID == "" || doc.Version > fileVersion {
			t.Fatalf("accepted %+v", doc)
		}
		out, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		again, err := decodeFileDoc(path, out)
		if err != nil {
			t.Fatalf("what was accepted does not read back once written: %v", err)
		}
		if back, _ := json.Marshal(again); string(back) != string(out) {
			t.Fatalf("read back %s, wrote %s", back, out)
		}
	})
}

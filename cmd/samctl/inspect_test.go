package main

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/sam"
	"github.com/samkit/samkit/token"
)

// inspect's JSON and text for client secrets and certificates, each
// kind with one in use, a leftover of samkit's and one of a person's,
// against golden files: what scripts read from --json must not move.
func TestInspectOutputGolden(t *testing.T) {
	t.Parallel()
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		require.NoError(t, err)
		return d
	}
	cert, err := sam.NewCertificate(sam.CertificateOptions{Subject: "samkit golden", Validity: 24 * time.Hour})
	require.NoError(t, err)
	sum := sha1.Sum(cert.Chain[0].Raw)
	storedThumb := base64.StdEncoding.EncodeToString(sum[:])

	secretApp := sam.Inspection{
		App: graph.Application{AppID: "11111111-1111-1111-1111-111111111111", DisplayName: "SAM app",
			PasswordCredentials: []graph.PasswordCredential{
				{KeyID: "aaaaaaaa-0000-0000-0000-000000000001", Hint: "abc", DisplayName: "samkit-managed 2026-01-01"},
				{KeyID: "aaaaaaaa-0000-0000-0000-000000000002", Hint: "xyz", DisplayName: "samkit-managed 2025-06-01"},
				{KeyID: "aaaaaaaa-0000-0000-0000-000000000003", Hint: "qrs", DisplayName: "prod"},
			}},
		HasServicePrincipal: true,
		Secrets: []sam.SecretInfo{
			{KeyID: "aaaaaaaa-0000-0000-0000-000000000003", Hint: "qrs", DisplayName: "prod", Start: day("2024-01-01"), End: day("2025-01-01"), Expired: true},
			{KeyID: "aaaaaaaa-0000-0000-0000-000000000001", Hint: "abc", DisplayName: "samkit-managed 2026-01-01", Start: day("2026-01-01"), End: day("2026-02-01"), ExpiresSoon: true},
			{KeyID: "aaaaaaaa-0000-0000-0000-000000000002", Hint: "xyz", DisplayName: "samkit-managed 2025-06-01", Start: day("2025-06-01"), End: day("2027-06-01")},
		},
		Certificates: []sam.CertificateInfo{
			{KeyID: "cccccccc-0000-0000-0000-000000000009", DisplayName: "CN=someone else", Thumbprint: "0123456789ABCDEF0123456789ABCDEF01234567", Start: day("2025-01-01"), End: day("2027-01-01")},
		},
		RedirectURIs: []sam.RedirectURI{{Platform: "web", URI: "http://localhost"}},
		Permissions:  []sam.PermissionStatus{{ResourceAppID: "00000003-0000-0000-c000-000000000000", Resource: "Microsoft Graph", ID: "e1fe6dd8-ba31-4d61-89e7-88639da4683d", Name: "User.Read", Kind: sam.DelegatedPermission, Granted: true}},
	}
	certApp := sam.Inspection{
		App: graph.Application{AppID: "22222222-2222-2222-2222-222222222222", DisplayName: "SAM app (certificate)",
			KeyCredentials: []graph.KeyCredential{
				{KeyID: "cccccccc-0000-0000-0000-000000000001", CustomKeyIdentifier: storedThumb, DisplayName: "samkit-managed 2026-01-01"},
				{KeyID: "cccccccc-0000-0000-0000-000000000002", CustomKeyIdentifier: "bGVmdG92ZXI=", DisplayName: "samkit-managed 2026-03-01"},
				{KeyID: "cccccccc-0000-0000-0000-000000000003", CustomKeyIdentifier: "cGVyc29u", DisplayName: "CN=someone else"},
			}},
		Certificates: []sam.CertificateInfo{
			{KeyID: "cccccccc-0000-0000-0000-000000000001", DisplayName: "samkit-managed 2026-01-01", Thumbprint: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", Start: day("2025-01-01"), End: day("2026-01-01"), Expired: true},
			{KeyID: "cccccccc-0000-0000-0000-000000000002", DisplayName: "samkit-managed 2026-03-01", Thumbprint: "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB", Start: day("2026-03-01"), End: day("2027-03-01")},
			{KeyID: "cccccccc-0000-0000-0000-000000000003", DisplayName: "CN=someone else", Thumbprint: "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC", Start: day("2025-01-01"), End: day("2026-02-01"), ExpiresSoon: true},
		},
		RedirectURIs: []sam.RedirectURI{},
		Permissions:  []sam.PermissionStatus{{ResourceAppID: "00000003-0000-0000-c000-000000000000", Resource: "Microsoft Graph", ID: "df021288-bdef-4463-88db-98f22de89214", Name: "User.Read.All", Kind: sam.ApplicationPermission}},
	}
	// The days left depend on today, and so do the columns' widths: the
	// golden text keeps the rest, its columns two spaces apart.
	days, gaps, ends := regexp.MustCompile(`\((in \d+ days|expired \d+ days ago)\)`), regexp.MustCompile(` {2,}`), regexp.MustCompile(`(?m) +$`)
	for _, tc := range []struct {
		name  string
		in    *sam.Inspection
		creds token.Credentials
	}{
		{"inspect-secret", &secretApp, token.Credentials{ClientSecret: token.NewSecret("abcdefghijklmnop")}},
		{"inspect-certificate", &certApp, token.Credentials{Certificate: cert}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			secrets, problems := judge(tc.in, tc.creds)
			certs, certProblems := judgeCertificates(tc.in, tc.creds)
			problems = append(problems, certProblems...)
			out, err := json.MarshalIndent(inspectionJSON(tc.in, secrets, certs, problems), "", "  ")
			require.NoError(t, err)
			golden(t, tc.name+".json", string(out)+"\n")

			var text bytes.Buffer
			writeInspection(&app{stdout: &text}, tc.in, secrets, certs, problems)
			golden(t, tc.name+".txt", ends.ReplaceAllString(gaps.ReplaceAllString(days.ReplaceAllString(text.String(), "(N days)"), "  "), ""))
		})
	}
}

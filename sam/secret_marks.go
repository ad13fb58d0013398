package sam

import (
	"regexp"
	"strings"
	"time"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/token"
)

// SecretNamePrefix starts the display name of every client secret Setup
// and RotateSecret add ("samkit-managed 2026-01-01"): it marks the secrets
// samkit may remove once they are no longer the stored one, and tells a
// person in the portal where they came from. Secrets named otherwise are
// never removed by samkit.
const SecretNamePrefix = "samkit-managed "

// secretDisplayName labels a secret samkit adds.
func secretDisplayName(now time.Time) string {
	return SecretNamePrefix + now.UTC().Format(time.DateOnly)
}

// legacySecretName is how samkit named its secrets before SecretNamePrefix:
// "samkit" and a date, nothing else, so that a secret a person named
// "samkit prod" is not taken for one.
var legacySecretName = regexp.MustCompile(`^samkit \d{4}-\d{2}-\d{2}$`)

// IsSamkitSecret reports whether a client secret's display name marks it
// as one samkit added.
func IsSamkitSecret(displayName string) bool {
	return strings.HasPrefix(displayName, SecretNamePrefix) || legacySecretName.MatchString(displayName)
}

// leftoverSecrets returns the key ids of the secrets samkit added to the
// app that are not stored's: what a rotation or setup interrupted between
// adding a secret and removing the one it replaced leaves. It returns none
// when stored cannot be told apart from the app's secrets, since one of
// them would then be the stored one.
func leftoverSecrets(pcs []graph.PasswordCredential, stored token.Secret) []string {
	storedKey := matchSecret(pcs, stored)
	if storedKey == "" {
		return nil
	}
	var out []string
	for _, p := range pcs {
		if IsSamkitSecret(p.DisplayName) && !strings.EqualFold(p.KeyID, storedKey) {
			out = append(out, p.KeyID)
		}
	}
	return out
}

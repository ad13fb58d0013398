package sam

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/token"
)

// credentialKind is how a rotation adds, finds and removes one kind of app
// credential.
type credentialKind interface {
	fmt.Stringer
	// stored returns the key id of c's credential among the app's, ""
	// when it cannot be told apart.
	stored(c token.Credentials) string
	// leftovers returns the key ids of credentials samkit added to the app
	// that are not c's.
	leftovers(c token.Credentials) []string
	// add adds a new credential and returns c holding it instead.
	add(ctx context.Context, c token.Credentials, now time.Time) (token.Credentials, addedCredential, error)
	// remove removes the credential keyID; signer's certificate proves
	// possession where Graph asks for proof.
	remove(ctx context.Context, signer token.Credentials, keyID string) error
}

// addedCredential describes a credential a rotation added.
type addedCredential struct {
	KeyID, Hint, Thumbprint string
	End                     time.Time
}

// secretKind rotates client secrets.
type secretKind struct {
	g        *graph.Client
	app      graph.Application
	lifetime time.Duration
}

func (secretKind) String() string { return "client secret" }

func (k secretKind) stored(c token.Credentials) string {
	return matchSecret(k.app.PasswordCredentials, c.ClientSecret)
}

func (k secretKind) leftovers(c token.Credentials) []string {
	return leftoverSecrets(k.app.PasswordCredentials, c.ClientSecret)
}

func (k secretKind) add(ctx context.Context, c token.Credentials, now time.Time) (token.Credentials, addedCredential, error) {
	pc, err := k.g.AddPassword(ctx, k.app.ID, graph.PasswordCredential{DisplayName: secretDisplayName(now), EndDateTime: now.Add(k.lifetime)})
	if err != nil {
		return c, addedCredential{}, err
	}
	c.ClientSecret = pc.SecretText
	return c, addedCredential{KeyID: pc.KeyID, Hint: pc.Hint, End: pc.EndDateTime}, nil
}

func (k secretKind) remove(ctx context.Context, _ token.Credentials, keyID string) error {
	return k.g.RemovePassword(ctx, k.app.ID, keyID)
}

// certificateKind rotates certificates: addKey and removeKey, proven with
// a certificate the app has, or a PATCH of keyCredentials when the store
// holds no certificate to prove with.
// https://learn.microsoft.com/graph/api/application-addkey
type certificateKind struct {
	g       *graph.Client
	app     graph.Application
	options CertificateOptions
}

func (certificateKind) String() string { return "certificate" }

func (k certificateKind) stored(c token.Credentials) string {
	if c.Certificate == nil || len(c.Certificate.Chain) == 0 {
		return ""
	}
	return keyIDOf(k.app.KeyCredentials, c.Certificate)
}

// keyIDOf finds cert among an app's keyCredentials by its SHA-1
// thumbprint, which Graph reports as customKeyIdentifier.
func keyIDOf(keys []graph.KeyCredential, cert *token.Certificate) string {
	want := certThumbprintSHA1(cert)
	for _, kc := range keys {
		if kc.CustomKeyIdentifier == want {
			return kc.KeyID
		}
	}
	return ""
}

func (k certificateKind) leftovers(c token.Credentials) []string {
	storedKey := k.stored(c)
	if storedKey == "" {
		return nil
	}
	var out []string
	for _, kc := range k.app.KeyCredentials {
		if IsSamkitSecret(kc.DisplayName) && !strings.EqualFold(kc.KeyID, storedKey) {
			out = append(out, kc.KeyID)
		}
	}
	return out
}

func (k certificateKind) add(ctx context.Context, c token.Credentials, now time.Time) (token.Credentials, addedCredential, error) {
	o := k.options
	if o.Now == nil {
		o.Now = func() time.Time { return now }
	}
	cert, err := NewCertificate(o)
	if err != nil {
		return c, addedCredential{}, err
	}
	want := graph.KeyCredential{DisplayName: secretDisplayName(now), Type: "AsymmetricX509Cert", Usage: "Verify", Key: cert.Chain[0].Raw}
	var keyID string
	if k.stored(c) != "" {
		proof, err := token.KeyProof(c.Certificate, k.app.ID, time.Now())
		if err != nil {
			return c, addedCredential{}, err
		}
		kc, err := k.g.AddKey(ctx, k.app.ID, want, proof)
		switch {
		case errors.Is(err, graph.ErrUnauthorized):
			// The proof is refused when the app has no valid certificate
			// left (the stored one expired): "use the Update application
			// operation instead" (application-addkey page).
			if keyID, err = k.patch(ctx, &want, ""); err != nil {
				return c, addedCredential{}, err
			}
		case err != nil:
			return c, addedCredential{}, err
		default:
			keyID = kc.KeyID
		}
	} else if keyID, err = k.patch(ctx, &want, ""); err != nil {
		return c, addedCredential{}, err
	}
	c.Certificate = cert
	leaf := cert.Chain[0]
	return c, addedCredential{KeyID: keyID, Thumbprint: cert.SHA1Thumbprint(), End: leaf.NotAfter}, nil
}

func (k certificateKind) remove(ctx context.Context, signer token.Credentials, keyID string) error {
	// The signer is the stored certificate, on the app since before the
	// rotation began; without one, a PATCH needs no proof.
	if k.stored(signer) != "" {
		proof, err := token.KeyProof(signer.Certificate, k.app.ID, time.Now())
		if err != nil {
			return err
		}
		// A proof signed by an expired certificate is refused: as in add.
		if err := k.g.RemoveKey(ctx, k.app.ID, keyID, proof); !errors.Is(err, graph.ErrUnauthorized) {
			return err
		}
	}
	_, err := k.patch(ctx, nil, keyID)
	return err
}

// patch replaces the app's keyCredentials with its current ones, less
// drop, plus add; it returns add's key id. The current ones are read with
// their keys and sent back whole, so that the update keeps them.
func (k certificateKind) patch(ctx context.Context, add *graph.KeyCredential, drop string) (string, error) {
	current, err := k.g.ApplicationKeyCredentials(ctx, k.app.ID)
	if err != nil {
		return "", err
	}
	keys := []graph.KeyCredential{}
	for _, kc := range current {
		if !strings.EqualFold(kc.KeyID, drop) {
			// The dates are left to Graph, which takes them from the
			// certificate.
			keys = append(keys, graph.KeyCredential{KeyID: kc.KeyID, DisplayName: kc.DisplayName, Type: kc.Type, Usage: kc.Usage, Key: kc.Key})
		}
	}
	if add != nil {
		keys = append(keys, *add)
	}
	if err := k.g.UpdateApplication(ctx, k.app.ID, graph.Application{KeyCredentials: keys}); err != nil {
		return "", err
	}
	if add == nil {
		return "", nil
	}
	app, err := k.g.GetApplication(ctx, k.app.ID)
	if err != nil {
		return "", err
	}
	want := derThumbprintSHA1(add.Key)
	for _, kc := range app.KeyCredentials {
		if kc.CustomKeyIdentifier == want {
			return kc.KeyID, nil
		}
	}
	return "", fmt.Errorf("sam: the certificate added to %s is not among its keyCredentials", k.app.AppID)
}

package sam

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/token"
)

// ensureCredential gives the app the credential the run asked for: a
// client secret, or in certificate-only mode a certificate.
func (r *setupRun) ensureCredential(ctx context.Context) error {
	if r.opts.Certificate {
		return r.ensureCertificate(ctx)
	}
	return r.ensureSecret(ctx)
}

// ensureCertificate reuses the stored certificate if it still works for
// this app, and otherwise makes one and registers it on the app. An app
// with no valid certificate cannot use addKey (nothing can sign its
// proof), so the first certificate is registered with a PATCH of
// keyCredentials, which replaces the list: the app's other certificates
// are sent back by keyId so that they stay.
// https://learn.microsoft.com/graph/api/application-addkey
func (r *setupRun) ensureCertificate(ctx context.Context) error {
	if c, ok := r.storedCertificate(ctx); ok {
		creds := token.Credentials{TenantID: r.partner, ApplicationID: r.app.AppID, Certificate: c}
		if err := r.appCredentialWorks(ctx, creds); err == nil {
			r.cert = c
			r.info(StepSecret, "the stored certificate works: reusing it")
			return nil
		}
		r.warn("The stored certificate of the app no longer works; a new one was added. Remove the old one once nothing uses it (samctl inspect lists them).")
	}
	if len(r.app.PasswordCredentials) > 0 {
		r.warn(fmt.Sprintf("The app still has %d client secret(s), which the saved credentials no longer use: remove them in the Entra admin center (App registrations > Certificates & secrets) to make the app certificate-only.", len(r.app.PasswordCredentials)))
	}
	cert, err := NewCertificate(r.opts.CertificateOptions)
	if err != nil {
		return err
	}
	now := time.Now()
	kind := certificateKind{g: r.graph, app: r.app}
	want := graph.KeyCredential{DisplayName: secretDisplayName(now), Type: "AsymmetricX509Cert", Usage: "Verify", Key: cert.Chain[0].Raw}
	keyID, err := kind.patch(ctx, &want, "")
	if err != nil {
		if uncertain(err) {
			r.journal.add("remove the certificate this run added", func(ctx context.Context) error {
				app, err := r.graph.GetApplication(ctx, r.app.ID)
				if err != nil {
					return err
				}
				if id := keyIDOf(app.KeyCredentials, cert); id != "" {
					_, err = kind.patch(ctx, nil, id)
				}
				return err
			})
		}
		return fmt.Errorf("sam: registering the certificate on the app: %w", err)
	}
	r.journal.add("remove certificate "+keyID, func(ctx context.Context) error {
		_, err := kind.patch(ctx, nil, keyID)
		return err
	})
	r.cert = cert
	r.info(StepSecret, "registered certificate %s (%s), valid until %s", cert.SHA1Thumbprint(), cert.Chain[0].Subject.CommonName, cert.Chain[0].NotAfter.Format(time.DateOnly))
	creds := token.Credentials{TenantID: r.partner, ApplicationID: r.app.AppID, Certificate: cert}
	if err := waitCredentialReady(ctx, r.opts.Sleep, func(ctx context.Context) error { return r.appCredentialWorks(ctx, creds) }); err != nil {
		return fmt.Errorf("sam: the new certificate %s does not work: %w", cert.SHA1Thumbprint(), err)
	}
	return nil
}

// storedCertificate returns the Store's certificate when it belongs to
// this app.
func (r *setupRun) storedCertificate(ctx context.Context) (*token.Certificate, bool) {
	if r.opts.Store == nil || r.created {
		return nil, false
	}
	c, err := r.opts.Store.Load(ctx)
	switch {
	case errors.Is(err, ErrNoCredentials):
		return nil, false
	case err != nil:
		r.warn("The credential store could not be read (" + err.Error() + "); a new certificate was added.")
		return nil, false
	}
	if !strings.EqualFold(c.ApplicationID, r.app.AppID) || c.Certificate == nil {
		return nil, false
	}
	return c.Certificate, true
}

// certThumbprintSHA1 is a certificate's SHA-1 thumbprint in base64, as
// Graph reports it in a keyCredential's customKeyIdentifier.
func certThumbprintSHA1(c *token.Certificate) string { return derThumbprintSHA1(c.Chain[0].Raw) }

func derThumbprintSHA1(der []byte) string {
	sum := sha1.Sum(der)
	return base64.StdEncoding.EncodeToString(sum[:])
}

package sam

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/token"
)

// ExpiryWarning is how close to its end a secret is flagged ExpiresSoon:
// time enough to rotate it calmly.
const ExpiryWarning = 30 * 24 * time.Hour

// Inspection is what a person checks in the portal to see whether a SAM
// app is healthy: its secrets and their expiry, its redirect URIs, and for
// every permission it asks for, whether admin consent was actually given.
type Inspection struct {
	App graph.Application
	// HasServicePrincipal says whether the app has its service principal
	// in the inspected tenant; without it nothing is consented.
	HasServicePrincipal bool
	Secrets             []SecretInfo
	Certificates        []CertificateInfo
	RedirectURIs        []RedirectURI
	Permissions         []PermissionStatus
}

// SecretInfo describes a client secret; its value is never readable again.
type SecretInfo struct {
	KeyID string
	// Hint is the first characters of the secret's value, which tell
	// secrets apart.
	Hint        string
	DisplayName string
	Start, End  time.Time
	// ExpiresSoon is set within ExpiryWarning of End; Expired after it.
	ExpiresSoon, Expired bool
}

// CertificateInfo describes a certificate registered on the app; Graph
// never returns the certificate itself once it is registered.
type CertificateInfo struct {
	KeyID       string
	DisplayName string
	// Thumbprint is the certificate's SHA-1 thumbprint in upper-case hex,
	// as the Entra admin center lists it.
	Thumbprint string
	Start, End time.Time
	// ExpiresSoon is set within ExpiryWarning of End; Expired after it.
	ExpiresSoon, Expired bool
}

// StoredCertificate returns the key id of the app's certificate that c
// is, "" when c is nil or not registered on the app.
func (in *Inspection) StoredCertificate(c *token.Certificate) string {
	if c == nil || len(c.Chain) == 0 {
		return ""
	}
	return keyIDOf(in.App.KeyCredentials, c)
}

// CertificateLeftovers returns the certificates samkit added to the app
// that are not stored: what an interrupted certificate rotation leaves.
// The next RotateCredentials of certificates removes them once it has
// checked that the stored one works. None are returned when stored is not
// registered on the app.
func (in *Inspection) CertificateLeftovers(stored *token.Certificate) []CertificateInfo {
	ids := certificateKind{app: in.App}.leftovers(token.Credentials{Certificate: stored})
	var out []CertificateInfo
	for _, c := range in.Certificates {
		if slices.ContainsFunc(ids, func(id string) bool { return strings.EqualFold(id, c.KeyID) }) {
			out = append(out, c)
		}
	}
	return out
}

// RedirectURI is one redirect URI and its platform: "web" (confidential
// clients, with a secret) or "publicClient" (mobile and desktop).
type RedirectURI struct {
	Platform, URI string
}

// PermissionStatus is one permission the app asks for and whether admin
// consent for it exists: for a delegated permission, an AllPrincipals
// grant that lists it; for an application permission, an app role
// assignment. A user's own consent does not count.
type PermissionStatus struct {
	ResourceAppID string
	// Resource is the resource's display name.
	Resource string
	ID       string
	// Name is the permission's value ("User.Read.All"), or its id when no
	// name is known.
	Name    string
	Kind    PermissionKind
	Granted bool
}

// inspect reads the app with application id appID, and its consent, in
// the tenant of the Graph client g (the partner tenant). It compares the
// permissions the app asks for with the grants and assignments that exist,
// not with the request.
func inspect(ctx context.Context, g *graph.Client, appID string) (*Inspection, error) {
	return inspectAt(ctx, g, appID, time.Now())
}

func inspectAt(ctx context.Context, g *graph.Client, appID string, now time.Time) (*Inspection, error) {
	app, err := g.ApplicationByAppID(ctx, appID)
	if err != nil {
		return nil, fmt.Errorf("sam: reading application %s: %w", appID, err)
	}
	in := &Inspection{App: app}
	for _, p := range app.PasswordCredentials {
		s := SecretInfo{KeyID: p.KeyID, Hint: p.Hint, DisplayName: p.DisplayName, Start: p.StartDateTime, End: p.EndDateTime}
		s.ExpiresSoon, s.Expired = expiry(s.End, now)
		in.Secrets = append(in.Secrets, s)
	}
	slices.SortFunc(in.Secrets, func(a, b SecretInfo) int { return a.End.Compare(b.End) })
	for _, k := range app.KeyCredentials {
		c := CertificateInfo{KeyID: k.KeyID, DisplayName: k.DisplayName, Thumbprint: k.CustomKeyIdentifier, Start: k.StartDateTime, End: k.EndDateTime}
		if b, err := base64.StdEncoding.DecodeString(k.CustomKeyIdentifier); err == nil && len(b) == sha1.Size {
			c.Thumbprint = strings.ToUpper(hex.EncodeToString(b))
		}
		c.ExpiresSoon, c.Expired = expiry(c.End, now)
		in.Certificates = append(in.Certificates, c)
	}
	slices.SortFunc(in.Certificates, func(a, b CertificateInfo) int { return a.End.Compare(b.End) })
	for _, u := range app.Web.RedirectURIs {
		in.RedirectURIs = append(in.RedirectURIs, RedirectURI{Platform: "web", URI: u})
	}
	for _, u := range app.PublicClient.RedirectURIs {
		in.RedirectURIs = append(in.RedirectURIs, RedirectURI{Platform: "publicClient", URI: u})
	}

	client, err := g.ServicePrincipalByAppID(ctx, appID)
	if err != nil && !errors.Is(err, graph.ErrNotFound) {
		return nil, fmt.Errorf("sam: reading the service principal of %s: %w", appID, err)
	}
	in.HasServicePrincipal = err == nil
	var (
		grants      []graph.OAuth2PermissionGrant
		assignments []graph.AppRoleAssignment
	)
	if in.HasServicePrincipal {
		if grants, err = graph.Collect(g.OAuth2PermissionGrants(ctx, client.ID)); err != nil {
			return nil, fmt.Errorf("sam: reading the delegated grants of %s: %w", appID, err)
		}
		if assignments, err = graph.Collect(g.AppRoleAssignments(ctx, client.ID)); err != nil {
			return nil, fmt.Errorf("sam: reading the application permissions of %s: %w", appID, err)
		}
	}
	for _, rra := range app.RequiredResourceAccess {
		rsp, err := g.ServicePrincipalByAppID(ctx, rra.ResourceAppID)
		if err != nil && !errors.Is(err, graph.ErrNotFound) {
			return nil, fmt.Errorf("sam: reading the service principal of resource %s: %w", rra.ResourceAppID, err)
		}
		found := err == nil
		resource := rsp.DisplayName
		if resource == "" {
			if k := knownResourceByID(rra.ResourceAppID); k != nil {
				resource = k.name
			} else {
				resource = rra.ResourceAppID
			}
		}
		for _, a := range rra.ResourceAccess {
			st := PermissionStatus{ResourceAppID: rra.ResourceAppID, Resource: resource, ID: a.ID}
			switch a.Type {
			case graph.ResourceAccessScope:
				st.Kind = DelegatedPermission
				st.Name = scopeName(rsp, rra.ResourceAppID, a.ID)
				st.Granted = found && slices.ContainsFunc(grants, func(gr graph.OAuth2PermissionGrant) bool {
					return gr.ResourceID == rsp.ID && gr.ConsentType == graph.ConsentAllPrincipals &&
						slices.ContainsFunc(gr.Scopes(), func(s string) bool { return strings.EqualFold(s, st.Name) })
				})
			case graph.ResourceAccessRole:
				st.Kind = ApplicationPermission
				st.Name = roleName(rsp, rra.ResourceAppID, a.ID)
				st.Granted = found && slices.ContainsFunc(assignments, func(as graph.AppRoleAssignment) bool {
					return as.ResourceID == rsp.ID && strings.EqualFold(as.AppRoleID, a.ID)
				})
			default:
				continue
			}
			in.Permissions = append(in.Permissions, st)
		}
	}
	return in, nil
}

// expiry says whether a secret or certificate that ends at end expires
// within ExpiryWarning of now, or has expired; one without an end does
// neither.
func expiry(end, now time.Time) (soon, expired bool) {
	if end.IsZero() {
		return false, false
	}
	expired = !now.Before(end)
	return !expired && end.Sub(now) <= ExpiryWarning, expired
}

// Leftovers returns the secrets samkit added to the app that are not
// stored, the secret the credentials hold: what a rotation or a setup
// interrupted between adding a secret and removing the one it replaced
// leaves behind. The next RotateSecret removes them once it has checked
// that the stored secret works. None are returned when stored cannot be
// told apart from the app's secrets.
func (in *Inspection) Leftovers(stored token.Secret) []SecretInfo {
	ids := leftoverSecrets(in.App.PasswordCredentials, stored)
	var out []SecretInfo
	for _, s := range in.Secrets {
		if slices.ContainsFunc(ids, func(id string) bool { return strings.EqualFold(id, s.KeyID) }) {
			out = append(out, s)
		}
	}
	return out
}

// scopeName names a delegated permission from what the resource publishes,
// else from the catalog, else by its id. Grants list scopes by name, so an
// unnamed one can never show as granted.
func scopeName(rsp graph.ServicePrincipal, resourceAppID, id string) string {
	for _, s := range rsp.OAuth2PermissionScopes {
		if strings.EqualFold(s.ID, id) {
			return s.Value
		}
	}
	if n, ok := PermissionName(resourceAppID, DelegatedPermission, id); ok {
		return n
	}
	return id
}

func roleName(rsp graph.ServicePrincipal, resourceAppID, id string) string {
	for _, r := range rsp.AppRoles {
		if strings.EqualFold(r.ID, id) {
			return r.Value
		}
	}
	if n, ok := PermissionName(resourceAppID, ApplicationPermission, id); ok {
		return n
	}
	return id
}

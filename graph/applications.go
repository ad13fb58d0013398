package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"time"

	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/token"
)

// Sign-in audiences of an application.
const (
	SignInAudienceMyOrg        = "AzureADMyOrg"
	SignInAudienceMultipleOrgs = "AzureADMultipleOrgs"
)

// Types of a ResourceAccess: a delegated permission or an application one.
const (
	ResourceAccessScope = "Scope"
	ResourceAccessRole  = "Role"
)

// Application is an application registration. Fields left at their zero
// value are not sent when creating or updating one.
type Application struct {
	// ID is the object id, which addresses the registration in Graph.
	ID string `json:"id,omitzero"`
	// AppID is the application (client) id, which tokens and consents name.
	AppID                  string                   `json:"appId,omitzero"`
	DisplayName            string                   `json:"displayName,omitzero"`
	SignInAudience         string                   `json:"signInAudience,omitzero"`
	RequiredResourceAccess []RequiredResourceAccess `json:"requiredResourceAccess,omitzero"`
	Web                    WebApplication           `json:"web,omitzero"`
	PublicClient           PublicClientApplication  `json:"publicClient,omitzero"`
	// IsFallbackPublicClient, when true, lets the app redeem codes and
	// refresh tokens without a secret (device code and native flows).
	IsFallbackPublicClient *bool `json:"isFallbackPublicClient,omitzero"`
	// PasswordCredentials are the app's secrets, without their values.
	// Read-only here: use AddPassword and RemovePassword.
	PasswordCredentials []PasswordCredential `json:"passwordCredentials,omitzero"`
	// KeyCredentials are the app's certificates. Updating them replaces
	// the whole list.
	KeyCredentials  []KeyCredential `json:"keyCredentials,omitzero"`
	CreatedDateTime time.Time       `json:"createdDateTime,omitzero"`
}

// writable returns a without the properties Graph computes or that have
// their own operations, for a create or update body.
func (a Application) writable() Application {
	a.ID, a.AppID, a.CreatedDateTime, a.PasswordCredentials = "", "", time.Time{}, nil
	return a
}

// RequiredResourceAccess lists the permissions an app needs on one
// resource (API).
type RequiredResourceAccess struct {
	// ResourceAppID is the resource's application id (Microsoft Graph is
	// 00000003-0000-0000-c000-000000000000).
	ResourceAppID  string           `json:"resourceAppId"`
	ResourceAccess []ResourceAccess `json:"resourceAccess"`
}

// ResourceAccess is one permission: the id of a delegated permission
// (Type "Scope") or of an app role (Type "Role") of the resource.
type ResourceAccess struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// WebApplication holds an app's web platform settings.
type WebApplication struct {
	RedirectURIs []string `json:"redirectUris,omitzero"`
}

// PublicClientApplication holds an app's mobile and desktop platform
// settings.
type PublicClientApplication struct {
	RedirectURIs []string `json:"redirectUris,omitzero"`
}

// PasswordCredential is a client secret of an application. SecretText is
// set only in AddPassword's answer: Graph never shows a secret again.
type PasswordCredential struct {
	KeyID         string       `json:"keyId,omitzero"`
	DisplayName   string       `json:"displayName,omitzero"`
	SecretText    token.Secret `json:"secretText,omitzero"`
	Hint          string       `json:"hint,omitzero"`
	StartDateTime time.Time    `json:"startDateTime,omitzero"`
	EndDateTime   time.Time    `json:"endDateTime,omitzero"`
}

// UnmarshalJSON reads Graph's passwordCredential, keeping secretText in a
// token.Secret from the moment it is decoded.
func (p *PasswordCredential) UnmarshalJSON(b []byte) error {
	var w struct {
		KeyID         string    `json:"keyId"`
		DisplayName   string    `json:"displayName"`
		SecretText    string    `json:"secretText"`
		Hint          string    `json:"hint"`
		StartDateTime time.Time `json:"startDateTime"`
		EndDateTime   time.Time `json:"endDateTime"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*p = PasswordCredential{KeyID: w.KeyID, DisplayName: w.DisplayName, SecretText: token.NewSecret(w.SecretText),
		Hint: w.Hint, StartDateTime: w.StartDateTime, EndDateTime: w.EndDateTime}
	return nil
}

// KeyCredential is a certificate credential of an application.
type KeyCredential struct {
	KeyID       string `json:"keyId,omitzero"`
	DisplayName string `json:"displayName,omitzero"`
	// Type is "AsymmetricX509Cert" for a certificate; Usage "Verify".
	Type  string `json:"type,omitzero"`
	Usage string `json:"usage,omitzero"`
	// Key is the DER certificate: given when adding one; returned only
	// by ApplicationKeyCredentials.
	Key []byte `json:"key,omitzero"`
	// CustomKeyIdentifier is the certificate's SHA-1 thumbprint, base64.
	CustomKeyIdentifier string    `json:"customKeyIdentifier,omitzero"`
	StartDateTime       time.Time `json:"startDateTime,omitzero"`
	EndDateTime         time.Time `json:"endDateTime,omitzero"`
}

// CreateApplication registers an application in the client's tenant and
// returns it with its object id and application id. The client then
// rides out replication delay on calls about the new app (see the package
// documentation).
//
// See https://learn.microsoft.com/graph/api/application-post-applications.
func (c *Client) CreateApplication(ctx context.Context, app Application) (Application, error) {
	if app.DisplayName == "" {
		return Application{}, invalidArg("an application needs a display name")
	}
	var out Application
	err := c.do(ctx, request{method: http.MethodPost, path: "/applications", body: app.writable(), class: httpx.RetryThrottleOnly}, &out)
	if err != nil {
		return Application{}, err
	}
	c.MarkCreated(out.ID, out.AppID)
	return out, nil
}

// GetApplication returns the application with object id objectID.
//
// See https://learn.microsoft.com/graph/api/application-get.
func (c *Client) GetApplication(ctx context.Context, objectID string) (Application, error) {
	if err := checkGUID("application object id", objectID); err != nil {
		return Application{}, err
	}
	var out Application
	err := c.do(ctx, request{method: http.MethodGet, path: "/applications/" + objectID, refs: []string{objectID}}, &out)
	return out, err
}

// ApplicationKeyCredentials returns the keyCredentials of the application
// with object id objectID, each with its Key: Graph returns a certificate's
// key only on a read of one application that selects keyCredentials. An
// update of keyCredentials replaces them all, so it must send back the
// keys it keeps whole.
//
// See https://learn.microsoft.com/graph/api/resources/keycredential.
func (c *Client) ApplicationKeyCredentials(ctx context.Context, objectID string) ([]KeyCredential, error) {
	if err := checkGUID("application object id", objectID); err != nil {
		return nil, err
	}
	var out Application
	err := c.do(ctx, request{method: http.MethodGet, path: "/applications/" + objectID, query: url.Values{"$select": {"keyCredentials"}}, refs: []string{objectID}}, &out)
	return out.KeyCredentials, err
}

// ApplicationByAppID returns the application whose application (client)
// id is appID, or an error matching ErrNotFound.
//
// See https://learn.microsoft.com/graph/api/application-list.
func (c *Client) ApplicationByAppID(ctx context.Context, appID string) (Application, error) {
	if err := checkGUID("application id", appID); err != nil {
		return Application{}, err
	}
	return firstMatch[Application](ctx, c, "/applications", "appId eq "+Quote(appID), "application with appId "+appID, appID)
}

// ApplicationsByDisplayName lists the applications called name. Display
// names are not unique: there may be several, or none.
//
// See https://learn.microsoft.com/graph/api/application-list.
func (c *Client) ApplicationsByDisplayName(ctx context.Context, name string) iter.Seq2[Application, error] {
	if name == "" {
		return fail[Application](invalidArg("empty application display name"))
	}
	return list[Application](ctx, c, "/applications", url.Values{"$filter": {"displayName eq " + Quote(name)}})
}

// UpdateApplication changes the properties of the application objectID
// that are set in app (zero fields are left alone; set a list to an empty,
// non-nil slice to clear it). Its id, appId and secrets cannot change this
// way.
//
// See https://learn.microsoft.com/graph/api/application-update.
func (c *Client) UpdateApplication(ctx context.Context, objectID string, app Application) error {
	if err := checkGUID("application object id", objectID); err != nil {
		return err
	}
	// PATCH sets properties to given values, so a replay is harmless.
	return c.do(ctx, request{method: http.MethodPatch, path: "/applications/" + objectID, body: app.writable(),
		class: httpx.RetryAlways, refs: []string{objectID}}, nil)
}

// DeleteApplication deletes the application objectID (Entra ID keeps it
// 30 days among deleted items). Its service principal in its home tenant
// goes with it; those in other tenants stay, but no token can be issued to
// the app any more.
//
// See https://learn.microsoft.com/graph/api/application-delete.
func (c *Client) DeleteApplication(ctx context.Context, objectID string) error {
	if err := checkGUID("application object id", objectID); err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: "/applications/" + objectID, refs: []string{objectID}}, nil)
}

// AddPassword adds a client secret to the application objectID, with
// cred's DisplayName, StartDateTime and EndDateTime (Graph's default
// lifetime is two years), and returns it with its SecretText: the only
// time Graph reveals it.
//
// See https://learn.microsoft.com/graph/api/application-addpassword.
func (c *Client) AddPassword(ctx context.Context, objectID string, cred PasswordCredential) (PasswordCredential, error) {
	if err := checkGUID("application object id", objectID); err != nil {
		return PasswordCredential{}, err
	}
	type in struct {
		DisplayName   string    `json:"displayName,omitzero"`
		StartDateTime time.Time `json:"startDateTime,omitzero"`
		EndDateTime   time.Time `json:"endDateTime,omitzero"`
	}
	body := struct {
		PasswordCredential in `json:"passwordCredential"`
	}{in{cred.DisplayName, cred.StartDateTime, cred.EndDateTime}}
	var out PasswordCredential
	err := c.do(ctx, request{method: http.MethodPost, path: "/applications/" + objectID + "/addPassword", body: body,
		class: httpx.RetryThrottleOnly, refs: []string{objectID}}, &out)
	if err != nil {
		return PasswordCredential{}, err
	}
	if out.SecretText.IsZero() {
		return PasswordCredential{}, fmt.Errorf("graph: POST /applications/%s/addPassword: the response holds no secretText", objectID)
	}
	return out, nil
}

// RemovePassword removes the client secret keyID from the application
// objectID.
//
// See https://learn.microsoft.com/graph/api/application-removepassword.
func (c *Client) RemovePassword(ctx context.Context, objectID, keyID string) error {
	if err := checkGUID("application object id", objectID); err != nil {
		return err
	}
	if err := checkGUID("password key id", keyID); err != nil {
		return err
	}
	body := struct {
		KeyID string `json:"keyId"`
	}{keyID}
	return c.do(ctx, request{method: http.MethodPost, path: "/applications/" + objectID + "/removePassword", body: body,
		class: httpx.RetryThrottleOnly, refs: []string{objectID}}, nil)
}

// AddKey adds a certificate to the application objectID: cred's Key is
// the certificate (DER, public part only), Type "AsymmetricX509Cert" and
// Usage "Verify" by default. proof is a JWT signed with the key of one of
// the app's current certificates (token.KeyProof): an app with no valid
// certificate cannot use AddKey and is updated with UpdateApplication
// instead. It returns the new keyCredential, without its key.
//
// See https://learn.microsoft.com/graph/api/application-addkey.
func (c *Client) AddKey(ctx context.Context, objectID string, cred KeyCredential, proof string) (KeyCredential, error) {
	if err := checkGUID("application object id", objectID); err != nil {
		return KeyCredential{}, err
	}
	if len(cred.Key) == 0 || proof == "" {
		return KeyCredential{}, invalidArg("AddKey needs the certificate and a proof of possession")
	}
	if cred.Type == "" {
		cred.Type, cred.Usage = "AsymmetricX509Cert", "Verify"
	}
	body := struct {
		KeyCredential      KeyCredential `json:"keyCredential"`
		PasswordCredential *struct{}     `json:"passwordCredential"`
		Proof              string        `json:"proof"`
	}{KeyCredential: cred, Proof: proof}
	var out KeyCredential
	err := c.do(ctx, request{method: http.MethodPost, path: "/applications/" + objectID + "/addKey", body: body,
		class: httpx.RetryThrottleOnly, refs: []string{objectID}}, &out)
	return out, err
}

// RemoveKey removes the certificate keyID from the application objectID;
// proof is as for AddKey.
//
// See https://learn.microsoft.com/graph/api/application-removekey.
func (c *Client) RemoveKey(ctx context.Context, objectID, keyID, proof string) error {
	if err := checkGUID("application object id", objectID); err != nil {
		return err
	}
	if err := checkGUID("key id", keyID); err != nil {
		return err
	}
	body := struct {
		KeyID string `json:"keyId"`
		Proof string `json:"proof"`
	}{keyID, proof}
	return c.do(ctx, request{method: http.MethodPost, path: "/applications/" + objectID + "/removeKey", body: body,
		class: httpx.RetryThrottleOnly, refs: []string{objectID}}, nil)
}

// firstMatch returns the first item of the collection at path that filter
// selects, or an error matching ErrNotFound naming what. A lookup of a
// recently created ref rides out replication delay, which shows here as
// an empty result rather than a 404.
func firstMatch[T any](ctx context.Context, c *Client, path, filter, what, ref string) (T, error) {
	var found T
	err := c.consistently(ctx, []string{ref}, func() error {
		var p page[T]
		if err := c.do(ctx, request{method: http.MethodGet, path: path, query: url.Values{"$filter": {filter}}}, &p); err != nil {
			return err
		}
		if len(p.Value) == 0 {
			return fmt.Errorf("graph: no %s: %w", what, ErrNotFound)
		}
		found = p.Value[0]
		return nil
	})
	return found, err
}

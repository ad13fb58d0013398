package partner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/samkit/samkit/internal/httpx"
)

// ApplicationConsent is a CPV (Control Panel Vendor) consent: Partner
// Center creates the application's service principal in the customer's
// tenant and grants it, for all users, the delegated scopes listed per
// resource application.
type ApplicationConsent struct {
	// ApplicationID is the consented application's (client) id: the SAM
	// app, which must be multi-tenant.
	ApplicationID string `json:"applicationId"`
	// DisplayName names the consent.
	DisplayName string `json:"displayName,omitempty"`
	// Grants lists, per resource application, the delegated scopes
	// consented.
	Grants []ApplicationGrant `json:"applicationGrants"`
}

// ApplicationGrant is the delegated scopes consented on one resource
// application.
type ApplicationGrant struct {
	// EnterpriseApplicationID is the resource's application id, for
	// example 00000003-0000-0000-c000-000000000000 for Microsoft Graph.
	EnterpriseApplicationID string
	// Scopes are permission names ("Directory.Read.All"). Partner Center
	// takes them comma-separated; the client joins and splits them.
	Scopes []string
}

type grantJSON struct {
	EnterpriseApplicationID string `json:"enterpriseApplicationId"`
	Scope                   string `json:"scope"`
}

// MarshalJSON renders g as Partner Center's ApplicationGrant: scopes
// comma-separated.
func (g ApplicationGrant) MarshalJSON() ([]byte, error) {
	return json.Marshal(grantJSON{EnterpriseApplicationID: g.EnterpriseApplicationID, Scope: strings.Join(g.Scopes, ",")})
}

// UnmarshalJSON reads Partner Center's ApplicationGrant.
func (g *ApplicationGrant) UnmarshalJSON(b []byte) error {
	var j grantJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	g.EnterpriseApplicationID, g.Scopes = j.EnterpriseApplicationID, nil
	for _, s := range strings.Split(j.Scope, ",") {
		if s = strings.TrimSpace(s); s != "" {
			g.Scopes = append(g.Scopes, s)
		}
	}
	return nil
}

// ConsentResult reports a CreateApplicationConsent.
type ConsentResult struct {
	// Consent is the consent as Partner Center recorded it; when
	// AlreadyExisted, the consent that was asked for.
	Consent ApplicationConsent
	// AlreadyExisted says that Partner Center answered "Permission entry
	// already exists" (409): the application was consented in the
	// customer's tenant before, and nothing changed. The scopes consented
	// then stand; to change them, delete the consent and create it again.
	AlreadyExisted bool
	// CorrelationID and RequestID identify the request.
	CorrelationID, RequestID string
}

// CreateApplicationConsent consents an application in a customer's tenant
// (the CPV consent of the Secure Application Model). A consent that exists
// already is not an error: the result says AlreadyExisted.
//
// The request is retried after throttling and server errors: Partner
// Center deduplicates on its MS-RequestId, which retries keep, and a
// replay that finds the consent made reports AlreadyExisted.
//
// https://learn.microsoft.com/partner-center/developer/control-panel-vendor-apis
func (c *Client) CreateApplicationConsent(ctx context.Context, customerTenantID string, consent ApplicationConsent) (ConsentResult, error) {
	const opName = "create application consent"
	if err := checkCustomer(customerTenantID); err != nil {
		return ConsentResult{}, fmt.Errorf("partner: %s: %w", opName, err)
	}
	if err := consent.validate(); err != nil {
		return ConsentResult{}, fmt.Errorf("partner: %s: %w", opName, err)
	}
	body, err := json.Marshal(consent)
	if err != nil {
		return ConsentResult{}, fmt.Errorf("partner: %s: %w", opName, err)
	}
	op := newOperation(opName)
	u := c.url(nil, "v1", "customers", customerTenantID, "applicationconsents")
	resp, err := c.send(ctx, op, http.MethodPost, u, nil, body, httpx.RetryAlways)
	var e *Error
	if errors.As(err, &e) && e.StatusCode == http.StatusConflict && strings.Contains(strings.ToLower(e.Description), "already exist") {
		return ConsentResult{Consent: consent, AlreadyExisted: true, CorrelationID: e.CorrelationID, RequestID: e.RequestID}, nil
	}
	if err != nil {
		return ConsentResult{}, err
	}
	res := ConsentResult{Consent: consent, CorrelationID: op.correlationID, RequestID: resp.requestID}
	var got ApplicationConsent
	if len(resp.body) > 0 {
		if err := json.Unmarshal(resp.body, &got); err != nil {
			return res, op.undecodable(resp, "decoding the answer", err)
		}
		if got.ApplicationID != "" {
			res.Consent = got
		}
	}
	return res, nil
}

// DeleteApplicationConsent removes an application's consent from a
// customer's tenant: Partner Center removes the application's service
// principal there, and with it the grants the consent made. It returns an
// error matching ErrNotFound when there is no such consent.
//
// https://learn.microsoft.com/partner-center/developer/control-panel-vendor-apis
func (c *Client) DeleteApplicationConsent(ctx context.Context, customerTenantID, applicationID string) error {
	const opName = "delete application consent"
	if err := checkCustomer(customerTenantID); err != nil {
		return fmt.Errorf("partner: %s: %w", opName, err)
	}
	if !httpx.IsGUID(applicationID) {
		return fmt.Errorf("partner: %s: the application id %q is not a GUID", opName, shorten(applicationID))
	}
	u := c.url(nil, "v1", "customers", customerTenantID, "applicationconsents", applicationID)
	_, err := c.send(ctx, newOperation(opName), http.MethodDelete, u, nil, nil, httpx.RetryIdempotent)
	return err
}

// checkCustomer refuses a customer id that is not a tenant id before it
// reaches a URL path: Partner Center addresses customers by tenant id, and
// an id read from elsewhere ("../../applications") must not redirect the
// call.
func checkCustomer(id string) error {
	if err := httpx.ValidPathSegment(id); err != nil {
		return fmt.Errorf("customer tenant id: %w", err)
	}
	if !httpx.IsGUID(id) {
		return fmt.Errorf("customer tenant id %q is not a GUID: Partner Center addresses customers by tenant id", shorten(id))
	}
	return nil
}

func (a ApplicationConsent) validate() error {
	if !httpx.IsGUID(a.ApplicationID) {
		return fmt.Errorf("application id %q is not a GUID", shorten(a.ApplicationID))
	}
	if len(a.Grants) == 0 {
		return errors.New("the consent grants nothing: give at least one ApplicationGrant")
	}
	for _, g := range a.Grants {
		if !httpx.IsGUID(g.EnterpriseApplicationID) {
			return fmt.Errorf("enterprise application id %q is not a GUID", shorten(g.EnterpriseApplicationID))
		}
		if len(g.Scopes) == 0 {
			return fmt.Errorf("the grant on %s has no scopes", g.EnterpriseApplicationID)
		}
		for _, s := range g.Scopes {
			if s == "" || strings.ContainsAny(s, ", \t\r\n") {
				return fmt.Errorf("scope %q on %s is empty or holds a comma or space", shorten(s), g.EnterpriseApplicationID)
			}
		}
	}
	return nil
}

// shorten keeps a rejected value from flooding a message.
func shorten(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

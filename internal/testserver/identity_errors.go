package testserver

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// The identity platform's errors that more than one endpoint answers,
// their texts as the identity platform writes them.
// https://learn.microsoft.com/entra/identity-platform/reference-error-codes

// mfaRequired is Conditional Access demanding MFA: invalid_grant with
// suberror basic_action and a claims challenge naming the policy, which a
// client passes to an interactive sign-in. The policy id is stable per
// tenant.
func mfaRequired(t *Tenant, rr *resourceRequest) *aadError {
	sum := sha256.Sum256([]byte("conditional access " + t.ID))
	policy := fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
	claims, _ := json.Marshal(map[string]any{"access_token": map[string]any{"capolids": map[string]any{"essential": true, "values": []string{policy}}}})
	return &aadError{Code: "invalid_grant", AADSTS: 50076, SubError: "basic_action", Claims: string(claims), Message: fmt.Sprintf(
		"Due to a configuration change made by your administrator, or because you moved to a new location, you must use "+
			"multi-factor authentication to access '%s'.", rr.app.AppID)}
}

// missingParam is AADSTS900144, a required parameter absent.
func missingParam(name string) *aadError {
	return &aadError{Code: "invalid_request", AADSTS: 900144,
		Message: fmt.Sprintf("The request body must contain the following parameter: '%s'.", name)}
}

// malformedGrant answers a code or refresh token the server never issued.
func malformedGrant() *aadError {
	return &aadError{Code: "invalid_grant", AADSTS: 9002313, Message: "Invalid request. Request is malformed or invalid."}
}

// invalidGrant answers a grant issued to another client.
func invalidGrant() *aadError {
	return &aadError{Code: "invalid_grant", AADSTS: 70000, Message: "Provided grant is invalid or malformed."}
}

// appNotFound is AADSTS700016: no such app, or no service principal of it
// in the tenant.
func appNotFound(appID string, lt loginTenant) *aadError {
	dir := lt.raw
	if lt.tenant != nil {
		dir = lt.tenant.DisplayName
	}
	return &aadError{Code: "unauthorized_client", AADSTS: 700016, Message: fmt.Sprintf("Application with identifier '%s' was "+
		"not found in the directory '%s'. This can happen if the application has not been installed by the administrator of "+
		"the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong "+
		"tenant.", appID, dir)}
}

// roundTrip formats a time as .NET's round-trip format, which the
// identity platform's messages use.
func roundTrip(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.0000000Z") }

// timeSpan formats a duration as a .NET TimeSpan (d.hh:mm:ss).
func timeSpan(d time.Duration) string {
	days := int(d / (24 * time.Hour))
	d -= time.Duration(days) * 24 * time.Hour
	return fmt.Sprintf("%d.%02d:%02d:%02d", days, int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second))
}

// consentRequired is AADSTS65001 with suberror consent_required: the
// client holds no grant (or not the permission asked) in the tenant.
func consentRequired(client *App) *aadError {
	return &aadError{Code: "invalid_grant", AADSTS: 65001, SubError: "consent_required", Message: fmt.Sprintf(
		"The user or administrator has not consented to use the application with ID '%s' named '%s'. "+
			"Send an interactive authorization request for this user and resource.", client.AppID, client.DisplayName)}
}

// partnerAppNotAuthorized is AADSTS90099: a partner's delegated admin
// (GDAP) asked for a token for an app that has no service principal in the
// customer tenant, which only pre-consent or Partner Center's consent API
// gives it.
// https://learn.microsoft.com/entra/identity-platform/reference-error-codes (AADSTS90099)
func partnerAppNotAuthorized(client *App, t *Tenant) *aadError {
	return &aadError{Code: "invalid_grant", AADSTS: 90099, Message: fmt.Sprintf("The application '%s' (%s) has not been "+
		"authorized in the tenant '%s'. Applications must be authorized to access the external tenant before partner "+
		"delegated administrators can use them. Provide pre-consent or execute the appropriate Partner Center API to "+
		"authorize the application.", client.AppID, client.DisplayName, t.ID)}
}

// grantOtherClient is AADSTS700007: a refresh token redeemed by a client
// other than the one it was issued to. The reference does not list the
// code; the service's answer is quoted in
// https://github.com/microsoft/Partner-Center-PowerShell/issues/419.
func grantOtherClient() *aadError {
	return &aadError{Code: "invalid_grant", AADSTS: 700007, Message: "The grant was issued for a different client id."}
}

// resourceNotFound is AADSTS500011: the resource has no service principal
// in the tenant, or no resource has that identifier.
func resourceNotFound(resource string, t *Tenant) *aadError {
	return &aadError{Code: "invalid_resource", AADSTS: 500011, Message: fmt.Sprintf(
		"The resource principal named %s was not found in the tenant named %s. This can happen if the application has not "+
			"been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent "+
			"your authentication request to the wrong tenant.", resource, t.DisplayName)}
}

// invalidScope is AADSTS70011, a scope that names nothing the resource
// publishes (or, for client credentials, several resources).
func invalidScope(scope string) *aadError {
	return &aadError{Code: "invalid_scope", AADSTS: 70011, Message: fmt.Sprintf(
		"The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' "+
			"is not valid. The scope %s is not valid.", scope)}
}

// invalidClient is a client authentication failure: HTTP 401.
func invalidClient(code int, msg string) *aadError {
	return &aadError{Status: http.StatusUnauthorized, Code: "invalid_client", AADSTS: code, Message: msg}
}

// tenantNotFound is AADSTS90002: no live tenant has that id or domain.
func tenantNotFound(raw string) *aadError {
	return &aadError{Code: "invalid_request", AADSTS: 90002, Message: fmt.Sprintf(
		"Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. "+
			"Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", raw)}
}

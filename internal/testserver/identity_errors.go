package testserver

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
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

// identityErrors are the identity platform's answers for the AADSTS codes
// an IdentityError fault can give, each with the OAuth error, status and
// text Microsoft's reference gives it (placeholders filled with neutral
// values). Codes the fake reaches through its own state (65001, 50076,
// 700082…) answer the same here as there.
// https://learn.microsoft.com/entra/identity-platform/reference-error-codes
var identityErrors = map[int]aadError{
	65001:   {Code: "invalid_grant", SubError: "consent_required", Message: "The user or administrator has not consented to use the application. Send an interactive authorization request for this user and resource."},
	90099:   {Code: "invalid_grant", Message: "The application has not been authorized in the tenant. Applications must be authorized to access the external tenant before partner delegated administrators can use them. Provide pre-consent or execute the appropriate Partner Center API to authorize the application."},
	65004:   {Code: "access_denied", Message: "User declined to consent to access the app."},
	650051:  {Code: "invalid_request", Message: "The service principal of the application already exists in the tenant."},
	90094:   {Code: "invalid_grant", Message: "Admin consent is required for the permissions requested by this application."},
	50076:   {Code: "invalid_grant", SubError: "basic_action", Message: "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access the resource."},
	50078:   {Code: "invalid_grant", SubError: "basic_action", Message: "Presented multi-factor authentication has expired due to policies configured by your administrator, you must refresh your multi-factor authentication to access the resource."},
	50079:   {Code: "invalid_grant", SubError: "basic_action", Message: "Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication to access the resource."},
	70043:   {Code: "invalid_grant", Message: "The refresh token has expired or is invalid due to sign-in frequency checks by conditional access."},
	53003:   {Code: "invalid_grant", Message: "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance."},
	53000:   {Code: "invalid_grant", Message: "Device is not in required device state: compliant. Conditional Access policy requires a compliant device, and the device is not compliant."},
	53001:   {Code: "invalid_grant", Message: "Device is not in required device state: domain_joined. Conditional Access policy requires a domain joined device, and the device is not domain joined."},
	530032:  {Code: "invalid_grant", Message: "User blocked due to a security policy. The tenant admin has configured a security policy that blocks this request."},
	530034:  {Code: "invalid_grant", Message: "Delegated administrator access is blocked due to suspicious activity in the home tenant."},
	50173:   {Code: "invalid_grant", Message: "The provided grant has expired due to it being revoked, a fresh auth token is needed."},
	70008:   {Code: "invalid_grant", Message: "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource."},
	700082:  {Code: "invalid_grant", Message: "The refresh token has expired due to inactivity."},
	70000:   {Code: "invalid_grant", Message: "Provided grant is invalid or malformed."},
	700007:  {Code: "invalid_grant", Message: "The grant was issued for a different client id."},
	9002313: {Code: "invalid_grant", Message: "Invalid request. Request is malformed or invalid."},
	50196:   {Code: "invalid_grant", Message: "The server terminated an operation because it encountered a client request loop. Please contact your app vendor."},
	90055:   {Status: http.StatusTooManyRequests, Code: "temporarily_unavailable", Message: "TenantThrottlingError: There are too many incoming requests. This exception is thrown for blocked tenants."},
	7000215: {Status: http.StatusUnauthorized, Code: "invalid_client", Message: "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID."},
	7000222: {Status: http.StatusUnauthorized, Code: "invalid_client", Message: "The provided client secret keys are expired."},
	7000218: {Status: http.StatusUnauthorized, Code: "invalid_client", Message: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."},
	700025:  {Status: http.StatusUnauthorized, Code: "invalid_client", Message: "Client is public so neither 'client_assertion' nor 'client_secret' should be presented."},
	700027:  {Status: http.StatusUnauthorized, Code: "invalid_client", Message: "Client assertion failed signature validation."},
	700024:  {Status: http.StatusUnauthorized, Code: "invalid_client", Message: "Client assertion is not within its valid time range."},
	700016:  {Code: "unauthorized_client", Message: "Application was not found in the directory. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant."},
	7000112: {Code: "unauthorized_client", Message: "Application is disabled."},
	500011:  {Code: "invalid_resource", Message: "The resource principal was not found in the tenant."},
	70011:   {Code: "invalid_scope", Message: "The provided value for the input parameter 'scope' is not valid."},
	700022:  {Code: "invalid_scope", Message: "The provided value for the input parameter scope is not valid because it contains more than one resource."},
	90002:   {Code: "invalid_request", Message: "Tenant not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."},
	50020:   {Code: "invalid_grant", Message: "User account from identity provider does not exist in tenant and cannot access the application in that tenant."},
	50177:   {Code: "invalid_grant", Message: "User account is from an external tenant that is not allowed to access this application."},
	50105:   {Code: "invalid_grant", Message: "Your administrator has configured the application to block users unless they are specifically granted ('assigned') access to the application."},
	50011:   {Code: "invalid_request", Message: "The redirect URI specified in the request does not match the redirect URIs configured for the application."},
	50057:   {Code: "invalid_grant", Message: "The user account is disabled."},
	50053:   {Code: "invalid_grant", Message: "Your account is locked because you've tried to sign in too many times with an incorrect user ID or password."},
	50055:   {Code: "invalid_grant", Message: "The password is expired."},
	70019:   {Code: "expired_token", Message: "Verification code expired."},
}

// IdentityErrorCodes returns the AADSTS codes an IdentityError fault can
// answer with their documented shape, in ascending order.
func IdentityErrorCodes() []int {
	codes := make([]int, 0, len(identityErrors))
	for c := range identityErrors {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	return codes
}

// identityError is the answer for code: the documented one, or, for a
// code the fake does not know, invalid_request with the bare code.
func identityError(code int) aadError {
	if e, ok := identityErrors[code]; ok {
		e.AADSTS = code
		return e
	}
	return aadError{Code: "invalid_request", AADSTS: code, Message: "The request failed."}
}

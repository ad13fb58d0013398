package token

import (
	"fmt"
	"net/http"
)

// Hint says, in words a person can act on, what to do about e: which
// command to run, which setting to change. It follows Microsoft's AADSTS
// reference and the Secure Application Model's failure modes; it never
// returns "".
func (e *Error) Hint() string {
	t := e.Tenant
	if t == "" {
		t = "the tenant"
	}
	for _, c := range e.Codes {
		if h := codeHint(c, t, e.Scope); h != "" {
			return h
		}
	}
	switch {
	case e.SubError == "consent_required" || e.Code == "consent_required":
		return codeHint(65001, t, e.Scope)
	case e.StatusCode == http.StatusTooManyRequests:
		return "The identity platform is throttling token requests: wait a minute and retry, and process fewer tenants at once."
	case e.Code == "interaction_required":
		return fmt.Sprintf("Tenant %s requires an interactive sign-in (MFA, Conditional Access or new terms): re-run the consent sign-in (samctl setup).", t)
	case e.Code == "invalid_client":
		return "The client credentials were rejected: check the application ID and the client secret value or certificate."
	case e.Code == "invalid_grant":
		return "The refresh token was refused: re-run the consent sign-in (samctl setup) to mint a new one."
	case e.Code == "":
		return fmt.Sprintf("The token endpoint answered HTTP %d without Microsoft's error body: a proxy, firewall or outage is in the way; check the network path to %s and retry.", e.StatusCode, e.Endpoint)
	}
	if e.TraceID != "" {
		return fmt.Sprintf("Look up %s in Microsoft's AADSTS reference; give trace ID %s and correlation ID %s to Microsoft support if it persists.", e.Code, e.TraceID, e.CorrelationID)
	}
	return fmt.Sprintf("Look up %s in Microsoft's AADSTS reference.", e.Code)
}

// codeHint is the advice for one AADSTS code, or "" for a code without
// specific advice.
func codeHint(code int, tenant, scope string) string {
	switch code {
	case 65001:
		return fmt.Sprintf("The SAM app is not consented in tenant %s: push CPV consent to this customer (samctl consent push %s) or grant admin consent.", tenant, tenant)
	case 50076:
		return fmt.Sprintf("Tenant %s requires MFA for this sign-in. If it is a customer, its Conditional Access demands MFA a refresh token cannot answer: trust MFA from the partner's tenant there (cross-tenant access settings, inbound) or exclude service provider users from the policy. If it is the partner's own tenant, re-run the consent sign-in (samctl setup) and complete MFA; a trusted-IP bypass gives tokens without MFA, which partner APIs refuse.", tenant)
	case 50079:
		return "The admin must register for MFA: sign in once at https://aka.ms/mfasetup, then re-run the consent sign-in (samctl setup)."
	case 53003:
		return fmt.Sprintf("A Conditional Access policy in tenant %s blocked the token: exclude the SAM app's sign-in from that policy or satisfy it (compliant device, location, MFA).", tenant)
	case 50173, 70008, 70000:
		return "The refresh token was revoked or is no longer valid (password reset, sessions revoked, or consent removed): re-run the consent sign-in (samctl setup) to mint a new one."
	case 700082:
		return "The refresh token was unused for 90 days and has expired: re-run the consent sign-in (samctl setup) and persist rotated tokens so it never idles."
	case 7000215:
		return "The client secret is wrong — often the secret's ID was pasted instead of its value: paste the secret value."
	case 7000222:
		return "The client secret has expired: create a new one (samctl rotate-secret) and store it."
	case 700025:
		return "A public client's refresh token was redeemed with a client secret: keep the Exchange (public client) and SAM (confidential) refresh tokens apart."
	case 700016:
		return fmt.Sprintf("The application was not found in tenant %s: check the application (client) ID, and that the app is consented there (samctl consent push %s).", tenant, tenant)
	case 500011:
		return fmt.Sprintf("The resource of scope %q has no service principal in tenant %s: consent that resource in the tenant (samctl consent push %s).", scope, tenant, tenant)
	case 90002:
		return fmt.Sprintf("Tenant %s was not found: the tenant ID or domain is wrong, or the tenant was deleted.", tenant)
	case 50020, 50177:
		return fmt.Sprintf("The signed-in admin has no access to tenant %s: add the user to the security groups of an active GDAP relationship with this customer.", tenant)
	case 70011, 700022:
		return fmt.Sprintf("The scope %q is invalid: ask for one resource's scopes at a time, e.g. https://graph.microsoft.com/.default.", scope)
	case 7000112:
		return fmt.Sprintf("The SAM app is disabled or blocked in tenant %s: re-enable its enterprise application there.", tenant)
	}
	return ""
}

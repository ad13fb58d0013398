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
	for _, a := range codeAdvice {
		for _, c := range a.codes {
			if c == code {
				return a.hint(tenant, scope)
			}
		}
	}
	return ""
}

// advice is what samkit says about some AADSTS codes: what they mean, in
// short, after Microsoft's reference
// (https://learn.microsoft.com/entra/identity-platform/reference-error-codes),
// and what to do. It is the one source of Hint, of samctl's fix lines and
// of the README's table of hints (hints_test.go keeps that in step).
type advice struct {
	codes   []int
	meaning string
	hint    func(tenant, scope string) string
}

// same is a hint that names neither tenant nor scope.
func same(s string) func(string, string) string { return func(string, string) string { return s } }

var codeAdvice = []advice{
	{[]int{65001}, "the app is not consented in that tenant", func(t, _ string) string {
		return fmt.Sprintf("The SAM app is not consented in tenant %s: push CPV consent to this customer (samctl consent push %s) or grant admin consent.", t, t)
	}},
	{[]int{90099}, "the app is not authorized in the customer, so partner admins (GDAP) cannot use it there", func(t, _ string) string {
		return fmt.Sprintf("The SAM app has not been authorized in customer tenant %s, so the partner's admins cannot use it there: push CPV consent to this customer (samctl consent push %s); Partner Center's consent is what authorizes it.", t, t)
	}},
	{[]int{65004}, "the admin declined the consent prompt", same(
		"The admin declined the consent prompt: run the sign-in again (samctl setup) and accept the permissions the SAM app asks for.")},
	{[]int{650051}, "the app's service principal already exists in the tenant", func(t, _ string) string {
		return fmt.Sprintf("The SAM app's service principal already exists in tenant %s: consent was given before; nothing to do.", t)
	}},
	{[]int{90094}, "consent needs an administrator", func(t, _ string) string {
		return fmt.Sprintf("Consent in tenant %s needs an administrator: sign in as a Global Administrator (or a Privileged Role or Cloud Application Administrator) to grant it.", t)
	}},
	{[]int{50076}, "MFA is required for this sign-in", func(t, _ string) string {
		return fmt.Sprintf("Tenant %s requires MFA for this sign-in. If it is a customer, its Conditional Access demands MFA a refresh token cannot answer: trust MFA from the partner's tenant there (cross-tenant access settings, inbound) or exclude service provider users from the policy. If it is the partner's own tenant, re-run the consent sign-in (samctl setup) and complete MFA; a trusted-IP bypass gives tokens without MFA, which partner APIs refuse.", t)
	}},
	{[]int{50078}, "the MFA the admin presented has expired", func(t, _ string) string {
		return fmt.Sprintf("The MFA the admin presented has expired under the policies of tenant %s: re-run the consent sign-in (samctl setup) and complete MFA again.", t)
	}},
	{[]int{50079}, "the admin must register for MFA", same(
		"The admin must register for MFA: sign in once at https://aka.ms/mfasetup, then re-run the consent sign-in (samctl setup).")},
	{[]int{70043}, "Conditional Access sign-in frequency expired the refresh token", func(t, _ string) string {
		return fmt.Sprintf("A sign-in frequency policy of Conditional Access in tenant %s expired the refresh token: re-run the consent sign-in (samctl setup); a background job cannot answer it, so exclude the SAM app (or, in a customer, service provider users) from that policy.", t)
	}},
	{[]int{53003}, "blocked by Conditional Access", func(t, _ string) string {
		return fmt.Sprintf("A Conditional Access policy in tenant %s blocked the token: exclude the SAM app's sign-in from that policy or satisfy it (compliant device, location, MFA); if it blocks the device code flow, sign in in a browser (samctl setup --browser).", t)
	}},
	{[]int{53000, 53001}, "Conditional Access requires a compliant or domain-joined device", func(t, _ string) string {
		return fmt.Sprintf("Conditional Access in tenant %s requires a compliant or domain-joined device, which a server running samkit is not: exclude the SAM app's sign-in (or, in a customer, service provider users) from that policy.", t)
	}},
	{[]int{530032}, "a tenant security policy blocks the request", func(t, _ string) string {
		return fmt.Sprintf("A security policy of tenant %s blocks this request (for example one that blocks the device code flow): sign in in a browser instead of with a device code (samctl setup --browser), or exclude the SAM sign-in from the policy.", t)
	}},
	{[]int{530034}, "the delegated admin is blocked for account risk in the partner tenant", func(t, _ string) string {
		return fmt.Sprintf("Tenant %s blocks the partner's admin because of account risk in the partner tenant: remediate the admin's risk (Entra ID Protection, password reset) in the partner tenant, then re-run the consent sign-in (samctl setup).", t)
	}},
	{[]int{50173, 70008}, "the grant was revoked or has expired", same(
		"The refresh token was revoked or has expired (password reset, sessions revoked, or consent removed): re-run the consent sign-in (samctl setup) to mint a new one.")},
	{[]int{700082}, "the refresh token was idle for 90 days", same(
		"The refresh token was unused for 90 days and has expired: re-run the consent sign-in (samctl setup) and persist rotated tokens so it never idles.")},
	{[]int{70000}, "the refresh token is not valid (malformed, or its token binding does not match)", same(
		"The refresh token is not valid: it was altered or cut when it was copied, or it is bound to another device. Paste it again whole, or re-run the consent sign-in (samctl setup) to mint a new one.")},
	{[]int{700007}, "the refresh token was issued to another application", same(
		"The refresh token was issued to another application than the one redeeming it: store the refresh token minted for this application ID (one from another tool does not carry over), or re-run the consent sign-in (samctl setup) for this app.")},
	{[]int{9002313}, "the request is malformed, often a garbled token", same(
		"The token endpoint found the request malformed, most often a garbled or truncated refresh token: paste the credentials again whole, or re-run the consent sign-in (samctl setup).")},
	{[]int{50196}, "a client request loop: the same token asked for too often", same(
		"The identity platform saw the same token request too often and is refusing it for a few minutes: wait, then retry; share one token.Provider (it caches tokens) rather than making one per call.")},
	{[]int{90055}, "the tenant is throttled", func(t, _ string) string {
		return fmt.Sprintf("The identity platform is throttling requests for tenant %s: wait a minute and retry, with fewer tenants at once.", t)
	}},
	{[]int{7000215}, "wrong client secret, often the secret's id pasted instead of its value", same(
		"The client secret is wrong — often the secret's ID was pasted instead of its value: paste the secret value.")},
	{[]int{7000222}, "the client secret expired", same(
		"The client secret has expired: create a new one (samctl rotate-secret) and store it.")},
	{[]int{7000218}, "no client secret or certificate was sent", same(
		"The request carried no client secret or certificate: set the client secret (SAMKIT_CLIENT_SECRET or the credentials file) or a certificate.")},
	{[]int{700025}, "a public client's token was redeemed with a secret", same(
		"A public client's refresh token was redeemed with a client secret: keep the Exchange (public client) and SAM (confidential) refresh tokens apart.")},
	{[]int{700027}, "the certificate of the client assertion is not registered, or the signature is wrong", same(
		"The certificate the client assertion was signed with is not registered on the app, has expired, or does not match its private key: upload the certificate's public part to the app (App registrations > Certificates & secrets).")},
	{[]int{700024}, "the client assertion is outside its valid time", same(
		"The client assertion is outside its valid time range: this machine's clock is off; synchronise it (NTP) and retry.")},
	{[]int{700016}, "the app is not found in that tenant", func(t, _ string) string {
		return fmt.Sprintf("The application was not found in tenant %s: check the application (client) ID, and that the app is consented there, which gives it its service principal (samctl consent push %s).", t, t)
	}},
	{[]int{7000112}, "the app is disabled", func(t, _ string) string {
		return fmt.Sprintf("The application is disabled or blocked in tenant %s: re-enable its enterprise application there. If it is the Exchange Online PowerShell client (a0c73c16-…), Microsoft has retired it: stop using the legacy Exchange refresh token (drop setup --legacy-exchange); samkit reaches Exchange with the SAM app's own token.", t)
	}},
	{[]int{500011}, "the resource's service principal is missing in the tenant", func(t, scope string) string {
		return fmt.Sprintf("The resource of scope %q has no service principal in tenant %s: consent that resource in the tenant (samctl consent push %s).", scope, t, t)
	}},
	{[]int{70011, 700022}, "the scope is invalid", func(_, scope string) string {
		return fmt.Sprintf("The scope %q is invalid: ask for one resource's scopes at a time, e.g. https://graph.microsoft.com/.default.", scope)
	}},
	{[]int{90002}, "the tenant does not exist", func(t, _ string) string {
		return fmt.Sprintf("Tenant %s was not found: it no longer exists, or its ID or domain is wrong. If it is a customer still listed, end the partner's relationships with it (GDAP, contract, Partner Center) so that it leaves the list.", t)
	}},
	{[]int{50020, 50177}, "the admin is outside the customer's GDAP groups", func(t, _ string) string {
		return fmt.Sprintf("The signed-in admin has no access to tenant %s: add the admin to the security groups of an active GDAP relationship with this customer, or renew the relationship if it has ended.", t)
	}},
	{[]int{50105}, "the admin is not assigned to the app, and the tenant requires assignment", func(t, _ string) string {
		return fmt.Sprintf("The signed-in admin is not assigned to the app and tenant %s requires assignment: assign the admin (or a group) to the enterprise application, or turn off 'Assignment required'.", t)
	}},
	{[]int{50011}, "the sign-in's redirect URI is not registered on the app", same(
		"The sign-in's redirect URI is not registered on the app: add it to the app (App registrations > Authentication); setup signs in through http://localhost.")},
	{[]int{50057}, "the admin's account is disabled", func(t, _ string) string {
		return fmt.Sprintf("The admin's account is disabled in tenant %s: enable it, or sign in as another admin (samctl setup).", t)
	}},
	{[]int{50053}, "the account is locked, or the sign-in came from a malicious IP address", same(
		"The account is locked after too many sign-in attempts, or the sign-in came from a blocked IP address: wait, check the tenant's sign-in logs for the reason, then sign in again.")},
	{[]int{50055}, "the admin's password has expired", same(
		"The admin's password has expired: reset it, then re-run the consent sign-in (samctl setup).")},
	{[]int{70019}, "the device code expired before the sign-in finished", same(
		"The device code expired before the sign-in was finished: start the sign-in again and complete it within 15 minutes.")},
}

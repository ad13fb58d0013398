// Package partner is a client of the Partner Center REST API for the two
// things the Secure Application Model needs from it: the partner's list of
// customers, and CPV (Control Panel Vendor) consent, which installs the
// SAM app in a customer's tenant.
//
//	p, _ := token.NewProvider(creds)
//	pc, err := partner.New(p.Source(creds.TenantID, p.Cloud().PartnerCenter.Scope()))
//	for c, err := range pc.Customers(ctx, partner.ListOptions{}) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(c.TenantID(), c.CompanyProfile.CompanyName)
//	}
//
// # Authentication
//
// Partner Center takes delegated (App+User) tokens issued in the partner
// tenant for https://api.partnercenter.microsoft.com: the SAM refresh
// token redeemed at the partner tenant, as token.Provider.Source does.
// Listing customers also accepts app-only tokens; consents do not (code
// 900329). Since April 2026 Partner Center refuses App+User calls whose
// token carries no MFA claim, with 401 and code 900421: the admin who
// consented the SAM app must have signed in with multifactor
// authentication, and no trusted-IP bypass satisfies it. Such an error
// matches ErrMFARequired, and its Hint says what to do.
//
// # Consent
//
// CreateApplicationConsent creates the app's service principal in the
// customer's tenant and an admin-consented delegated grant of the listed
// scopes on each resource (Microsoft Graph, Exchange Online…), after which
// the SAM refresh token yields delegated tokens for that customer. Scopes
// travel comma-separated; ApplicationGrant joins and splits them. Partner
// Center answers 409 "Permission entry already exists" for an app consented
// before, which the client reports as success with AlreadyExisted set.
// DeleteApplicationConsent removes the consent, and the app's service
// principal with it.
//
// # Errors
//
// A 4xx or 5xx answer is an *Error carrying Partner Center's code and
// description and the request's MS-CorrelationId and MS-RequestId (new
// GUIDs per call and per request, which Microsoft support asks for); it is
// found through wrapping with errors.As, and errors.Is matches it against
// ErrUnauthorized, ErrMFARequired, ErrForbidden, ErrNotFound and
// ErrThrottled. Bodies that are empty or not JSON — a gateway's HTML page —
// are described, redacted, in the error's Description; so is a success
// answer whose body cannot be used (cut off, empty, oversized), as an
// *Error with its 2xx status. A customer id that is not a tenant GUID is
// refused before any request is sent.
//
// # Throttling and retries
//
// Requests go through a retrying client (see WithRetryPolicy) that waits
// out 429 answers for as long as Retry-After asks, up to a cap, and
// retries server errors of reads. Every call takes a context; cancelling
// it ends waits at once.
//
// # Paging
//
// Customers returns an iterator that fetches pages as it is consumed,
// following each page's links.next with its MS-ContinuationToken header.
package partner

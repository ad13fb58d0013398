package partner_test

import (
	"testing"

	"github.com/samkit/samkit/internal/faulttest"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/partner"
)

// TestFaultHostileIDs feeds customer ids read from hostile contract rows
// to every call that puts a customer or application id in a URL: each is
// refused before anything is sent.
func TestFaultHostileIDs(t *testing.T) {
	t.Parallel()
	e := newFaultEnv(t)
	ctx := t.Context()
	for _, id := range faulttest.ServeHostileContracts(t, e.srv) {
		short := faulttest.Short(id)
		faulttest.Refused(t, e.srv, "CreateApplicationConsent("+short+")", func() error {
			_, err := e.pc.CreateApplicationConsent(ctx, id, e.consent)
			return err
		})
		faulttest.Refused(t, e.srv, "DeleteApplicationConsent customer("+short+")", func() error {
			return e.pc.DeleteApplicationConsent(ctx, id, e.consent.ApplicationID)
		})
		faulttest.Refused(t, e.srv, "DeleteApplicationConsent app("+short+")", func() error {
			return e.pc.DeleteApplicationConsent(ctx, e.customer, id)
		})
		bad := e.consent
		bad.ApplicationID = id
		faulttest.Refused(t, e.srv, "CreateApplicationConsent app("+short+")", func() error {
			_, err := e.pc.CreateApplicationConsent(ctx, e.customer, bad)
			return err
		})
		bad = e.consent
		bad.Grants = []partner.ApplicationGrant{{EnterpriseApplicationID: id, Scopes: []string{"User.Read"}}}
		faulttest.Refused(t, e.srv, "CreateApplicationConsent grant("+short+")", func() error {
			_, err := e.pc.CreateApplicationConsent(ctx, e.customer, bad)
			return err
		})
	}
}

// TestFaultHostileDisplayName: a consent's display name that tries to
// close the JSON string and name another application travels as one
// string; the consent is the SAM app's, and the name round-trips.
func TestFaultHostileDisplayName(t *testing.T) {
	t.Parallel()
	e := newFaultEnv(t)
	name := `SAM","applicationId":"00000003-0000-0000-c000-000000000000","x":"` + "\r\n\u202e<b>"
	c := e.consent
	c.DisplayName = name
	res, err := e.pc.CreateApplicationConsent(t.Context(), e.customer, c)
	if err != nil {
		t.Fatal(err)
	}
	if res.Consent.DisplayName != name || res.Consent.ApplicationID != c.ApplicationID {
		t.Errorf("consent %q of %s, want %q of %s", res.Consent.DisplayName, res.Consent.ApplicationID, name, c.ApplicationID)
	}
	e.srv.Read(func(w *testserver.World) {
		for _, cust := range w.Partner.Customers {
			if cust.ID != e.customer {
				continue
			}
			if _, ok := cust.Consents[c.ApplicationID]; !ok || len(cust.Consents) != 1 {
				t.Errorf("the customer holds consents %v, want only the SAM app's", cust.Consents)
			}
		}
	})
}

package partner_test

import (
	"context"
	"errors"
	"testing"

	"github.com/samkit/samkit/internal/faulttest"
	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/partner"
)

var partnerService = faulttest.Service{
	Fault:  "partner",
	Prefix: "partner: ",
	Status: func(err error) (int, bool) {
		var e *partner.Error
		if errors.As(err, &e) {
			return e.StatusCode, true
		}
		return 0, false
	},
	Throttled: partner.ErrThrottled,
}

// faultEnv is a fake cloud with three Partner Center customers, a SAM app
// to consent, and a client signed in as the partner's admin, with MFA,
// over a counting wire.
type faultEnv struct {
	srv      *testserver.Server
	wire     *faulttest.Wire
	pc       *partner.Client
	customer string
	consent  partner.ApplicationConsent
}

func newFaultEnv(t *testing.T) *faultEnv {
	t.Helper()
	srv := testserver.New()
	t.Cleanup(srv.Close)
	app, err := srv.RegisterApp(testserver.AppSpec{})
	if err != nil {
		t.Fatal(err)
	}
	e := &faultEnv{srv: srv, wire: faulttest.NewWire(srv), consent: partner.ApplicationConsent{
		ApplicationID: app.AppID, DisplayName: "SAM",
		Grants: []partner.ApplicationGrant{{EnterpriseApplicationID: testserver.GraphAppID, Scopes: []string{"Directory.Read.All"}}},
	}}
	for range 3 {
		e.customer = srv.AddCustomer(testserver.CustomerSpec{PartnerCenter: true, GDAP: true})
	}
	e.pc, err = partner.New(faulttest.StaticSource(srv.IssueAccessToken(adminSpec(srv))), partner.WithCloud(srv.Cloud()),
		partner.WithHTTPClient(e.wire.Client()), partner.WithRetryPolicy(faulttest.Policy))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func faultOps(e *faultEnv) []faulttest.Op {
	return []faulttest.Op{
		{Name: "Customers", Class: httpx.RetryAlways, Run: func(ctx context.Context) error {
			for _, err := range e.pc.Customers(ctx, partner.ListOptions{}) {
				if err != nil {
					return err
				}
			}
			return nil
		}},
		{Name: "CreateApplicationConsent", Class: httpx.RetryAlways,
			// An empty success answer is taken as done: the consent is
			// then the one asked for.
			Unread: []testserver.FaultKind{testserver.Empty},
			Prepare: func(ctx context.Context) error {
				if err := e.pc.DeleteApplicationConsent(ctx, e.customer, e.consent.ApplicationID); err != nil && !errors.Is(err, partner.ErrNotFound) {
					return err
				}
				return nil
			},
			Run: func(ctx context.Context) error {
				res, err := e.pc.CreateApplicationConsent(ctx, e.customer, e.consent)
				if err == nil && res.AlreadyExisted {
					return errors.New("the consent existed before it was made")
				}
				return err
			}},
		{Name: "DeleteApplicationConsent", Class: httpx.RetryAlways,
			Unread: []testserver.FaultKind{testserver.Empty, testserver.Truncated},
			Prepare: func(ctx context.Context) error {
				_, err := e.pc.CreateApplicationConsent(ctx, e.customer, e.consent)
				return err
			},
			Run: func(ctx context.Context) error {
				return e.pc.DeleteApplicationConsent(ctx, e.customer, e.consent.ApplicationID)
			}},
	}
}

// TestFaultSweep drives every operation of the client into every fault
// of Partner Center's answers.
func TestFaultSweep(t *testing.T) {
	faulttest.NoLeaks(t)
	var names []string
	for _, op := range faultOps(&faultEnv{}) {
		names = append(names, op.Name)
	}
	faulttest.Concurrently(t, names, func(t *testing.T, i int) {
		e := newFaultEnv(t)
		faulttest.Sweep(t, faulttest.Target{Server: e.srv, Wire: e.wire, Service: partnerService, Op: faultOps(e)[i]})
	})
}

package exchange_test

import (
	"context"
	"errors"
	"testing"

	"github.com/samkit/samkit/exchange"
	"github.com/samkit/samkit/internal/faulttest"
	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/internal/testserver"
)

var exchangeService = faulttest.Service{
	Fault:  "exchange",
	Prefix: "exchange: ",
	Status: func(err error) (int, bool) {
		var e *exchange.Error
		if errors.As(err, &e) {
			return e.StatusCode, true
		}
		return 0, false
	},
	Throttled: exchange.ErrThrottled,
}

// TestFaultSweep drives Invoke into every fault of the admin API's
// answers: a cmdlet of one page, and one whose output spans pages, through
// InvokeCommand and through the Admin API v2.0.
func TestFaultSweep(t *testing.T) {
	faulttest.NoLeaks(t)
	ops := []struct {
		name   string
		cmdlet string
		opts   []exchange.Option
		v2     bool // v2.0: its token, and pages of the service's size
	}{
		{"Get-OrganizationConfig", "Get-OrganizationConfig", nil, false},
		{"Get-Mailbox paged", "Get-Mailbox", []exchange.Option{exchange.WithPageSize(2)}, false},
		{"v2.0 Get-OrganizationConfig", "Get-OrganizationConfig", []exchange.Option{exchange.WithAPI(exchange.APIV2)}, true},
		{"v2.0 Get-Mailbox paged", "Get-Mailbox", []exchange.Option{exchange.WithAPI(exchange.APIV2)}, true},
	}
	var names []string
	for _, op := range ops {
		names = append(names, op.name)
	}
	faulttest.Concurrently(t, names, func(t *testing.T, i int) {
		op := ops[i]
		srv := testserver.New()
		t.Cleanup(srv.Close)
		tenant := srv.AddCustomer(testserver.CustomerSpec{Users: 3})
		spec := adminSpec(tenant)
		if op.v2 {
			spec = v2Spec(tenant)
			srv.Mutate(func(w *testserver.World) { w.MaxPageSize = 2 })
		}
		wire := faulttest.NewWire(srv)
		exo, err := exchange.New(faulttest.StaticSource(srv.IssueAccessToken(spec)), tenant,
			append([]exchange.Option{exchange.WithCloud(srv.Cloud()), exchange.WithHTTPClient(wire.Client()),
				exchange.WithRetryPolicy(faulttest.Policy)}, op.opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		faulttest.Sweep(t, faulttest.Target{Server: srv, Wire: wire, Service: exchangeService, Op: faulttest.Op{
			Name:  op.name,
			Class: httpx.RetryAlways, // Get-* cmdlets only read
			Run: func(ctx context.Context) error {
				for _, err := range exo.Invoke(ctx, op.cmdlet, nil) {
					if err != nil {
						return err
					}
				}
				return nil
			},
		}})
	})
}

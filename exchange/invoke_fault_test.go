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
// answers: a cmdlet of one page, and one whose output spans pages.
func TestFaultSweep(t *testing.T) {
	faulttest.NoLeaks(t)
	ops := []struct {
		name   string
		cmdlet string
		opts   []exchange.Option
	}{
		{"Get-OrganizationConfig", "Get-OrganizationConfig", nil},
		{"Get-Mailbox paged", "Get-Mailbox", []exchange.Option{exchange.WithPageSize(2)}},
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
		wire := faulttest.NewWire(srv)
		exo, err := exchange.New(faulttest.StaticSource(srv.IssueAccessToken(adminSpec(tenant))), tenant,
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

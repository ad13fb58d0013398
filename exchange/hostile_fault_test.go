package exchange_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/samkit/samkit/exchange"
	"github.com/samkit/samkit/internal/faulttest"
	"github.com/samkit/samkit/internal/testserver"
)

// TestFaultHostileTenants: a client cannot be made for a tenant id read
// from a hostile contract row, so no request can carry it into a URL.
func TestFaultHostileTenants(t *testing.T) {
	t.Parallel()
	f := setup(t, testserver.CustomerSpec{})
	for _, id := range faulttest.ServeHostileContracts(t, f.srv) {
		faulttest.Refused(t, f.srv, "New("+faulttest.Short(id)+")", func() error {
			_, err := exchange.New(f.src, id, exchange.WithCloud(f.srv.Cloud()))
			return err
		})
	}
}

// TestFaultHostileCmdlets: cmdlet names and anchors that try to smuggle a
// second command, a header or a path are refused before sending, with an
// error that quotes them; hostile parameter values travel as JSON strings
// and reach the cmdlet as one value.
func TestFaultHostileCmdlets(t *testing.T) {
	t.Parallel()
	f := setup(t, testserver.CustomerSpec{})
	ctx := t.Context()
	first := func(cmdlet string, params map[string]any, opts ...exchange.InvokeOption) error {
		for _, err := range f.exo.Invoke(ctx, cmdlet, params, opts...) {
			if err != nil {
				return err
			}
		}
		return nil
	}
	for _, cmdlet := range []string{"", "Get-Mailbox; Remove-Mailbox -Identity x", "Get-Mailbox|Remove-Mailbox", "Get-Mailbox -Identity x",
		"Get-Mailbox\r\nX-Injected: 1", "../../InvokeCommand", "Get-Mailbox\x00", "Get-\u202eMailbox", strings.Repeat("A", 200) + "-B"} {
		faulttest.Refused(t, f.srv, "Invoke("+faulttest.Short(cmdlet)+")", func() error { return first(cmdlet, nil) })
	}
	for _, anchor := range []string{"UPN:a@b\r\nAuthorization: Bearer x", "no-prefix", "UPN:", "UPN:a b"} {
		faulttest.Refused(t, f.srv, "AnchorMailbox("+faulttest.Short(anchor)+")", func() error {
			return first("Get-Mailbox", nil, exchange.AnchorMailbox(anchor))
		})
		faulttest.Refused(t, f.srv, "AnchorMailbox with a hostile cmdlet", func() error {
			return first("Get-Mailbox\r\nlevel=ERROR msg=forged", nil, exchange.AnchorMailbox(anchor))
		})
		faulttest.Refused(t, f.srv, "WithAnchorMailbox("+faulttest.Short(anchor)+")", func() error {
			_, err := exchange.New(f.src, f.tenant, exchange.WithCloud(f.srv.Cloud()), exchange.WithAnchorMailbox(anchor))
			return err
		})
	}

	identity := `x"},"CmdletName":"Remove-Mailbox","Parameters":{"Identity":"admin`
	before := f.srv.TotalRequests()
	err := first("Get-Mailbox", map[string]any{"Identity": identity})
	var e *exchange.Error
	if !errors.As(err, &e) || !strings.HasSuffix(e.ExceptionType, "ManagementObjectNotFoundException") {
		t.Errorf("Get-Mailbox of a hostile identity: err = %v, want the cmdlet's not-found error", err)
	}
	if n := f.srv.TotalRequests() - before; n != 1 {
		t.Errorf("sent %d requests, want 1", n)
	}
}

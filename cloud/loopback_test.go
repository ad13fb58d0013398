package cloud

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostileHosts are DNS names an attacker can register or point anywhere,
// which an earlier test took for loopback because they begin with "127.".
var hostileHosts = []string{
	"127.evil.example",
	"127.0.0.1.nip.io",
	"127.0.0.1.example.com",
	"127.0.0.1.",
	"127.1",
	"127.0.0.01",
	"127.0.0.1%2e",
}

// otherRefusedHosts are refused by choice: subdomains of localhost (RFC 6761
// says they resolve to loopback, but samkit cannot know that the resolver
// in use does), a trailing dot, and shorthand forms of 127.0.0.1.
var otherRefusedHosts = []string{
	"foo.localhost",
	"localhost.",
	"localhost.evil.example",
	"0x7f.0.0.1",
	"0177.0.0.1",
	"2130706433",
	"::1%eth0",
	"::2",
	"0.0.0.0",
	"::",
	"10.0.0.1",
	"",
}

var loopbackHosts = []string{"127.0.0.1", "127.255.255.254", "127.0.0.2", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "localhost", "LocalHost"}

func TestIsLoopbackHost(t *testing.T) {
	t.Parallel()
	for _, h := range loopbackHosts {
		assert.True(t, IsLoopbackHost(h), "IsLoopbackHost(%q): a loopback address", h)
	}
	for _, h := range append(hostileHosts, otherRefusedHosts...) {
		assert.False(t, IsLoopbackHost(h), "IsLoopbackHost(%q): not a loopback address", h)
	}
}

// TestValidateRefusesHTTPToNonLoopback: plain http is allowed only on
// loopback, so that a secret never crosses a network in clear text.
func TestValidateRefusesHTTPToNonLoopback(t *testing.T) {
	t.Parallel()
	for _, h := range append(hostileHosts, otherRefusedHosts...) {
		if h == "" {
			continue
		}
		u := (&url.URL{Scheme: "http", Host: bracket(h) + ":8443"}).String()
		for _, set := range []func(*Configuration){
			func(c *Configuration) { c.LoginEndpoint = u },
			func(c *Configuration) { c.Graph.Endpoint = u },
			func(c *Configuration) { c.PartnerCenter.Endpoint = u },
			func(c *Configuration) { c.Exchange.Endpoint = u },
		} {
			c := Public
			set(&c)
			err := c.Validate()
			require.Error(t, err, "Validate accepted %s", u)
			assert.Contains(t, err.Error(), "must use https", "Validate(%s)", u)
		}
	}
	for _, h := range loopbackHosts {
		c := Public
		c.LoginEndpoint = (&url.URL{Scheme: "http", Host: bracket(h) + ":8443"}).String()
		assert.NoError(t, c.Validate(), "http on loopback host %q is allowed", h)
	}
}

// bracket puts an IPv6 address in brackets, as it appears in a URL.
func bracket(h string) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]"
	}
	return h
}

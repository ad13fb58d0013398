package cloud

import (
	"net/netip"
	"strings"
)

// IsLoopbackHost reports whether host, as url.URL.Hostname returns it (an
// IPv6 address without its brackets), names the loopback interface of this
// machine: an IP literal in 127.0.0.0/8 (an IPv4-mapped one too), ::1, or
// "localhost" in any case. It is the one test samkit uses wherever it
// allows plain http, so that a credential never crosses a network in clear
// text.
//
// Everything else is refused, whatever it resolves to: a DNS name that
// starts with "127." (127.0.0.1.nip.io) is anyone's, and so is a subdomain
// of localhost (RFC 6761 asks resolvers to answer it with loopback, but
// samkit cannot tell whether the one in use does). Shorthand forms that
// some resolvers read as addresses ("127.1", "0x7f.0.0.1", "2130706433"),
// a trailing dot ("localhost.") and zoned addresses ("::1%eth0") are
// refused too: none of them is what a test server prints.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Zone() == "" && ip.Unmap().IsLoopback()
}

package httpx

import (
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
)

// modulePath is samkit's module, whose version the User-Agent names.
const modulePath = "github.com/samkit/samkit"

// maxProduct bounds a caller's product: a name, a version and perhaps a
// comment, not a paragraph in every request.
const maxProduct = 200

// samkitProduct is samkit's product token, read from the build info once:
// the build info does not change while the program runs.
var samkitProduct = sync.OnceValue(func() string { return productOf(debug.ReadBuildInfo) })

// productOf returns samkit's product token for the build info read
// returns: samkit/<version>, the version Go recorded for samkit's module
// (the main module's when samkit is the program, else samkit's entry among
// its dependencies), or a bare samkit when Go recorded none: "(devel)" for
// a build of samkit's own checkout, nothing outside module mode.
func productOf(read func() (*debug.BuildInfo, bool)) string {
	info, ok := read()
	if !ok || info == nil {
		return "samkit"
	}
	v := ""
	if info.Main.Path == modulePath {
		v = info.Main.Version
	} else {
		for _, d := range info.Deps {
			if d.Path == modulePath {
				v = d.Version
				break
			}
		}
	}
	if v == "" || v == "(devel)" {
		return "samkit"
	}
	return "samkit/" + v
}

// UserAgent returns the User-Agent of the requests samkit sends itself:
// samkit/<version>, after the caller's product when there is one
// ("acme-msp/2.1 samkit/v1.4.0"), so that a sign-in log or a support
// trace names both. The caller has checked product with CheckProduct.
func UserAgent(product string) string {
	if product == "" {
		return samkitProduct()
	}
	return product + " " + samkitProduct()
}

// UserAgentHeader is UserAgent as a header value that every request of a
// client shares, as it shares its other constant headers: a RoundTripper
// reads a request's headers and never writes them, and the capacity of one
// leaves an append elsewhere an array of its own.
func UserAgentHeader(product string) []string { return []string{UserAgent(product)}[:1:1] }

// CheckProduct checks a caller's product for the User-Agent: one or more
// product tokens ("acme-msp/2.1"), perhaps with a comment, in printable
// ASCII, since a control character would end the header and let the value
// write others; empty for none. Its errors have no package prefix: the
// caller names the option.
func CheckProduct(product string) error {
	if len(product) > maxProduct {
		return fmt.Errorf("the product is %d bytes long: keep it to a name and version, at most %d bytes", len(product), maxProduct)
	}
	return CheckUserAgent(product)
}

// CheckUserAgent checks a whole User-Agent, one a token source gives, say:
// printable ASCII, without leading or trailing spaces. Its errors have no
// package prefix.
func CheckUserAgent(ua string) error {
	if strings.TrimSpace(ua) != ua {
		return fmt.Errorf("User-Agent %s has leading or trailing spaces", quote(ua))
	}
	for i := 0; i < len(ua); i++ {
		if c := ua[i]; c < ' ' || c > '~' {
			return fmt.Errorf("User-Agent %s holds a control or non-ASCII character: a User-Agent is printable ASCII", quote(ua))
		}
	}
	return nil
}

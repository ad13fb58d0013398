// Package cloud names the endpoints of each Microsoft cloud that samkit talks to.
//
// A Configuration pairs, for every service, the URL to call with the resource
// identifier that tokens for it are issued to. The two differ for the embedded
// sandbox (which serves every service from one loopback address but issues
// tokens for the real resource identifiers) and agree everywhere else.
//
// Endpoints follow Microsoft's national cloud deployment tables:
// https://learn.microsoft.com/graph/deployments and
// https://learn.microsoft.com/entra/identity-platform/authentication-national-cloud.
package cloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
)

// Service is one Microsoft service as samkit reaches it.
type Service struct {
	// Endpoint is the base URL requests are sent to, without a trailing slash.
	Endpoint string `json:"endpoint"`
	// Resource is the application ID URI tokens for this service are issued
	// to: their audience, and the prefix of their scopes.
	Resource string `json:"resource"`
}

// Scope returns the ".default" scope of the service: every permission the
// app has been granted on it.
func (s Service) Scope() string { return s.Resource + "/.default" }

// Configuration is one Microsoft cloud.
type Configuration struct {
	// Name is a short identifier: "public", "usgov", "china" or, for a
	// custom configuration, whatever its author chose.
	Name string `json:"name"`
	// LoginEndpoint is the Entra ID (identity platform) authority host, for
	// example https://login.microsoftonline.com.
	LoginEndpoint string  `json:"loginEndpoint"`
	Graph         Service `json:"graph"`
	PartnerCenter Service `json:"partnerCenter"`
	Exchange      Service `json:"exchange"`
}

// Public is Microsoft's global cloud.
var Public = Configuration{
	Name:          "public",
	LoginEndpoint: "https://login.microsoftonline.com",
	Graph:         Service{Endpoint: "https://graph.microsoft.com", Resource: "https://graph.microsoft.com"},
	PartnerCenter: Service{Endpoint: "https://api.partnercenter.microsoft.com", Resource: "https://api.partnercenter.microsoft.com"},
	Exchange:      Service{Endpoint: "https://outlook.office365.com", Resource: "https://outlook.office365.com"},
}

// USGovernment is Microsoft Cloud for US Government (GCC High). Partner
// Center has no separate US Government API host; partners of that cloud use
// the global Partner Center API:
// https://learn.microsoft.com/partner-center/developer/partner-center-rest-urls
var USGovernment = Configuration{
	Name:          "usgov",
	LoginEndpoint: "https://login.microsoftonline.us",
	Graph:         Service{Endpoint: "https://graph.microsoft.us", Resource: "https://graph.microsoft.us"},
	PartnerCenter: Service{Endpoint: "https://api.partnercenter.microsoft.com", Resource: "https://api.partnercenter.microsoft.com"},
	Exchange:      Service{Endpoint: "https://outlook.office365.us", Resource: "https://outlook.office365.us"},
}

// USGovernmentDoD is Microsoft Cloud for US Government, Department of
// Defense (DoD). It shares its sign-in host and Partner Center with
// USGovernment and has its own Graph (Graph's deployments table, above)
// and Exchange Online hosts:
// https://learn.microsoft.com/exchange/reference/admin-api-get-started
// (Supported environments and base URLs).
var USGovernmentDoD = Configuration{
	Name:          "usgovdod",
	LoginEndpoint: "https://login.microsoftonline.us",
	Graph:         Service{Endpoint: "https://dod-graph.microsoft.us", Resource: "https://dod-graph.microsoft.us"},
	PartnerCenter: Service{Endpoint: "https://api.partnercenter.microsoft.com", Resource: "https://api.partnercenter.microsoft.com"},
	Exchange:      Service{Endpoint: "https://outlook-dod.office365.us", Resource: "https://outlook-dod.office365.us"},
}

// China is Microsoft Azure and Microsoft 365 operated by 21Vianet.
//
// Exchange Online's admin API there is outlook.office365.cn, as the Exchange
// Online Admin API's table of environments and base URLs says:
// https://learn.microsoft.com/exchange/reference/admin-api-get-started.
// partner.outlook.cn, which samkit used before, is the host of the retired
// Outlook REST API (https://learn.microsoft.com/previous-versions/office/office-365-api/api/o365-china-endpoints),
// not of the admin API.
var China = Configuration{
	Name:          "china",
	LoginEndpoint: "https://login.chinacloudapi.cn",
	Graph:         Service{Endpoint: "https://microsoftgraph.chinacloudapi.cn", Resource: "https://microsoftgraph.chinacloudapi.cn"},
	PartnerCenter: Service{Endpoint: "https://partner.partnercenterapi.microsoftonline.cn", Resource: "https://partner.partnercenterapi.microsoftonline.cn"},
	Exchange:      Service{Endpoint: "https://outlook.office365.cn", Resource: "https://outlook.office365.cn"},
}

// Builtins returns every built-in cloud: Public, USGovernment,
// USGovernmentDoD and China.
func Builtins() []Configuration {
	return []Configuration{Public, USGovernment, USGovernmentDoD, China}
}

// ByName returns the built-in cloud called name ("public", "usgov",
// "usgovdod" or "china"; case does not matter).
func ByName(name string) (Configuration, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "public", "global", "azurepublic":
		return Public, nil
	case "usgov", "usgovernment", "gcchigh":
		return USGovernment, nil
	case "usgovdod", "usgovernmentdod", "dod":
		return USGovernmentDoD, nil
	case "china", "azurechina":
		return China, nil
	}
	return Configuration{}, fmt.Errorf("cloud: unknown cloud %q: use public, usgov, usgovdod or china", name)
}

// IsBuiltin reports whether c is one of the built-in clouds, endpoints
// and all: a configuration its name alone describes.
func (c Configuration) IsBuiltin() bool {
	return slices.Contains(Builtins(), c)
}

// maxFileSize bounds a cloud description; one is a few hundred bytes.
const maxFileSize = 64 << 10

// Parse reads a custom cloud from JSON, as Configuration's field tags
// name them, and validates it:
//
//	{
//	  "name": "contoso-sovereign",
//	  "loginEndpoint": "https://login.example",
//	  "graph":         {"endpoint": "https://graph.example", "resource": "https://graph.example"},
//	  "partnerCenter": {"endpoint": "https://api.partner.example", "resource": "https://api.partner.example"},
//	  "exchange":      {"endpoint": "https://outlook.example", "resource": "https://outlook.example"}
//	}
//
// Unknown fields are refused, so that a misspelt one is not silently
// left at its zero value.
func Parse(r io.Reader) (Configuration, error) {
	dec := json.NewDecoder(io.LimitReader(r, maxFileSize))
	dec.DisallowUnknownFields()
	var c Configuration
	if err := dec.Decode(&c); err != nil {
		return Configuration{}, fmt.Errorf("cloud: reading a cloud description: %w", err)
	}
	if dec.More() {
		return Configuration{}, errors.New("cloud: reading a cloud description: more than one JSON object")
	}
	if strings.TrimSpace(c.Name) == "" {
		return Configuration{}, errors.New(`cloud: the cloud description has no "name"`)
	}
	if err := c.Validate(); err != nil {
		return Configuration{}, err
	}
	return c, nil
}

// Validate reports whether every endpoint of c is an absolute https URL (or
// http on a loopback address as IsLoopbackHost defines it, for local test
// servers) and every resource is
// set. Clients call it once when they are built, so that a typo fails there
// and not on the first request.
func (c Configuration) Validate() error {
	check := func(what, raw string, endpoint bool) error {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" || u.Scheme == "" {
			return fmt.Errorf("cloud %q: %s %q is not an absolute URL", c.Name, what, raw)
		}
		if endpoint && u.Scheme != "https" && !(u.Scheme == "http" && IsLoopbackHost(u.Hostname())) {
			return fmt.Errorf("cloud %q: %s %q must use https", c.Name, what, raw)
		}
		if u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(raw, "/") {
			return fmt.Errorf("cloud %q: %s %q must have no query, fragment or trailing slash", c.Name, what, raw)
		}
		return nil
	}
	if err := check("login endpoint", c.LoginEndpoint, true); err != nil {
		return err
	}
	for _, s := range []struct {
		name string
		svc  Service
	}{{"Graph", c.Graph}, {"Partner Center", c.PartnerCenter}, {"Exchange", c.Exchange}} {
		if err := check(s.name+" endpoint", s.svc.Endpoint, true); err != nil {
			return err
		}
		if err := check(s.name+" resource", s.svc.Resource, false); err != nil {
			return err
		}
	}
	return nil
}

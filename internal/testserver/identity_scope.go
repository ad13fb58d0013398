package testserver

import (
	"slices"
	"strings"
)

// Scopes name permissions of one or more resources: a bare name
// ("User.Read") is a Microsoft Graph permission, "{resource}/{name}" names
// the resource by its identifier URI or app id, "{resource}/.default"
// stands for every permission the app holds on (or, at consent, declares
// for) that resource, and openid, profile, email and offline_access are the
// OpenID Connect scopes, which ask for an ID token, its profile claims and
// a refresh token.
// https://learn.microsoft.com/entra/identity-platform/scopes-oidc

// oidcScopes are the OpenID Connect scopes.
var oidcScopes = map[string]bool{"openid": true, "profile": true, "email": true, "offline_access": true}

// scopeRequest is a parsed scope parameter.
type scopeRequest struct {
	raw       string
	oidc      map[string]bool
	resources []*resourceRequest // in order of first appearance
}

// resourceRequest is what a scope parameter asks of one resource.
type resourceRequest struct {
	// ident is the resource identifier as the request spelled it, "" for
	// bare Graph names.
	ident string
	// app is the resource app, nil when no resource has that identifier.
	app *App
	// names are the permissions requested by name, as the resource
	// publishes them; unknown ones the resource does not publish.
	names, unknown []string
	// dflt says the request holds {resource}/.default.
	dflt bool
}

func parseScopes(w *World, raw string) scopeRequest {
	q := scopeRequest{raw: raw, oidc: map[string]bool{}}
	byKey := map[string]*resourceRequest{}
	for _, sc := range strings.Fields(raw) {
		if oidcScopes[strings.ToLower(sc)] {
			q.oidc[strings.ToLower(sc)] = true
			continue
		}
		ident, name := "", sc
		if i := strings.LastIndex(sc, "/"); i > 0 && !strings.HasSuffix(sc[:i], ":/") {
			ident, name = sc[:i], sc[i+1:]
		}
		app := resourceApp(w, ident)
		key := strings.ToLower(strings.TrimRight(ident, "/"))
		if app != nil {
			key = app.AppID
		}
		rr := byKey[key]
		if rr == nil {
			rr = &resourceRequest{ident: ident, app: app}
			byKey[key] = rr
			q.resources = append(q.resources, rr)
		}
		if strings.EqualFold(name, ".default") {
			rr.dflt = true
			continue
		}
		if v, ok := publishedScope(app, name); ok {
			if !slices.Contains(rr.names, v) {
				rr.names = append(rr.names, v)
			}
		} else {
			rr.unknown = append(rr.unknown, name)
		}
	}
	return q
}

// resourceApp finds the resource app an identifier names: its identifier
// URI (with or without a trailing slash) or its app id; "" is Graph.
func resourceApp(w *World, ident string) *App {
	if ident == "" {
		return w.Apps[GraphAppID]
	}
	if a := w.Apps[strings.ToLower(ident)]; a != nil && a.Resource != "" {
		return a
	}
	return w.AppByResource(strings.TrimRight(ident, "/"))
}

// publishedScope returns the delegated permission name as app publishes it
// (names match case-insensitively).
func publishedScope(app *App, name string) (string, bool) {
	if app == nil {
		return "", false
	}
	for _, v := range app.Scopes {
		if strings.EqualFold(v, name) {
			return v, true
		}
	}
	return "", false
}

// format spells a granted permission the way the request named its
// resource: bare for bare Graph names, prefixed otherwise.
func (rr *resourceRequest) format(name string) string {
	if rr.ident == "" {
		return name
	}
	return rr.ident + "/" + name
}

// defaultScope is the request's {resource}/.default, spelled as sent.
func (rr *resourceRequest) defaultScope() string {
	if rr.ident == "" {
		return rr.app.Resource + "/.default"
	}
	return rr.ident + "/.default"
}

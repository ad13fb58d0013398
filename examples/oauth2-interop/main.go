// oauth2-interop uses samkit's tokens with code written for
// golang.org/x/oauth2: token.OAuth2 adapts a samkit Source to an
// oauth2.TokenSource, and oauth2.Transport puts the token on each request
// of a plain http.Client, here reading /organization from Microsoft Graph
// in a few customer tenants.
//
//	go run ./examples/oauth2-interop                        # against a sandbox
//	go run ./examples/oauth2-interop -credentials sam.json  # your customers
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"

	"golang.org/x/oauth2"

	"github.com/samkit/samkit/examples/connect"
	"github.com/samkit/samkit/token"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "oauth2-interop:", connect.Plain(err.Error()))
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	env, err := connect.Open(ctx)
	if err != nil {
		return err
	}
	defer env.Close()
	tenants, err := env.Tenants(ctx)
	if err != nil {
		return err
	}
	for _, t := range tenants[:min(3, len(tenants))] {
		src := env.Provider.Source(t.ID, env.Cloud.Graph.Scope())
		hc := &http.Client{Transport: &oauth2.Transport{Source: token.OAuth2(ctx, src), Base: env.HTTPClient.Transport}}
		name, err := organization(ctx, hc, env.Cloud.Graph.Endpoint)
		if err != nil {
			fmt.Printf("✗ %s: %v\n", t.ID, err)
			continue
		}
		fmt.Printf("✓ %s: Graph says this tenant is %q\n", t.ID, name)
	}
	return nil
}

// organization reads the tenant's name with nothing but net/http.
func organization(ctx context.Context, hc *http.Client, graph string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, graph+"/v1.0/organization?$select=displayName", nil)
	if err != nil {
		return "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET /organization: %s", resp.Status)
	}
	var body struct {
		Value []struct {
			DisplayName string `json:"displayName"`
		} `json:"value"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || len(body.Value) == 0 {
		return "", fmt.Errorf("GET /organization: unexpected answer (%v)", err)
	}
	return body.Value[0].DisplayName, nil
}

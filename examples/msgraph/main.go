// msgraph lists the users of every customer tenant with msgraph-sdk-go,
// Microsoft's Graph SDK, on samkit's tokens: azsam turns the SAM app's
// delegated tokens into the azcore.TokenCredential the SDK takes, one per
// customer, so one refresh token reaches every customer through GDAP.
//
// It is a module of its own because msgraph-sdk-go is large (minutes and
// gigabytes to build from a cold cache): samkit itself does not need it.
//
//	go run .                        # against a sandbox
//	go run . -sandbox               # against a sandbox, whatever the environment says
//	go run . -credentials sam.json  # your customers
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"

	kiotaauth "github.com/microsoft/kiota-authentication-azure-go"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/samkit/samkit/azsam"
	"github.com/samkit/samkit/examples/connect"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "msgraph:", connect.Plain(err.Error()))
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
	listed := 0
	for _, t := range tenants {
		// A credential per customer: the Provider behind it caches and
		// refreshes every customer's tokens.
		cred, err := azsam.NewCredential(env.Provider, t.ID, nil)
		if err != nil {
			return err
		}
		client, err := graphClient(cred, env)
		if err != nil {
			return err
		}
		upns, err := listUsers(ctx, client)
		if err != nil {
			fmt.Printf("✗ %s: %v\n", t.DisplayName, err)
			continue
		}
		listed++
		fmt.Printf("✓ %s: %d users\n", t.DisplayName, len(upns))
		for _, upn := range upns {
			fmt.Printf("    %s\n", upn)
		}
	}
	fmt.Printf("\nusers listed in %d of %d customers\n", listed, len(tenants))
	if listed == 0 && len(tenants) > 0 {
		return errors.New("no customer could be read")
	}
	return nil
}

// graphClient is msgraph-sdk-go's client at env's Graph endpoint (Microsoft
// Graph, or the sandbox's), over env's HTTP client, with the SDK's own
// middleware (retries, redirects, telemetry) on top.
func graphClient(cred *azsam.Credential, env *connect.Env) (*msgraphsdk.GraphServiceClient, error) {
	endpoint, err := url.Parse(env.Cloud.Graph.Endpoint)
	if err != nil {
		return nil, err
	}
	auth, err := kiotaauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cred,
		[]string{env.Cloud.Graph.Scope()}, []string{endpoint.Hostname()})
	if err != nil {
		return nil, err
	}
	options := msgraphsdk.GetDefaultClientOptions()
	hc := &http.Client{
		Transport: khttp.NewCustomTransportWithParentTransport(env.HTTPClient.Transport,
			msgraphcore.GetDefaultMiddlewaresWithOptions(&options)...),
		// The SDK's redirect middleware follows redirects itself.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, nil, nil, hc)
	if err != nil {
		return nil, err
	}
	adapter.SetBaseUrl(env.Cloud.Graph.Endpoint + "/v1.0")
	return msgraphsdk.NewGraphServiceClient(adapter), nil
}

// listUsers reads every page of the tenant's users.
func listUsers(ctx context.Context, client *msgraphsdk.GraphServiceClient) ([]string, error) {
	page, err := client.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Select: []string{"userPrincipalName"}},
	})
	if err != nil {
		return nil, err
	}
	it, err := msgraphcore.NewPageIterator[models.Userable](page, client.GetAdapter(), models.CreateUserCollectionResponseFromDiscriminatorValue)
	if err != nil {
		return nil, err
	}
	var upns []string
	err = it.Iterate(ctx, func(u models.Userable) bool {
		if upn := u.GetUserPrincipalName(); upn != nil {
			upns = append(upns, *upn)
		}
		return true
	})
	return upns, err
}

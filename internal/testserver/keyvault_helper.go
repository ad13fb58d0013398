package testserver

import (
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// VaultAccess is what a test needs to reach a vault with Microsoft's Azure
// SDK: the vault's URL, an azidentity credential of an identity holding a
// role on it, and client options that reach this server.
type VaultAccess struct {
	URL string
	// Credential signs in as the identity (client credentials, with a
	// secret, in the vault's tenant).
	Credential azcore.TokenCredential
	// ClientOptions send every request to this server, with retries off
	// so that a test counts what the vault answers. A vault client also
	// needs DisableChallengeResourceVerification: the vault is served by
	// path here, not under vault.azure.net.
	ClientOptions azcore.ClientOptions
	// ServicePrincipalID is the identity's object id (GrantVaultRole
	// takes it).
	ServicePrincipalID string
}

// AddVaultWithIdentity creates a vault in the partner tenant and an app
// registration whose service principal holds role on it ("" for none).
func (s *Server) AddVaultWithIdentity(vault, role string) (VaultAccess, error) {
	url, err := s.AddVault(VaultSpec{Name: vault})
	if err != nil {
		return VaultAccess{}, err
	}
	app, err := s.RegisterApp(AppSpec{DisplayName: "vault identity", RequiredResourceAccess: []RequiredResourceAccess{}})
	if err != nil {
		return VaultAccess{}, err
	}
	if role != "" {
		if err := s.GrantVaultRole(vault, app.ServicePrincipalID, role); err != nil {
			return VaultAccess{}, err
		}
	}
	opts := s.AzureClientOptions()
	cred, err := azidentity.NewClientSecretCredential(s.Partner().TenantID, app.AppID, app.Secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
	if err != nil {
		return VaultAccess{}, err
	}
	return VaultAccess{URL: url, Credential: cred, ClientOptions: opts, ServicePrincipalID: app.ServicePrincipalID}, nil
}

// AzureClientOptions are options for Microsoft's Azure SDK clients and
// azidentity credentials that send every request to this server, whose
// identity platform is their authority host, with retries off so that a
// test counts what the services answer. Credentials also need
// DisableInstanceDiscovery: the server is no authority Microsoft knows.
func (s *Server) AzureClientOptions() azcore.ClientOptions {
	return azcore.ClientOptions{Transport: s.Client(), Cloud: azcloud.Configuration{ActiveDirectoryAuthorityHost: s.URL() + "/"},
		Retry: policy.RetryOptions{MaxRetries: -1}}
}

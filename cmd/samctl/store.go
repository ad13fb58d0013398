package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"github.com/spf13/cobra"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/sam"
	"github.com/samkit/samkit/token"
)

// storeEnv names the credential store when --store is not given.
const storeEnv = "SAMKIT_STORE"

// storeFlags are the flags that choose a credential store other than the
// credentials file.
type storeFlags struct {
	store     string // keyvault://VAULT[/PREFIX]
	vaultAuth string // how to sign in to the vault
}

// addStoreFlags adds --store and --vault-auth, and the store command.
func (a *app) addStoreFlags(root *cobra.Command) {
	f := root.PersistentFlags()
	f.StringVar(&a.stores.store, "store", "", "credential store: keyvault://VAULT[/PREFIX] keeps the credentials in Azure Key Vault (default: $"+storeEnv+", else the credentials file)")
	f.StringVar(&a.stores.vaultAuth, "vault-auth", "default", "how samctl signs in to Key Vault: default, managed-identity, environment or azure-cli")
	_ = root.RegisterFlagCompletionFunc("vault-auth", fixedCompletion("default", "managed-identity", "environment", "azure-cli"))
	root.AddCommand(a.storeCommand())
}

// storeSpec is the store --store or SAMKIT_STORE names ("" for the
// credentials file).
func (a *app) storeSpec() string {
	if a.stores.store != "" {
		return a.stores.store
	}
	return os.Getenv(storeEnv)
}

// vaultSuffixes are the DNS suffixes of vaults in each cloud.
// https://learn.microsoft.com/azure/key-vault/general/about-keys-secrets-certificates#dns-suffixes-for-object-identifiers
var vaultSuffixes = map[string]string{
	"public": "vault.azure.net", "usgov": "vault.usgovcloudapi.net", "usgovdod": "vault.usgovcloudapi.net", "china": "vault.azure.cn",
}

// parseKeyVaultStore reads keyvault://VAULT[/PREFIX]: VAULT is a vault's
// name, in the cloud --cloud names (public by default), or its host name.
func parseKeyVaultStore(spec, cloudName string) (vaultURL, prefix string, err error) {
	rest, ok := strings.CutPrefix(spec, "keyvault://")
	if !ok {
		return "", "", withFix(fmt.Errorf("credential store %q is not one samctl knows", spec), "use keyvault://VAULT[/PREFIX], or leave --store and "+storeEnv+" unset to use the credentials file")
	}
	host, prefix, _ := strings.Cut(strings.TrimRight(rest, "/"), "/")
	if host == "" || strings.ContainsAny(host, ":@?#") || strings.Contains(prefix, "/") {
		return "", "", withFix(fmt.Errorf("credential store %q has no vault name", spec), "use keyvault://VAULT[/PREFIX], e.g. keyvault://contoso-sam/samkit")
	}
	if !strings.Contains(host, ".") {
		if cloudName == "" {
			cloudName = "public"
		}
		suffix, ok := vaultSuffixes[cloudName]
		if !ok {
			return "", "", withFix(fmt.Errorf("no Key Vault DNS suffix known for cloud %q", cloudName), "give the vault's host name: keyvault://NAME.vault.azure.net")
		}
		host += "." + suffix
	}
	return (&url.URL{Scheme: "https", Host: host}).String(), prefix, nil
}

// keyVaultStore opens the vault spec names.
func (a *app) keyVaultStore(spec string, opts ...sam.KeyVaultOption) (*sam.KeyVaultStore, error) {
	vaultURL, prefix, err := parseKeyVaultStore(spec, a.cloudName)
	if err != nil {
		return nil, err
	}
	if prefix != "" {
		opts = append(opts, sam.WithVaultPrefix(prefix))
	}
	switch a.stores.vaultAuth {
	case "", "default":
	case "managed-identity":
		opts = append(opts, sam.WithVaultManagedIdentity(os.Getenv("AZURE_CLIENT_ID")))
	case "environment":
		opts = append(opts, sam.WithVaultEnvironment())
	case "azure-cli":
		opts = append(opts, sam.WithVaultAzureCLI())
	default:
		return nil, withFix(fmt.Errorf("--vault-auth %q is not a way to sign in to Key Vault", a.stores.vaultAuth), "use default, managed-identity, environment or azure-cli")
	}
	if a.sandboxURL != "" {
		if vaultURL, opts, err = a.sandboxVault(vaultURL, opts); err != nil {
			return nil, err
		}
	}
	s, err := sam.NewKeyVaultStore(vaultURL, opts...)
	if err != nil {
		return nil, withFix(err, "check --vault-auth and the identity it signs in as")
	}
	return s, nil
}

// sandboxVault points a vault store at the sandbox, which serves vault
// NAME at /keyvault/NAME and issues its tokens: the identity is the one
// the AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET variables
// name, signed in at the sandbox. The vault's host is not under
// vault.azure.net, so the client does not check that the challenge's
// resource matches it.
func (a *app) sandboxVault(vaultURL string, opts []sam.KeyVaultOption) (string, []sam.KeyVaultOption, error) {
	if a.stores.vaultAuth != "" && a.stores.vaultAuth != "default" && a.stores.vaultAuth != "environment" {
		return "", nil, withFix(fmt.Errorf("--vault-auth %s cannot reach a sandbox's vault", a.stores.vaultAuth), "use --vault-auth environment with AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET")
	}
	hc, err := a.httpClient()
	if err != nil {
		return "", nil, err
	}
	u, _ := url.Parse(vaultURL)
	name, _, _ := strings.Cut(u.Hostname(), ".")
	base := strings.TrimRight(a.sandboxURL, "/")
	co := azcore.ClientOptions{Transport: hc, Cloud: azcloud.Configuration{ActiveDirectoryAuthorityHost: base + "/"}}
	cred, err := azidentity.NewEnvironmentCredential(&azidentity.EnvironmentCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: true})
	if err != nil {
		return "", nil, withFix(fmt.Errorf("the sandbox vault's identity: %w", err), "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET")
	}
	opts = append(opts, sam.WithVaultCredential(cred),
		sam.WithVaultClientOptions(azsecrets.ClientOptions{ClientOptions: co, DisableChallengeResourceVerification: true}))
	return base + "/keyvault/" + name, opts, nil
}

// openKeyVault loads the credentials from the vault spec names.
func (a *app) openKeyVault(ctx context.Context, spec string) (sam.Store, string, token.Credentials, error) {
	s, err := a.keyVaultStore(spec)
	if err != nil {
		return nil, "", token.Credentials{}, err
	}
	c, err := s.Load(ctx)
	if err != nil {
		return nil, "", token.Credentials{}, err
	}
	return s, vaultWhere(s), c, nil
}

// setupStore is where setup saves the credentials, and its name: the
// vault --store (or SAMKIT_STORE) names, else the credentials file.
func (a *app) setupStore(path string, c cloud.Configuration) (sam.Store, string, error) {
	spec := a.storeSpec()
	if spec == "" {
		return sam.NewFileStore(path, sam.WithFileCloud(c)), path, nil
	}
	s, err := a.keyVaultStore(spec, sam.WithVaultCloud(c))
	if err != nil {
		return nil, "", err
	}
	return s, vaultWhere(s), nil
}

// vaultWhere names a vault store in messages.
func vaultWhere(s *sam.KeyVaultStore) string { return s.VaultURL() + " (secrets " + s.Prefix() + "-*)" }

func (a *app) storeCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "store",
		Short: "Manage where the credentials are kept",
		Example: `  samctl store migrate --to keyvault://contoso-sam
  samctl check --store keyvault://contoso-sam`,
		Args: subcommandArgs,
		RunE: func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	var to string
	var overwrite bool
	migrate := &cobra.Command{
		Use:   "migrate --to keyvault://VAULT[/PREFIX]",
		Short: "Copy the credentials file into Azure Key Vault and check the copy",
		Long: `migrate copies the credentials file (--credentials, or the default one) into
an Azure Key Vault, one secret per credential under the prefix (default
"samkit"), then reads them back and checks that they match. The file is
left as it is: remove it once samctl works with --store pointing at the vault.

The identity samctl signs in to the vault as (--vault-auth) needs the
Key Vault Secrets Officer role on the vault.`,
		Example: `  samctl store migrate --to keyvault://contoso-sam
  samctl store migrate --credentials old.json --to keyvault://contoso-sam/msp-two --vault-auth azure-cli`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.migrateStore(cmd.Context(), to, overwrite)
		},
	}
	migrate.Flags().StringVar(&to, "to", "", "the vault: keyvault://VAULT[/PREFIX]")
	migrate.Flags().BoolVar(&overwrite, "overwrite", false, "replace credentials the vault already holds under the prefix")
	_ = migrate.MarkFlagRequired("to")
	c.AddCommand(migrate)
	return c
}

// migrateStore copies the credentials file into the vault to names and
// verifies the copy.
func (a *app) migrateStore(ctx context.Context, to string, overwrite bool) error {
	path, err := a.credentialsPath()
	if err != nil {
		return err
	}
	file := sam.NewFileStore(path)
	creds, err := file.Load(ctx)
	if err != nil {
		return err
	}
	cl, err := file.Cloud(ctx)
	switch {
	case err != nil && strings.Contains(err.Error(), `"`+sandboxCloudName+`"`):
		cl = cloud.Configuration{Name: sandboxCloudName}
	case err != nil:
		return err
	}
	vault, err := a.keyVaultStore(to, sam.WithVaultCloud(cl))
	if err != nil {
		return err
	}
	switch _, err := vault.Load(ctx); {
	case err == nil && !overwrite:
		return withFix(fmt.Errorf("%s already holds credentials under %s-*", vault.VaultURL(), vault.Prefix()),
			"choose another prefix (keyvault://VAULT/PREFIX), or pass --overwrite to replace them")
	case err != nil && !errors.Is(err, sam.ErrNoCredentials):
		return err
	}
	if err := vault.Writable(ctx); err != nil {
		return err
	}
	if err := vault.Save(ctx, creds); err != nil {
		return err
	}
	back, err := vault.Load(ctx)
	if err != nil {
		return fmt.Errorf("reading the copy back: %w", err)
	}
	if diff := credentialsDiff(creds, back); diff != "" {
		return withFix(fmt.Errorf("the copy in %s differs from %s: %s", vault.VaultURL(), path, diff), "run the migration again; the file is unchanged")
	}
	if a.jsonOut {
		return a.printJSON(map[string]any{"from": path, "vault": vault.VaultURL(), "prefix": vault.Prefix(), "verified": true})
	}
	fmt.Fprintf(a.stdout, "Copied the credentials in %s to %s (secrets %s-*) and read them back: they match.\n", path, vault.VaultURL(), vault.Prefix())
	fmt.Fprintf(a.stdout, "Use them with --store %s (or %s=%s); remove the file once that works.\n", to, storeEnv, to)
	return nil
}

// credentialsDiff names the fields in which a and b differ, without their
// values ("" when they match).
func credentialsDiff(a, b token.Credentials) string {
	var diff []string
	for _, f := range []struct {
		name string
		x, y string
	}{
		{"tenant id", a.TenantID, b.TenantID},
		{"application id", a.ApplicationID, b.ApplicationID},
		{"client secret", a.ClientSecret.Reveal(), b.ClientSecret.Reveal()},
		{"refresh token", a.RefreshToken.Reveal(), b.RefreshToken.Reveal()},
		{"Exchange refresh token", a.ExchangeRefreshToken.Reveal(), b.ExchangeRefreshToken.Reveal()},
		{"certificate", thumbprint(a.Certificate), thumbprint(b.Certificate)},
	} {
		if f.x != f.y {
			diff = append(diff, f.name)
		}
	}
	return strings.Join(diff, ", ")
}

func thumbprint(c *token.Certificate) string {
	if c == nil {
		return ""
	}
	return c.Thumbprint()
}

// sandboxVaultName is the vault every sandbox serves.
const sandboxVaultName = "sandbox"

// addSandboxVault gives the sandbox a vault whose Key Vault Secrets
// Officer is the sandbox's SAM app, so that --store keyvault://sandbox
// works with the app's own credentials in AZURE_TENANT_ID,
// AZURE_CLIENT_ID and AZURE_CLIENT_SECRET. A restored world has the vault
// already. It returns the vault's URL ("" without a SAM app).
func addSandboxVault(s *testserver.Server, info testserver.SandboxInfo) (string, error) {
	if info.App == nil {
		return "", nil
	}
	var exists bool
	s.Read(func(w *testserver.World) { exists = w.Vaults[sandboxVaultName] != nil })
	if !exists {
		if _, err := s.AddVault(testserver.VaultSpec{Name: sandboxVaultName}); err != nil {
			return "", err
		}
	}
	if err := s.GrantVaultRole(sandboxVaultName, info.App.ServicePrincipalID, testserver.KeyVaultSecretsOfficer); err != nil {
		return "", err
	}
	return s.URL() + "/keyvault/" + sandboxVaultName, nil
}

package testserver

import (
	"fmt"
	"net/http"
	"strings"
)

// Key Vault's authentication: a request without a token draws a 401 whose
// WWW-Authenticate challenge names the vault's tenant (authorization) and
// the resource to ask a token for; Microsoft's clients send their first
// request without a token to learn both.
// https://learn.microsoft.com/azure/key-vault/general/authentication-requests-and-responses#authentication
// Authorisation is Azure RBAC: Key Vault Secrets Officer may do anything
// with secrets, Key Vault Secrets User may read them.
// https://learn.microsoft.com/azure/key-vault/general/rbac-guide#azure-built-in-roles-for-key-vault-data-plane-operations

// kvAuth checks r's api-version, token and the caller's role on the vault,
// answering and returning false when one fails. It does not hold the lock
// when it returns.
func (s *Server) kvAuth(w http.ResponseWriter, r *http.Request, write bool) (Claims, bool) {
	call := kvCallOf(r)
	s.mu.Lock()
	v := s.world.Vaults[call.vault]
	var tenant string
	if v != nil {
		tenant = v.TenantID
	}
	s.mu.Unlock()
	if v == nil {
		// A vault that does not exist has no DNS name: the client cannot
		// connect at all.
		panic(http.ErrAbortHandler)
	}
	if r.URL.Query().Get("api-version") == "" {
		writeKVError(w, http.StatusBadRequest, "BadParameter", "The 'api-version' query parameter is missing.")
		return nil, false
	}
	if bearer(r) == "" {
		s.kvChallenge(w, tenant, "AKV10000: Request is missing a Bearer or PoP token.")
		return nil, false
	}
	c, fail := s.authenticate(r, KeyVaultResource)
	if fail != nil {
		msg := "AKV10022: Invalid audience. Expected " + KeyVaultResource + "."
		if !strings.Contains(fail.Message, "audience") {
			msg = fail.Message
		}
		s.kvChallenge(w, tenant, msg)
		return nil, false
	}
	if !strings.EqualFold(c.String("tid"), tenant) {
		s.kvChallenge(w, tenant, fmt.Sprintf("AKV10032: Invalid issuer. Expected one of https://sts.windows.net/%s/, "+
			"found https://sts.windows.net/%s/.", tenant, c.String("tid")))
		return nil, false
	}
	oid := strings.ToLower(c.String("oid"))
	s.mu.Lock()
	role := v.Roles[oid]
	s.mu.Unlock()
	if role == KeyVaultSecretsOfficer || (!write && role == KeyVaultSecretsUser) {
		return c, true
	}
	action := "getSecret/action"
	if write {
		action = "setSecret/action"
	}
	writeKVErrorInner(w, http.StatusForbidden, "Forbidden", fmt.Sprintf("Caller is not authorized to perform action on resource.\r\n"+
		"If role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\n"+
		"Caller: appid=%s;oid=%s\r\nAction: 'Microsoft.KeyVault/vaults/secrets/%s'\r\nResource: '%s'\r\nAssignment: (not found)\r\n",
		c.String("appid"), oid, action, call.vault), "ForbiddenByRbac")
	return nil, false
}

// kvChallenge answers 401 with the bearer challenge: the login authority of
// the vault's tenant and the resource tokens are for.
func (s *Server) kvChallenge(w http.ResponseWriter, tenant, message string) {
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization="%s/%s", resource="%s"`,
		strings.TrimRight(s.cloud.LoginEndpoint, "/"), tenant, KeyVaultResource))
	writeKVError(w, http.StatusUnauthorized, "Unauthorized", message)
}

package testserver

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Microsoft Graph v1.0 as samkit speaks it (MICROSOFT-APIS.md §2), served
// under {URL}/graph/v1.0. Every request is authenticated with
// Server.authenticate for https://graph.microsoft.com; the token's tid is
// the tenant the request works in, as for graph.microsoft.com itself.
//
// The files split by area: graph_query.go (paging, $select, $filter),
// graph_directory.go (organization, me, users, domains), graph_apps.go
// (applications and their secrets), graph_consent.go (service principals,
// oauth2PermissionGrants, appRoleAssignments), graph_partner.go (contracts
// and GDAP) and graph_batch.go ($batch).

type graphClaimsKey struct{}

// graphOp handles one Graph operation for an authenticated caller.
type graphOp func(w http.ResponseWriter, r *http.Request, c Claims)

// graphState is Graph-only bookkeeping, guarded by Server.mu.
type graphState struct {
	// visibleAt holds, for objects created through Graph while
	// World.ReplicationDelay was set, when every replica has them.
	visibleAt map[string]time.Time
}

// Permission sets, from each operation's "Permissions" table on Microsoft
// Learn (https://learn.microsoft.com/graph/api/overview?view=graph-rest-1.0).
// Claims.Has accepts a delegated scope or an application role of the same
// name; Directory.AccessAsUser.All only ever appears as a scope.
var (
	// https://learn.microsoft.com/graph/api/user-list
	permUsersRead = []string{"User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All",
		"Directory.Read.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"}
	// https://learn.microsoft.com/graph/api/user-get (GET /me)
	permMe = slices.Concat([]string{"User.Read", "User.ReadWrite"}, permUsersRead)
	// https://learn.microsoft.com/graph/api/user-list-memberof
	permMemberOf = []string{"User.Read", "GroupMember.Read.All", "Group.Read.All",
		"Directory.Read.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"}
	// https://learn.microsoft.com/graph/api/organization-list
	permOrganization = []string{"User.Read", "Organization.Read.All", "Organization.ReadWrite.All",
		"Directory.Read.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"}
	// https://learn.microsoft.com/graph/api/domain-list
	permDomains = []string{"Domain.Read.All", "Domain.ReadWrite.All",
		"Directory.Read.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"}
	// https://learn.microsoft.com/graph/api/application-list and
	// serviceprincipal-list: reading apps, service principals and their
	// app role assignments.
	permAppsRead = []string{"Application.Read.All", "Application.ReadWrite.All",
		"Directory.Read.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"}
	// https://learn.microsoft.com/graph/api/application-post-applications,
	// application-update, application-delete, application-addpassword,
	// serviceprincipal-post-serviceprincipals, serviceprincipal-delete.
	permAppsWrite = []string{"Application.ReadWrite.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"}
	// https://learn.microsoft.com/graph/api/oauth2permissiongrant-list
	permGrantsRead = []string{"DelegatedPermissionGrant.Read.All", "DelegatedPermissionGrant.ReadWrite.All",
		"Directory.Read.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"}
	// https://learn.microsoft.com/graph/api/oauth2permissiongrant-post
	permGrantsWrite = []string{"DelegatedPermissionGrant.ReadWrite.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"}
	// https://learn.microsoft.com/graph/api/serviceprincipal-post-approleassignedto
	// lists AppRoleAssignment.ReadWrite.All; a delegated
	// Directory.AccessAsUser.All acts with the signed-in admin's own rights.
	permAssignmentsWrite = []string{"AppRoleAssignment.ReadWrite.All", "Directory.AccessAsUser.All"}
	// https://learn.microsoft.com/graph/api/contract-list
	permContracts = []string{"Directory.Read.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"}
	// https://learn.microsoft.com/graph/api/tenantrelationship-list-delegatedadminrelationships
	// and tenantrelationship-list-delegatedadmincustomers.
	permGDAP = []string{"DelegatedAdminRelationship.Read.All", "DelegatedAdminRelationship.ReadWrite.All"}
)

// Directory role template ids
// (https://learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference).
const (
	roleApplicationAdmin      = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
	roleCloudApplicationAdmin = "158c047a-c907-4556-b7ef-446551a6b5f7"
	rolePrivilegedRoleAdmin   = "e8611ab8-c189-46e8-94e1-60213ab1f814"
)

var graphRoleNames = map[string]string{
	GlobalAdminTemplateID:                  "Global Administrator",
	roleApplicationAdmin:                   "Application Administrator",
	roleCloudApplicationAdmin:              "Cloud Application Administrator",
	rolePrivilegedRoleAdmin:                "Privileged Role Administrator",
	"88d8e3e3-8f55-4a1e-953a-9b9898b8876b": "Directory Readers",
	"f2ef992c-3afb-46b9-b7cf-a126ee74c451": "Global Reader",
	"fe930be7-5e62-47db-91af-98c3a49a38b1": "User Administrator",
	"729827e3-9c14-49f7-bb1b-9608f156bbb8": "Helpdesk Administrator",
	"29232cdf-9323-42fd-ade2-1d097af3e4de": "Exchange Administrator",
	"194ae4cb-b126-40b2-bd5b-6091b380977d": "Security Administrator",
}

// Graph's error texts for the cases every endpoint shares.
const (
	graphMsgDenied      = "Insufficient privileges to complete the operation."
	graphMsgBadJSON     = "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format."
	graphMsgNotAllowed  = "Specified HTTP method is not allowed for the request target."
	graphCodeNotFound   = "Request_ResourceNotFound"
	graphCodeBadRequest = "Request_BadRequest"
)

func (s *Server) routeGraph(mux *http.ServeMux) {
	api := http.NewServeMux()
	s.routeGraphDirectory(api)
	s.routeGraphApps(api)
	s.routeGraphConsent(api)
	s.routeGraphPartner(api)
	s.routeGraphGroups(api)
	entry := s.graphEntry(api)
	api.HandleFunc("POST /v1.0/$batch", s.graphOp(nil, s.graphBatch(entry)))
	mux.Handle("/", entry)
}

// graphEntry authenticates a request, resolves Graph's alternate-key
// addressing and hands the request to its operation. $batch items come
// through here too, each with the batch's own Authorization header.
func (s *Server) graphEntry(api *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, fail := s.authenticate(r, GraphResource)
		if fail != nil {
			// Graph names the authority to sign in at, as resource servers do
			// (RFC 6750 §3); here that is this server's identity platform.
			w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="`+s.URL()+`/common/oauth2/authorize", client_id="`+GraphAppID+`"`)
			s.writeGraphError(w, r, fail.Status, fail.Code, fail.Message)
			return
		}
		r = s.graphResolveAltKey(r.WithContext(context.WithValue(r.Context(), graphClaimsKey{}, c)), c)
		if _, pattern := api.Handler(r); pattern == "" {
			s.graphNoRoute(w, r, api)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// graphOp wraps op with the permission check: the token must hold one of
// perms (none means any valid token will do).
func (s *Server) graphOp(perms []string, op graphOp) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Context().Value(graphClaimsKey{}).(Claims)
		if len(perms) > 0 && !c.Has(perms...) {
			s.writeGraphFail(w, r, graphFailDenied())
			return
		}
		op(w, r, c)
	}
}

// graphAltKey matches Graph's alternate key for applications and service
// principals, "/applications(appId='{appId}')"
// (https://learn.microsoft.com/graph/api/application-get,
// https://learn.microsoft.com/graph/api/serviceprincipal-get).
var graphAltKey = regexp.MustCompile(`^/v1\.0/(applications|servicePrincipals)\(appId='([^'/]*)'\)(/.*)?$`)

// graphResolveAltKey rewrites an appId-addressed path to the object id it
// names in the caller's tenant, so one handler serves both forms. An appId
// that names nothing stays in the path and reads as an unknown id.
func (s *Server) graphResolveAltKey(r *http.Request, c Claims) *http.Request {
	m := graphAltKey.FindStringSubmatch(r.URL.Path)
	if m == nil {
		return r
	}
	id := m[2]
	s.mu.Lock()
	if t := s.world.Tenants[c.String("tid")]; t != nil {
		switch m[1] {
		case "applications":
			if a := s.graphAppByAppIDLocked(t.ID, m[2]); a != nil {
				id = a.ObjectID
			}
		case "servicePrincipals":
			if sp := t.ServicePrincipalByAppID(m[2]); sp != nil {
				id = sp.ID
			}
		}
	}
	s.mu.Unlock()
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = "/v1.0/"+m[1]+"/"+id+m[3], ""
	return r2
}

// graphNoRoute answers a request no operation serves as Graph does: 405 for
// a known resource and the wrong method, 400 for an unknown segment or
// version.
func (s *Server) graphNoRoute(w http.ResponseWriter, r *http.Request, api *http.ServeMux) {
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := api.Handler(probe); pattern != "" {
			s.writeGraphError(w, r, http.StatusMethodNotAllowed, graphCodeBadRequest, graphMsgNotAllowed)
			return
		}
	}
	segs := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if segs[0] != "v1.0" {
		s.writeGraphError(w, r, http.StatusBadRequest, "BadRequest", "Invalid version: "+segs[0])
		return
	}
	seg := ""
	if len(segs) > 1 {
		seg = segs[1]
	}
	s.writeGraphError(w, r, http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+seg+"'.")
}

// graphFail is an error answer, decided under the lock and written after
// it is released.
type graphFail struct {
	status        int
	code, message string
	// detailCode and target fill the "details" array some directory
	// errors carry.
	detailCode, target string
}

// graphFailNotFound is Graph's answer for an id that names no directory object
// (or one that has not replicated yet).
func graphFailNotFound(id string) *graphFail {
	return &graphFail{status: http.StatusNotFound, code: graphCodeNotFound,
		message: "Resource '" + id + "' does not exist or one of its queried reference-property objects are not present."}
}

func graphFailDenied() *graphFail {
	return &graphFail{status: http.StatusForbidden, code: "Authorization_RequestDenied", message: graphMsgDenied}
}

// graphFailInvalid is the directory's answer to a bad property value.
func graphFailInvalid(property, resource string) *graphFail {
	return &graphFail{status: http.StatusBadRequest, code: graphCodeBadRequest,
		message: "Invalid value specified for property '" + property + "' of resource '" + resource + "'."}
}

func graphFailBadRequest(code, message string) *graphFail {
	return &graphFail{status: http.StatusBadRequest, code: code, message: message}
}

// writeGraphFail renders f in Graph's error shape.
func (s *Server) writeGraphFail(w http.ResponseWriter, r *http.Request, f *graphFail) {
	if f.detailCode == "" {
		s.writeGraphError(w, r, f.status, f.code, f.message)
		return
	}
	reqID, clientID := graphRequestIDs(w, r)
	writeJSON(w, f.status, map[string]any{"error": map[string]any{
		"code": f.code, "message": f.message,
		"details":    []map[string]any{{"code": f.detailCode, "message": f.message, "target": f.target}},
		"innerError": map[string]any{"date": s.clock.Now().Format(time.RFC3339), "request-id": reqID, "client-request-id": clientID},
	}})
}

// graphContext is the @odata.context of a response, at this server.
func (s *Server) graphContext(fragment string) string {
	return s.URL() + "/graph/v1.0/$metadata#" + fragment
}

// writeGraphJSON writes a successful Graph response with the headers Graph
// sends on every answer.
func (s *Server) writeGraphJSON(w http.ResponseWriter, r *http.Request, status int, body map[string]any) {
	graphRequestIDs(w, r)
	w.Header().Set("OData-Version", "4.0")
	writeJSON(w, status, body)
}

// writeGraphEntity writes one object with its @odata.context, honouring $select.
func (s *Server) writeGraphEntity(w http.ResponseWriter, r *http.Request, status int, fragment string, obj map[string]any) {
	sel := graphParseSelect(r.URL.Query().Get("$select"))
	obj = graphSelect(obj, sel)
	obj["@odata.context"] = s.graphContext(fragment + "/$entity")
	s.writeGraphJSON(w, r, status, obj)
}

func (s *Server) writeGraphNoContent(w http.ResponseWriter, r *http.Request) {
	graphRequestIDs(w, r)
	w.WriteHeader(http.StatusNoContent)
}

// graphRequestIDs sets the request-id and client-request-id headers Graph
// answers with; the client's own id is echoed, and Graph uses its request
// id in its place when the client sent none.
func graphRequestIDs(w http.ResponseWriter, r *http.Request) (reqID, clientID string) {
	reqID, clientID = newID(), r.Header.Get("client-request-id")
	if clientID == "" {
		clientID = reqID
	}
	w.Header().Set("request-id", reqID)
	w.Header().Set("client-request-id", clientID)
	return reqID, clientID
}

// readGraphBody decodes a JSON request body into v, answering Graph's
// error itself when it cannot.
func (s *Server) readGraphBody(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		s.writeGraphError(w, r, http.StatusBadRequest, "BadRequest", graphMsgBadJSON)
		return false
	}
	return true
}

// graphReplicatedLocked reports whether an object created through Graph has
// reached every replica. Until World.ReplicationDelay has passed since its
// creation, requests that address it by id (reads and writes alike) and
// reads by filter miss it, as Entra ID's do right after a create: "a newly
// created object [may] return a Not Found"
// (https://devblogs.microsoft.com/identity/designing-for-eventual-consistency-for-microsoft-entra/).
// The create response itself always carries the object.
func (s *Server) graphReplicatedLocked(id string) bool {
	at, ok := s.graph.visibleAt[id]
	if !ok {
		return true
	}
	if !s.clock.Now().Before(at) {
		delete(s.graph.visibleAt, id)
		return true
	}
	return false
}

// graphReplicatingLocked starts the replication delay of a new object.
func (s *Server) graphReplicatingLocked(id string, now time.Time) {
	if s.world.ReplicationDelay <= 0 {
		return
	}
	if s.graph.visibleAt == nil {
		s.graph.visibleAt = map[string]time.Time{}
	}
	s.graph.visibleAt[id] = now.Add(s.world.ReplicationDelay)
}

// graphTenantLocked returns the tenant the token works in.
func (s *Server) graphTenantLocked(c Claims) *Tenant {
	if t := s.world.Tenants[c.String("tid")]; t != nil && !t.Deleted {
		return t
	}
	return nil
}

// graphRolesLocked returns the directory role templates the signed-in
// user of a delegated token holds in t: a member's own roles, or, for the
// partner's admin in a customer tenant, the roles the partner's active
// GDAP relationships give the admin (partnerAccessLocked).
func (s *Server) graphRolesLocked(t *Tenant, c Claims) []string {
	oid := c.String("oid")
	if u := t.Users[oid]; u != nil {
		return u.Roles
	}
	roles, _ := s.partnerAccessLocked(s.world.Partner.Users[oid], t)
	return roles
}

// graphAdminMayLocked reports whether the caller may make a change that needs
// one of roles: app-only callers are bound by their application
// permissions alone, delegated ones also by the signed-in user's directory
// roles ("the calling user must also be in at least one of the following
// Microsoft Entra roles", on each write operation's page).
func (s *Server) graphAdminMayLocked(t *Tenant, c Claims, roles ...string) bool {
	if c.AppOnly() {
		return true
	}
	for _, held := range s.graphRolesLocked(t, c) {
		if held == GlobalAdminTemplateID {
			return true
		}
		for _, r := range roles {
			if strings.EqualFold(held, r) {
				return true
			}
		}
	}
	return false
}

// graphTime formats a timestamp as Graph does (seven fractional digits, UTC).
func graphTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.0000000Z")
}

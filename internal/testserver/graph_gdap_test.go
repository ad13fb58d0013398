package testserver

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	roleHelpdesk      = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
	roleUserAdmin     = "fe930be7-5e62-47db-91af-98c3a49a38b1"
	roleCloudAppAdmin = "158c047a-c907-4556-b7ef-446551a6b5f7"
)

var gdapScopes = append([]string{"DelegatedAdminRelationship.ReadWrite.All"}, graphAllScopes...)

// gdapDo sends a GDAP request with an optional If-Match.
func gdapDo(t *testing.T, s *Server, tok, method, path, ifMatch string, body any) (int, map[string]any) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL()+"/graph/v1.0/tenantRelationships/delegatedAdminRelationships"+path, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	resp, err := s.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out := map[string]any{}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func gdapRoles(ids ...string) map[string]any {
	return map[string]any{"unifiedRoles": gdapRolesJSON(ids)}
}

// gdapActive creates, locks and approves a relationship with customer.
func gdapActive(t *testing.T, s *Server, tok, customer, name string, roles ...string) map[string]any {
	t.Helper()
	status, rel := gdapDo(t, s, tok, http.MethodPost, "", "", map[string]any{
		"displayName": name, "duration": "P730D", "customer": map[string]any{"tenantId": customer}, "accessDetails": gdapRoles(roles...)})
	require.Equal(t, http.StatusCreated, status, "%v", rel)
	require.Equal(t, RelCreated, rel["status"])
	id := rel["id"].(string)
	status, req := gdapDo(t, s, tok, http.MethodPost, "/"+id+"/requests", "", map[string]any{"action": "lockForApproval"})
	require.Equal(t, http.StatusCreated, status, "%v", req)
	require.Equal(t, "succeeded", req["status"])
	require.NoError(t, s.ApproveRelationship(id, ""))
	_, rel = gdapDo(t, s, tok, http.MethodGet, "/"+id, "", nil)
	return rel
}

func gdapGroup(s *Server, name string, members ...string) string {
	id := newID()
	s.Mutate(func(w *World) {
		g := &Group{ID: id, DisplayName: name, Members: map[string]bool{}}
		for _, m := range members {
			g.Members[m] = true
		}
		w.Partner.Groups[id] = g
	})
	return id
}

func TestGDAPLifecycle(t *testing.T) {
	t.Parallel()
	s := newGraphServer(t)
	cust := s.AddCustomer(CustomerSpec{Name: "Contoso"})
	tok := graphAdminToken(s, "", gdapScopes...)

	status, rel := gdapDo(t, s, tok, http.MethodPost, "", "", map[string]any{
		"displayName": "Contoso support", "duration": "P1Y", "customer": map[string]any{"tenantId": cust},
		"accessDetails": gdapRoles(roleHelpdesk, roleUserAdmin)})
	require.Equal(t, http.StatusCreated, status, "%v", rel)
	id := rel["id"].(string)
	assert.Equal(t, "created", rel["status"])
	assert.Nil(t, rel["activatedDateTime"])
	assert.Equal(t, "PT0S", rel["autoExtendDuration"])

	// created: every property may change, with the current ETag only.
	etag := rel["@odata.etag"].(string)
	status, _ = gdapDo(t, s, tok, http.MethodPatch, "/"+id, "", map[string]any{"displayName": "x"})
	assert.Equal(t, http.StatusBadRequest, status, "PATCH without If-Match")
	status, rel = gdapDo(t, s, tok, http.MethodPatch, "/"+id, etag, map[string]any{"displayName": "Contoso helpdesk"})
	require.Equal(t, http.StatusOK, status, "%v", rel)
	assert.Equal(t, "Contoso helpdesk", rel["displayName"])
	status, _ = gdapDo(t, s, tok, http.MethodPatch, "/"+id, etag, map[string]any{"displayName": "stale"})
	assert.Equal(t, http.StatusPreconditionFailed, status, "PATCH with a stale ETag")

	// lockForApproval: created → approvalPending.
	status, req := gdapDo(t, s, tok, http.MethodPost, "/"+id+"/requests", "", map[string]any{"action": "lockForApproval"})
	require.Equal(t, http.StatusCreated, status, "%v", req)
	_, rel = gdapDo(t, s, tok, http.MethodGet, "/"+id, "", nil)
	assert.Equal(t, "approvalPending", rel["status"])
	status, _ = gdapDo(t, s, tok, http.MethodDelete, "/"+id, rel["@odata.etag"].(string), nil)
	assert.Equal(t, http.StatusBadRequest, status, "delete after created")

	// The customer approves: approvalPending → active, ending after the duration.
	before := s.Clock().Now()
	require.NoError(t, s.ApproveRelationship(id, ""))
	require.Error(t, s.ApproveRelationship(id, ""), "approving twice")
	_, rel = gdapDo(t, s, tok, http.MethodGet, "/"+id, "", nil)
	assert.Equal(t, "active", rel["status"])
	activated, err := time.Parse(time.RFC3339Nano, rel["activatedDateTime"].(string))
	require.NoError(t, err)
	end, err := time.Parse(time.RFC3339Nano, rel["endDateTime"].(string))
	require.NoError(t, err)
	assert.False(t, activated.Before(before.Truncate(time.Microsecond)))
	assert.Equal(t, 365*24*time.Hour, end.Sub(activated))

	// Access assignment: pending, then active after the delay; the
	// partner's admin in the group reaches the customer only then.
	admin := s.Partner().AdminID
	group := gdapGroup(s, "Helpdesk", admin)
	assertAccess := func(want bool, roles ...string) {
		t.Helper()
		s.Read(func(w *World) {
			got, ok := s.partnerAccessLocked(w.Partner.Users[admin], w.Tenants[cust])
			assert.Equal(t, want, ok)
			assert.ElementsMatch(t, roles, got)
		})
	}
	assertAccess(false)
	status, a := gdapDo(t, s, tok, http.MethodPost, "/"+id+"/accessAssignments", "", map[string]any{
		"accessContainer": map[string]any{"accessContainerId": group, "accessContainerType": "securityGroup"},
		"accessDetails":   gdapRoles(roleHelpdesk)})
	require.Equal(t, http.StatusCreated, status, "%v", a)
	assert.Equal(t, "pending", a["status"])
	assertAccess(false)
	s.Clock().Advance(time.Minute)
	_, a = gdapDo(t, s, tok, http.MethodGet, "/"+id+"/accessAssignments/"+a["id"].(string), "", nil)
	assert.Equal(t, "active", a["status"])
	assertAccess(true, roleHelpdesk)

	// Auto-extend may be set on an active relationship without Global Administrator.
	_, rel = gdapDo(t, s, tok, http.MethodGet, "/"+id, "", nil)
	status, rel = gdapDo(t, s, tok, http.MethodPatch, "/"+id, rel["@odata.etag"].(string), map[string]any{"autoExtendDuration": "P180D"})
	require.Equal(t, http.StatusOK, status, "%v", rel)
	assert.Equal(t, "P180D", rel["autoExtendDuration"])

	// terminate: active → terminationRequested → terminated after the delay.
	status, req = gdapDo(t, s, tok, http.MethodPost, "/"+id+"/requests", "", map[string]any{"action": "terminate"})
	require.Equal(t, http.StatusCreated, status, "%v", req)
	assert.Equal(t, "pending", req["status"])
	_, rel = gdapDo(t, s, tok, http.MethodGet, "/"+id, "", nil)
	assert.Equal(t, "terminationRequested", rel["status"])
	assertAccess(false)
	s.Clock().Advance(time.Minute)
	_, rel = gdapDo(t, s, tok, http.MethodGet, "/"+id, "", nil)
	assert.Equal(t, "terminated", rel["status"])
	_, reqs := gdapDo(t, s, tok, http.MethodGet, "/"+id+"/requests", "", nil)
	require.Len(t, reqs["value"], 2)
	assert.Equal(t, "succeeded", reqs["value"].([]any)[1].(map[string]any)["status"])
}

func TestGDAPExpiry(t *testing.T) {
	t.Parallel()
	s := newGraphServer(t)
	cust := s.AddCustomer(CustomerSpec{Name: "Contoso"})
	tok := graphAdminToken(s, "", gdapScopes...)
	once := gdapActive(t, s, tok, cust, "once", roleHelpdesk)
	ext := gdapActive(t, s, tok, cust, "extends", roleHelpdesk)
	status, _ := gdapDo(t, s, tok, http.MethodPatch, "/"+ext["id"].(string), ext["@odata.etag"].(string), map[string]any{"autoExtendDuration": "P180D"})
	require.Equal(t, http.StatusOK, status)

	s.Clock().Advance(731 * 24 * time.Hour)
	tok = graphAdminToken(s, "", gdapScopes...) // the old one expired too
	_, rel := gdapDo(t, s, tok, http.MethodGet, "/"+once["id"].(string), "", nil)
	assert.Equal(t, "expired", rel["status"], "past endDateTime without auto-extend")
	_, rel = gdapDo(t, s, tok, http.MethodGet, "/"+ext["id"].(string), "", nil)
	assert.Equal(t, "active", rel["status"], "auto-extended by 180 days")
}

func TestGDAPDocumentedErrors(t *testing.T) {
	t.Parallel()
	s := newGraphServer(t)
	cust := s.AddCustomer(CustomerSpec{Name: "Contoso"})
	tok := graphAdminToken(s, "", gdapScopes...)
	active := gdapActive(t, s, tok, cust, "taken", roleHelpdesk, GlobalAdminTemplateID)
	id := active["id"].(string)
	group := gdapGroup(s, "Helpdesk")

	for _, tc := range []struct {
		name, method, path string
		etag               bool
		body               map[string]any
		status             int
	}{
		{"auto-extend with Global Administrator", http.MethodPost, "", false, map[string]any{"displayName": "ga", "duration": "P30D",
			"autoExtendDuration": "P180D", "accessDetails": gdapRoles(GlobalAdminTemplateID)}, http.StatusBadRequest},
		{"auto-extend an active relationship with Global Administrator", http.MethodPatch, "/" + id, true,
			map[string]any{"autoExtendDuration": "P180D"}, http.StatusBadRequest},
		{"displayName not unique", http.MethodPost, "", false, map[string]any{"displayName": "TAKEN", "duration": "P30D",
			"accessDetails": gdapRoles(roleHelpdesk)}, http.StatusBadRequest},
		{"displayName over 50 characters", http.MethodPost, "", false, map[string]any{"displayName": string(bytes.Repeat([]byte("n"), 51)),
			"duration": "P30D", "accessDetails": gdapRoles(roleHelpdesk)}, http.StatusBadRequest},
		{"duration under P1D", http.MethodPost, "", false, map[string]any{"displayName": "short", "duration": "P0D",
			"accessDetails": gdapRoles(roleHelpdesk)}, http.StatusBadRequest},
		{"duration over P2Y", http.MethodPost, "", false, map[string]any{"displayName": "long", "duration": "P731D",
			"accessDetails": gdapRoles(roleHelpdesk)}, http.StatusBadRequest},
		{"no roles", http.MethodPost, "", false, map[string]any{"displayName": "none", "duration": "P30D"}, http.StatusBadRequest},
		{"changing the roles of an active relationship", http.MethodPatch, "/" + id, true,
			map[string]any{"accessDetails": gdapRoles(roleHelpdesk, GlobalAdminTemplateID, roleUserAdmin)}, http.StatusBadRequest},
		{"renaming an active relationship", http.MethodPatch, "/" + id, true, map[string]any{"displayName": "renamed"}, http.StatusBadRequest},
		{"an assignment with a role the relationship lacks", http.MethodPost, "/" + id + "/accessAssignments", false, map[string]any{
			"accessContainer": map[string]any{"accessContainerId": group, "accessContainerType": "securityGroup"},
			"accessDetails":   gdapRoles(roleCloudAppAdmin)}, http.StatusBadRequest},
		{"an assignment to no group", http.MethodPost, "/" + id + "/accessAssignments", false, map[string]any{
			"accessContainer": map[string]any{"accessContainerId": newID(), "accessContainerType": "securityGroup"},
			"accessDetails":   gdapRoles(roleHelpdesk)}, http.StatusBadRequest},
		{"lockForApproval on an active relationship", http.MethodPost, "/" + id + "/requests", false,
			map[string]any{"action": "lockForApproval"}, http.StatusBadRequest},
		{"approve a direct relationship", http.MethodPost, "/" + id + "/requests", false, map[string]any{"action": "approve"}, http.StatusBadRequest},
		{"reject a direct relationship", http.MethodPost, "/" + id + "/requests", false, map[string]any{"action": "reject"}, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			etag := ""
			if tc.etag {
				_, rel := gdapDo(t, s, tok, http.MethodGet, "/"+id, "", nil)
				etag = rel["@odata.etag"].(string)
			}
			status, body := gdapDo(t, s, tok, tc.method, tc.path, etag, tc.body)
			assert.Equal(t, tc.status, status, "%v", body)
			assert.NotEmpty(t, graphErrMessage(body))
		})
	}

	// An assignment on a relationship not yet active.
	status, pending := gdapDo(t, s, tok, http.MethodPost, "", "", map[string]any{"displayName": "pending", "duration": "P30D",
		"customer": map[string]any{"tenantId": cust}, "accessDetails": gdapRoles(roleHelpdesk)})
	require.Equal(t, http.StatusCreated, status)
	status, body := gdapDo(t, s, tok, http.MethodPost, "/"+pending["id"].(string)+"/accessAssignments", "", map[string]any{
		"accessContainer": map[string]any{"accessContainerId": group, "accessContainerType": "securityGroup"},
		"accessDetails":   gdapRoles(roleHelpdesk)})
	assert.Equal(t, http.StatusBadRequest, status, "%v", body)
	// Deleting while created succeeds.
	status, _ = gdapDo(t, s, tok, http.MethodDelete, "/"+pending["id"].(string), pending["@odata.etag"].(string), nil)
	assert.Equal(t, http.StatusNoContent, status)
	status, _ = gdapDo(t, s, tok, http.MethodGet, "/"+pending["id"].(string), "", nil)
	assert.Equal(t, http.StatusNotFound, status)

	// Removing Global Administrator from an active relationship is a
	// long-running operation; the roles change when it succeeds.
	_, rel := gdapDo(t, s, tok, http.MethodGet, "/"+id, "", nil)
	status, _ = gdapDo(t, s, tok, http.MethodPatch, "/"+id, rel["@odata.etag"].(string), map[string]any{"accessDetails": gdapRoles(roleHelpdesk)})
	require.Equal(t, http.StatusAccepted, status)
	_, ops := gdapDo(t, s, tok, http.MethodGet, "/"+id+"/operations", "", nil)
	require.Len(t, ops["value"], 1)
	op := ops["value"].([]any)[0].(map[string]any)
	assert.Equal(t, "delegatedAdminRelationshipUpdate", op["operationType"])
	assert.Equal(t, "running", op["status"])
	s.Clock().Advance(time.Minute)
	_, op = gdapDo(t, s, tok, http.MethodGet, "/"+id+"/operations/"+op["id"].(string), "", nil)
	assert.Equal(t, "succeeded", op["status"])
	_, rel = gdapDo(t, s, tok, http.MethodGet, "/"+id, "", nil)
	assert.Len(t, rel["accessDetails"].(map[string]any)["unifiedRoles"], 1)
	status, _ = gdapDo(t, s, tok, http.MethodPatch, "/"+id, rel["@odata.etag"].(string), map[string]any{"autoExtendDuration": "P180D"})
	assert.Equal(t, http.StatusOK, status, "auto-extend once Global Administrator is gone")
}

// TestGDAPAccessIsTheUnion: a partner user's roles in a customer come from
// every active relationship, assignment and group membership together.
func TestGDAPAccessIsTheUnion(t *testing.T) {
	t.Parallel()
	s := newGraphServer(t)
	cust := s.AddCustomer(CustomerSpec{Name: "Contoso"})
	tok := graphAdminToken(s, "", gdapScopes...)
	admin := s.Partner().AdminID
	s.Mutate(func(w *World) { w.GDAPDelay = 0 })
	one := gdapActive(t, s, tok, cust, "one", roleHelpdesk)
	two := gdapActive(t, s, tok, cust, "two", roleUserAdmin, roleCloudAppAdmin)
	inGroup, outGroup := gdapGroup(s, "in", admin), gdapGroup(s, "out")
	assign := func(rel map[string]any, group string, roles ...string) {
		status, body := gdapDo(t, s, tok, http.MethodPost, "/"+rel["id"].(string)+"/accessAssignments", "", map[string]any{
			"accessContainer": map[string]any{"accessContainerId": group, "accessContainerType": "securityGroup"},
			"accessDetails":   gdapRoles(roles...)})
		require.Equal(t, http.StatusCreated, status, "%v", body)
	}
	assign(one, inGroup, roleHelpdesk)
	assign(two, inGroup, roleUserAdmin)
	assign(two, outGroup, roleCloudAppAdmin)
	s.Read(func(w *World) {
		roles, ok := s.partnerAccessLocked(w.Partner.Users[admin], w.Tenants[cust])
		assert.True(t, ok)
		assert.ElementsMatch(t, []string{roleHelpdesk, roleUserAdmin}, roles, "not the role of a group the admin is outside")
	})
	status, conflict := gdapDo(t, s, tok, http.MethodPost, "/"+one["id"].(string)+"/accessAssignments", "", map[string]any{
		"accessContainer": map[string]any{"accessContainerId": inGroup, "accessContainerType": "securityGroup"},
		"accessDetails":   gdapRoles(roleHelpdesk)})
	assert.Equal(t, http.StatusConflict, status, "%v", conflict)
}

func TestGDAPSandboxApproveEndpoint(t *testing.T) {
	t.Parallel()
	s := newGraphServer(t)
	cust := s.AddCustomer(CustomerSpec{Name: "Contoso"})
	tok := graphAdminToken(s, "", gdapScopes...)
	status, rel := gdapDo(t, s, tok, http.MethodPost, "", "", map[string]any{"displayName": "new customer", "duration": "P90D",
		"accessDetails": gdapRoles(roleHelpdesk)})
	require.Equal(t, http.StatusCreated, status)
	assert.Nil(t, rel["customer"])
	id := rel["id"].(string)
	approve := func(query string) int {
		resp, err := s.Client().Post(s.URL()+"/_sandbox/gdap/relationships/"+id+"/approve"+query, "application/json", nil)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusConflict, approve("?customer="+cust), "not locked for approval yet")
	gdapDo(t, s, tok, http.MethodPost, "/"+id+"/requests", "", map[string]any{"action": "lockForApproval"})
	assert.Equal(t, http.StatusConflict, approve(""), "no customer named")
	assert.Equal(t, http.StatusOK, approve("?customer="+cust))
	_, rel = gdapDo(t, s, tok, http.MethodGet, "/"+id, "", nil)
	assert.Equal(t, "active", rel["status"])
	assert.Equal(t, cust, rel["customer"].(map[string]any)["tenantId"])

	// A customer new to the partner: customer=new makes its tenant, which
	// approves and is then the relationship's customer.
	status, rel = gdapDo(t, s, tok, http.MethodPost, "", "", map[string]any{"displayName": "brand new", "duration": "P90D",
		"accessDetails": gdapRoles(roleHelpdesk)})
	require.Equal(t, http.StatusCreated, status)
	id = rel["id"].(string)
	gdapDo(t, s, tok, http.MethodPost, "/"+id+"/requests", "", map[string]any{"action": "lockForApproval"})
	resp, err := s.Client().Post(s.URL()+"/_sandbox/gdap/relationships/"+id+"/approve?customer=new&name=Fabrikam", "application/json", nil)
	require.NoError(t, err)
	var approved struct{ Approved, Customer string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&approved))
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, id, approved.Approved)
	require.NotEmpty(t, approved.Customer)
	assert.NotEqual(t, cust, approved.Customer, "a tenant of its own")
	_, rel = gdapDo(t, s, tok, http.MethodGet, "/"+id, "", nil)
	assert.Equal(t, "active", rel["status"])
	assert.Equal(t, approved.Customer, rel["customer"].(map[string]any)["tenantId"])
	assert.Equal(t, "Fabrikam", rel["customer"].(map[string]any)["displayName"])
	resp, err = s.Client().Post(s.URL()+"/_sandbox/gdap/relationships/no-such-id/approve?customer=new", "application/json", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

// TestGDAPSignInFollowsAssignments: a token into a customer reached only
// through a relationship made over Graph is refused (AADSTS50020) until an
// active assignment names a group the admin is in, and refused again once
// the relationship is terminated.
func TestGDAPSignInFollowsAssignments(t *testing.T) {
	t.Parallel()
	s := newGraphServer(t)
	cust := s.AddCustomer(CustomerSpec{Name: "Contoso"})
	tok := graphAdminToken(s, "", gdapScopes...)
	exo := mint(t, s, ExchangePowerShellID, MintScope("https://outlook.office365.com/.default offline_access"))
	signIn := func() []int {
		t.Helper()
		r := postToken(t, s, cust, url.Values{"grant_type": {"refresh_token"}, "client_id": {ExchangePowerShellID},
			"refresh_token": {exo}, "scope": {"https://outlook.office365.com/.default"}})
		if r.Status == http.StatusOK {
			return nil
		}
		return r.codes()
	}
	assert.Equal(t, []int{50020}, signIn(), "no relationship")
	rel := gdapActive(t, s, tok, cust, "exchange", "29232cdf-9323-42fd-ade2-1d097af3e4de")
	id := rel["id"].(string)
	assert.Equal(t, []int{50020}, signIn(), "an active relationship, no assignment")

	group := gdapGroup(s, "GDAP - Exchange Administrator", s.Partner().AdminID)
	status, _ := gdapDo(t, s, tok, http.MethodPost, "/"+id+"/accessAssignments", "", map[string]any{
		"accessContainer": map[string]any{"accessContainerId": group, "accessContainerType": "securityGroup"},
		"accessDetails":   gdapRoles("29232cdf-9323-42fd-ade2-1d097af3e4de")})
	require.Equal(t, http.StatusCreated, status)
	assert.Equal(t, []int{50020}, signIn(), "the assignment is still pending")
	s.Clock().Advance(time.Minute)
	assert.Nil(t, signIn(), "the assignment is active and the admin in its group")

	_, _ = gdapDo(t, s, tok, http.MethodPost, "/"+id+"/requests", "", map[string]any{"action": "terminate"})
	assert.Equal(t, []int{50020}, signIn(), "terminating")
}

func TestGDAPSeededPendingApproval(t *testing.T) {
	t.Parallel()
	s := newGraphServer(t)
	cust := s.AddCustomer(CustomerSpec{Name: "Contoso", GDAP: true, GDAPStatus: RelApprovalPending})
	tok := graphAdminToken(s, "", gdapScopes...)
	var id string
	s.Read(func(w *World) { id = w.Partner.RelationshipFor(cust).ID })
	require.NoError(t, s.ApproveRelationship(id, ""))
	_, rel := gdapDo(t, s, tok, http.MethodGet, "/"+id, "", nil)
	assert.Equal(t, "active", rel["status"], "a seeded relationship keeps its term once approved")

	// A relationship without a customer lists, and filters, like the others.
	status, _ := gdapDo(t, s, tok, http.MethodPost, "", "", map[string]any{"displayName": "anyone", "duration": "P30D",
		"accessDetails": gdapRoles(roleHelpdesk)})
	require.Equal(t, http.StatusCreated, status)
	status, list := gdapDo(t, s, tok, http.MethodGet, "?$filter=customer/tenantId%20eq%20'"+cust+"'", "", nil)
	require.Equal(t, http.StatusOK, status, "%v", list)
	assert.Len(t, list["value"], 1)
}

package testserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The partner's side of GDAP: create, change and end relationships, lock
// them for the customer's approval, and assign their roles to security
// groups. Pages (Microsoft Graph v1.0):
//   - https://learn.microsoft.com/graph/api/tenantrelationship-post-delegatedadminrelationships
//   - https://learn.microsoft.com/graph/api/delegatedadminrelationship-update
//   - https://learn.microsoft.com/graph/api/delegatedadminrelationship-delete
//   - https://learn.microsoft.com/graph/api/delegatedadminrelationship-post-requests
//   - https://learn.microsoft.com/graph/api/delegatedadminrelationship-post-accessassignments
//   - https://learn.microsoft.com/graph/api/delegatedadminaccessassignment-update
//   - https://learn.microsoft.com/graph/api/resources/delegatedadminaccessassignment
//   - https://learn.microsoft.com/graph/api/resources/delegatedadminrelationshipoperation
//
// Microsoft documents which changes are refused, not the error codes and
// texts it answers with; the fake answers 400 Bad Request with code
// "badRequest" and a message naming the rule broken.

// permGDAPWrite is what every GDAP write needs: "DelegatedAdminRelationship.ReadWrite.All",
// delegated or application, on each page above.
var permGDAPWrite = []string{"DelegatedAdminRelationship.ReadWrite.All"}

const gdapBase = "/v1.0/tenantRelationships/delegatedAdminRelationships"

func (s *Server) routeGraphGDAP(api *http.ServeMux) {
	api.HandleFunc("POST "+gdapBase, s.graphOp(permGDAPWrite, s.gdapCreate))
	api.HandleFunc("GET "+gdapBase+"/{id}", s.graphOp(permGDAP, s.gdapGet))
	api.HandleFunc("PATCH "+gdapBase+"/{id}", s.graphOp(permGDAPWrite, s.gdapUpdate))
	api.HandleFunc("DELETE "+gdapBase+"/{id}", s.graphOp(permGDAPWrite, s.gdapDelete))
	api.HandleFunc("POST "+gdapBase+"/{id}/requests", s.graphOp(permGDAPWrite, s.gdapPostRequest))
	api.HandleFunc("GET "+gdapBase+"/{id}/requests", s.graphOp(permGDAP, s.gdapList("requests")))
	api.HandleFunc("GET "+gdapBase+"/{id}/requests/{sub}", s.graphOp(permGDAP, s.gdapGetSub("requests")))
	api.HandleFunc("POST "+gdapBase+"/{id}/accessAssignments", s.graphOp(permGDAPWrite, s.gdapAssign))
	api.HandleFunc("GET "+gdapBase+"/{id}/accessAssignments", s.graphOp(permGDAP, s.gdapList("accessAssignments")))
	api.HandleFunc("GET "+gdapBase+"/{id}/accessAssignments/{sub}", s.graphOp(permGDAP, s.gdapGetSub("accessAssignments")))
	api.HandleFunc("PATCH "+gdapBase+"/{id}/accessAssignments/{sub}", s.graphOp(permGDAPWrite, s.gdapReassign))
	api.HandleFunc("DELETE "+gdapBase+"/{id}/accessAssignments/{sub}", s.graphOp(permGDAPWrite, s.gdapUnassign))
	api.HandleFunc("GET "+gdapBase+"/{id}/operations", s.graphOp(permGDAP, s.gdapList("operations")))
	api.HandleFunc("GET "+gdapBase+"/{id}/operations/{sub}", s.graphOp(permGDAP, s.gdapGetSub("operations")))
}

// Limits from the delegatedAdminRelationship resource page: displayName
// "maximum length is 50 characters", duration "must be a value between P1D
// and P2Y inclusive", autoExtendDuration "supported values are: P0D, PT0S,
// P180D".
const (
	gdapMaxName = 50
	gdapMaxDays = 730
)

func gdapFail(format string, args ...any) *graphFail {
	return graphFailBadRequest("badRequest", fmt.Sprintf(format, args...))
}

var gdapDurationRE = regexp.MustCompile(`^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$`)

// gdapDays reads an ISO 8601 duration of whole days, months (30 days)
// and years (365 days) as a number of days.
func gdapDays(d string) (int, bool) {
	m := gdapDurationRE.FindStringSubmatch(d)
	if m == nil || d == "P" {
		return 0, false
	}
	days := 0
	for i, per := range []int{365, 30, 7, 1} {
		if m[i+1] != "" {
			n, err := strconv.Atoi(m[i+1])
			if err != nil || n > 100000 {
				return 0, false
			}
			days += n * per
		}
	}
	return days, true
}

// gdapBody is the writable part of a delegatedAdminRelationship.
type gdapBody struct {
	DisplayName        *string `json:"displayName"`
	Duration           *string `json:"duration"`
	AutoExtendDuration *string `json:"autoExtendDuration"`
	Customer           *struct {
		TenantID    string `json:"tenantId"`
		DisplayName string `json:"displayName"`
	} `json:"customer"`
	AccessDetails *struct {
		UnifiedRoles []struct {
			RoleDefinitionID string `json:"roleDefinitionId"`
		} `json:"unifiedRoles"`
	} `json:"accessDetails"`
}

func (b gdapBody) roles() []string {
	if b.AccessDetails == nil {
		return nil
	}
	var ids []string
	for _, r := range b.AccessDetails.UnifiedRoles {
		if id := strings.ToLower(r.RoleDefinitionID); !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// autoExtend reads autoExtendDuration: P180D extends, PT0S and P0D do not.
func gdapAutoExtend(v string) (bool, *graphFail) {
	switch v {
	case "P180D":
		return true, nil
	case "PT0S", "P0D":
		return false, nil
	}
	return false, gdapFail("autoExtendDuration %q is not supported: use PT0S, P0D or P180D.", v)
}

// apply sets b's properties on rel, checking each as Microsoft documents.
func (b gdapBody) apply(rel *Relationship, others []*Relationship) *graphFail {
	if b.DisplayName != nil {
		name := strings.TrimSpace(*b.DisplayName)
		switch {
		case name == "":
			return gdapFail("displayName is required.")
		case len([]rune(name)) > gdapMaxName:
			return gdapFail("displayName must be at most %d characters; %q has %d.", gdapMaxName, name, len([]rune(name)))
		}
		for _, o := range others {
			if o != rel && strings.EqualFold(o.DisplayName, name) {
				return gdapFail("displayName %q is already used by relationship %s: it must be unique across the partner's relationships.", name, o.ID)
			}
		}
		rel.DisplayName = name
	}
	if b.Duration != nil {
		days, ok := gdapDays(*b.Duration)
		if !ok || days < 1 || days > gdapMaxDays {
			return gdapFail("duration %q is outside P1D..P2Y.", *b.Duration)
		}
		rel.GDAP.Duration = *b.Duration
	}
	if b.Customer != nil {
		rel.CustomerTenantID, rel.CustomerName = strings.ToLower(b.Customer.TenantID), b.Customer.DisplayName
	}
	if b.AccessDetails != nil {
		roles := b.roles()
		if len(roles) == 0 {
			return gdapFail("accessDetails.unifiedRoles must name at least one role.")
		}
		rel.RoleIDs = roles
	}
	if b.AutoExtendDuration != nil {
		ext, fail := gdapAutoExtend(*b.AutoExtendDuration)
		if fail != nil {
			return fail
		}
		rel.AutoExtend = ext
	}
	return gdapCheckExtend(rel)
}

// gdapCheckExtend refuses auto-extension of a relationship that holds
// Global Administrator: "relationships with the Microsoft Entra Global
// Administrator role can't be auto extended"
// (https://learn.microsoft.com/partner-center/customers/gdap-faq).
func gdapCheckExtend(rel *Relationship) *graphFail {
	if rel.AutoExtend && slices.Contains(rel.RoleIDs, GlobalAdminTemplateID) {
		return gdapFail("autoExtendDuration P180D is not allowed for a relationship that includes the Global Administrator role (%s).", GlobalAdminTemplateID)
	}
	return nil
}

// gdapRelLocked finds the caller's relationship by id, brought up to now.
func (s *Server) gdapRelLocked(c Claims, id string) (*Tenant, *Relationship, *graphFail) {
	t := s.graphTenantLocked(c)
	if t == nil || t != s.world.Partner {
		return nil, nil, graphFailNotFound(id)
	}
	for _, rel := range t.Relationships {
		if rel.ID == id {
			gdapAdvance(rel, s.clock.Now())
			return t, rel, nil
		}
	}
	return nil, nil, &graphFail{status: http.StatusNotFound, code: "notFound", message: "Relationship '" + id + "' was not found."}
}

// gdapCreate creates a relationship in status created: 201 with it.
func (s *Server) gdapCreate(w http.ResponseWriter, r *http.Request, c Claims) {
	var b gdapBody
	if !s.readGraphBody(w, r, &b) {
		return
	}
	var obj map[string]any
	var fail *graphFail
	switch {
	case b.DisplayName == nil:
		fail = gdapFail("displayName is required.")
	case b.Duration == nil:
		fail = gdapFail("duration is required (P1D..P2Y).")
	case len(b.roles()) == 0:
		fail = gdapFail("accessDetails.unifiedRoles must name at least one role.")
	}
	s.mu.Lock()
	t := s.graphTenantLocked(c)
	if fail == nil && (t == nil || t != s.world.Partner) {
		fail = graphFailDenied()
	}
	if fail == nil {
		now := s.clock.Now()
		rel := &Relationship{ID: newID() + "-" + newID(), Status: RelCreated, Created: now}
		rel.GDAP.Modified = now
		if fail = b.apply(rel, t.Relationships); fail == nil {
			if rel.CustomerTenantID != "" && rel.CustomerName == "" {
				if ct := s.world.Tenants[rel.CustomerTenantID]; ct != nil {
					rel.CustomerName = ct.DisplayName
				}
			}
			t.Relationships = append(t.Relationships, rel)
			obj = graphRelationshipJSON(rel, t.ID)
		}
	}
	s.mu.Unlock()
	if fail != nil {
		s.writeGraphFail(w, r, fail)
		return
	}
	w.Header().Set("Location", s.URL()+"/graph"+gdapBase+"/"+obj["id"].(string))
	s.writeGraphEntity(w, r, http.StatusCreated, "tenantRelationships/delegatedAdminRelationships", obj)
}

func (s *Server) gdapGet(w http.ResponseWriter, r *http.Request, c Claims) {
	s.mu.Lock()
	t, rel, fail := s.gdapRelLocked(c, r.PathValue("id"))
	var obj map[string]any
	if fail == nil {
		obj = graphRelationshipJSON(rel, t.ID)
	}
	s.mu.Unlock()
	if fail != nil {
		s.writeGraphFail(w, r, fail)
		return
	}
	s.writeGraphEntity(w, r, http.StatusOK, "tenantRelationships/delegatedAdminRelationships", obj)
}

// gdapMatch checks the If-Match header the update and delete pages
// require ("If-Match: Required. Last known ETag value").
func gdapMatch(r *http.Request, etag string) *graphFail {
	got := r.Header.Get("If-Match")
	switch {
	case got == "":
		return gdapFail("The If-Match header is required: send the relationship's @odata.etag.")
	case got != etag && got != "*":
		return &graphFail{status: http.StatusPreconditionFailed, code: "preconditionFailed",
			message: "The relationship has changed since it was read: If-Match does not match its current @odata.etag."}
	}
	return nil
}

// gdapUpdate changes a relationship. While created every writable property
// may change; while active only autoExtendDuration, and the removal of
// Global Administrator, which runs as a long-running operation (202 with
// its Location); otherwise nothing.
func (s *Server) gdapUpdate(w http.ResponseWriter, r *http.Request, c Claims) {
	var b gdapBody
	if !s.readGraphBody(w, r, &b) {
		return
	}
	var obj map[string]any
	var opURL string
	s.mu.Lock()
	t, rel, fail := s.gdapRelLocked(c, r.PathValue("id"))
	if fail == nil {
		fail = gdapMatch(r, graphRelationshipJSON(rel, t.ID)["@odata.etag"].(string))
	}
	if fail == nil {
		now := s.clock.Now()
		next := *rel
		switch rel.Status {
		case RelCreated:
			fail = b.apply(&next, t.Relationships)
		case RelActive:
			fail, opURL = s.gdapUpdateActiveLocked(b, &next, now)
		default:
			fail = gdapFail("A relationship in status %s cannot be changed.", rel.Status)
		}
		if fail == nil {
			*rel = next
			gdapTouch(rel, now)
			obj = graphRelationshipJSON(rel, t.ID)
		}
	}
	s.mu.Unlock()
	switch {
	case fail != nil:
		s.writeGraphFail(w, r, fail)
	case opURL != "":
		w.Header().Set("Location", opURL)
		graphRequestIDs(w, r)
		w.WriteHeader(http.StatusAccepted)
	default:
		s.writeGraphEntity(w, r, http.StatusOK, "tenantRelationships/delegatedAdminRelationships", obj)
	}
}

// gdapUpdateActiveLocked applies b to an active relationship: "You can
// update the autoExtendDuration property when status is either created or
// active. You can only remove the Microsoft Entra Global Administrator role
// when the status property is active, which indicates a long-running
// operation." Any other change of roles is refused.
func (s *Server) gdapUpdateActiveLocked(b gdapBody, rel *Relationship, now time.Time) (*graphFail, string) {
	if b.DisplayName != nil || b.Duration != nil || b.Customer != nil {
		return gdapFail("displayName, duration and customer can change only while the relationship is created; it is active."), ""
	}
	if b.AutoExtendDuration != nil {
		ext, fail := gdapAutoExtend(*b.AutoExtendDuration)
		if fail != nil {
			return fail, ""
		}
		rel.AutoExtend = ext
	}
	opURL := ""
	if b.AccessDetails != nil {
		roles := b.roles()
		want := slices.DeleteFunc(slices.Clone(rel.RoleIDs), func(id string) bool { return id == GlobalAdminTemplateID })
		same := slices.Equal(slices.Sorted(slices.Values(roles)), slices.Sorted(slices.Values(rel.RoleIDs)))
		if !same && (!slices.Contains(rel.RoleIDs, GlobalAdminTemplateID) ||
			!slices.Equal(slices.Sorted(slices.Values(roles)), slices.Sorted(slices.Values(want)))) {
			return gdapFail("The roles of an active relationship cannot change, except to remove Global Administrator (%s); "+
				"create a new relationship for other roles.", GlobalAdminTemplateID), ""
		}
		if !same {
			op := &RelationshipOperation{ID: newID(), Type: "delegatedAdminRelationshipUpdate", Status: "running",
				Created: now, Modified: now, DoneAt: now.Add(s.world.GDAPDelay), RoleIDs: roles}
			data, _ := json.Marshal(map[string]any{"accessDetails": map[string]any{"unifiedRoles": gdapRolesJSON(roles)}})
			op.Data = string(data)
			rel.GDAP.Operations = append(slices.Clone(rel.GDAP.Operations), op)
			opURL = s.URL() + "/graph" + gdapBase + "/" + rel.ID + "/operations/" + op.ID
		}
	}
	if opURL == "" {
		// Global Administrator stays until the operation succeeds, and
		// with it the refusal to auto-extend.
		return gdapCheckExtend(rel), ""
	}
	if rel.AutoExtend {
		return gdapFail("autoExtendDuration P180D is not allowed while Global Administrator (%s) is still being removed.", GlobalAdminTemplateID), ""
	}
	return nil, opURL
}

func gdapRolesJSON(ids []string) []map[string]any {
	roles := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		roles = append(roles, map[string]any{"roleDefinitionId": id})
	}
	return roles
}

// gdapDelete deletes a relationship still in status created
// (https://learn.microsoft.com/graph/api/delegatedadminrelationship-delete);
// later ones end by a terminate request.
func (s *Server) gdapDelete(w http.ResponseWriter, r *http.Request, c Claims) {
	s.mu.Lock()
	t, rel, fail := s.gdapRelLocked(c, r.PathValue("id"))
	if fail == nil {
		fail = gdapMatch(r, graphRelationshipJSON(rel, t.ID)["@odata.etag"].(string))
	}
	if fail == nil && rel.Status != RelCreated {
		fail = gdapFail("Only a relationship in status created can be deleted; this one is %s: terminate it instead.", rel.Status)
	}
	if fail == nil {
		t.Relationships = slices.DeleteFunc(slices.Clone(t.Relationships), func(o *Relationship) bool { return o == rel })
	}
	s.mu.Unlock()
	if fail != nil {
		s.writeGraphFail(w, r, fail)
		return
	}
	s.writeGraphNoContent(w, r)
}

// gdapPostRequest acts on a relationship. lockForApproval moves created to
// approvalPending; terminate moves active to terminationRequested, and
// terminated after World.GDAPDelay. approve and reject are the indirect
// reseller's answer to a relationship its provider created for it
// (resellerDelegatedAdminRelationship); the fake's relationships are all
// direct, so both are refused.
func (s *Server) gdapPostRequest(w http.ResponseWriter, r *http.Request, c Claims) {
	var b struct {
		Action string `json:"action"`
	}
	if !s.readGraphBody(w, r, &b) {
		return
	}
	var obj map[string]any
	s.mu.Lock()
	_, rel, fail := s.gdapRelLocked(c, r.PathValue("id"))
	if fail == nil {
		now := s.clock.Now()
		req := &RelationshipRequest{ID: newID(), Action: b.Action, Status: "succeeded", Created: now, Modified: now}
		switch {
		case b.Action == "lockForApproval" && rel.Status == RelCreated:
			rel.Status = RelApprovalPending
		case b.Action == "terminate" && rel.Status == RelActive:
			rel.Status, req.Status = RelTerminationRequested, "pending"
			rel.GDAP.TerminateAt = now.Add(s.world.GDAPDelay)
		case b.Action == "approve" || b.Action == "reject":
			fail = gdapFail("Action %s applies only to a relationship an indirect provider created for an indirect reseller; this relationship is direct.", b.Action)
		case b.Action == "lockForApproval" || b.Action == "terminate":
			fail = gdapFail("Action %s is not allowed on a relationship in status %s.", b.Action, rel.Status)
		default:
			fail = gdapFail("action %q is not supported: use lockForApproval, approve, terminate or reject.", b.Action)
		}
		if fail == nil {
			rel.GDAP.Requests = append(rel.GDAP.Requests, req)
			gdapTouch(rel, now)
			obj = gdapRequestJSON(req)
		}
	}
	s.mu.Unlock()
	if fail != nil {
		s.writeGraphFail(w, r, fail)
		return
	}
	w.Header().Set("Location", s.URL()+"/graph"+gdapBase+"/"+r.PathValue("id")+"/requests/"+obj["id"].(string))
	s.writeGraphEntity(w, r, http.StatusCreated, "tenantRelationships/delegatedAdminRelationships('"+r.PathValue("id")+"')/requests", obj)
}

// gdapAssign gives a partner security group roles of an active
// relationship: 201 with the assignment in status pending, active after
// World.GDAPDelay. The roles must be among the relationship's, and a group
// has one assignment per relationship.
func (s *Server) gdapAssign(w http.ResponseWriter, r *http.Request, c Claims) {
	var b struct {
		AccessContainer struct {
			ID   string `json:"accessContainerId"`
			Type string `json:"accessContainerType"`
		} `json:"accessContainer"`
		gdapBody
	}
	if !s.readGraphBody(w, r, &b) {
		return
	}
	var obj map[string]any
	s.mu.Lock()
	t, rel, fail := s.gdapRelLocked(c, r.PathValue("id"))
	roles := b.roles()
	if fail == nil {
		fail = gdapCheckAssign(t, rel, b.AccessContainer.Type, b.AccessContainer.ID, roles)
	}
	if fail == nil {
		now := s.clock.Now()
		a := &AccessAssignment{ID: newID(), GroupID: b.AccessContainer.ID, RoleIDs: roles, Status: "pending",
			Created: now, Modified: now, DoneAt: now.Add(s.world.GDAPDelay)}
		rel.GDAP.Assignments = append(rel.GDAP.Assignments, a)
		obj = gdapAssignmentJSON(a)
	}
	s.mu.Unlock()
	if fail != nil {
		s.writeGraphFail(w, r, fail)
		return
	}
	w.Header().Set("Location", s.URL()+"/graph"+gdapBase+"/"+r.PathValue("id")+"/accessAssignments/"+obj["id"].(string))
	s.writeGraphEntity(w, r, http.StatusCreated, "tenantRelationships/delegatedAdminRelationships('"+r.PathValue("id")+"')/accessAssignments", obj)
}

func gdapCheckAssign(t *Tenant, rel *Relationship, kind, group string, roles []string) *graphFail {
	if rel.Status != RelActive {
		return gdapFail("Access assignments can be created only on an active relationship; this one is %s.", rel.Status)
	}
	if kind != "securityGroup" {
		return gdapFail("accessContainerType %q is not supported: use securityGroup.", kind)
	}
	if t.Groups[group] == nil {
		return gdapFail("accessContainerId %q is not a security group in the partner's tenant.", group)
	}
	if len(roles) == 0 {
		return gdapFail("accessDetails.unifiedRoles must name at least one role.")
	}
	for _, id := range roles {
		if !slices.Contains(rel.RoleIDs, id) {
			return gdapFail("Role %s is not part of the relationship's roles: an access assignment can hold only roles of its relationship.", id)
		}
	}
	for _, a := range rel.GDAP.Assignments {
		if a.GroupID == group && a.Status != "deleted" && a.Status != "deleting" {
			return &graphFail{status: http.StatusConflict, code: "conflict",
				message: "The security group " + group + " already has access assignment " + a.ID + " in this relationship."}
		}
	}
	return nil
}

// gdapAssignmentLocked finds the relationship and live access assignment
// a request names, and checks its If-Match against the assignment.
func (s *Server) gdapAssignmentLocked(r *http.Request, c Claims) (*Relationship, *AccessAssignment, *graphFail) {
	_, rel, fail := s.gdapRelLocked(c, r.PathValue("id"))
	if fail != nil {
		return nil, nil, fail
	}
	a := gdapFind(rel.GDAP.Assignments, r.PathValue("sub"), func(a *AccessAssignment) string { return a.ID })
	if a == nil || a.Status == "deleted" {
		return rel, nil, &graphFail{status: http.StatusNotFound, code: "notFound", message: "Access assignment '" + r.PathValue("sub") + "' was not found."}
	}
	return rel, a, gdapMatch(r, gdapAssignmentJSON(a)["@odata.etag"].(string))
}

// gdapUnassign removes an access assignment: it turns deleting, then
// deleted after World.GDAPDelay.
func (s *Server) gdapUnassign(w http.ResponseWriter, r *http.Request, c Claims) {
	s.mu.Lock()
	_, a, fail := s.gdapAssignmentLocked(r, c)
	if fail == nil && a.Status != "deleting" {
		now := s.clock.Now()
		a.Status, a.Modified, a.DoneAt = "deleting", now, now.Add(s.world.GDAPDelay)
		a.Version++
	}
	s.mu.Unlock()
	if fail != nil {
		s.writeGraphFail(w, r, fail)
		return
	}
	s.writeGraphNoContent(w, r)
}

func gdapFind[T any](items []T, id string, key func(T) string) T {
	var zero T
	for _, it := range items {
		if key(it) == id {
			return it
		}
	}
	return zero
}

// gdapItemsLocked renders the named collection of rel.
func gdapItemsLocked(rel *Relationship, kind string) []map[string]any {
	items := []map[string]any{}
	switch kind {
	case "requests":
		for _, q := range rel.GDAP.Requests {
			items = append(items, gdapRequestJSON(q))
		}
	case "accessAssignments":
		for _, a := range rel.GDAP.Assignments {
			items = append(items, gdapAssignmentJSON(a))
		}
	case "operations":
		for _, op := range rel.GDAP.Operations {
			items = append(items, gdapOperationJSON(op))
		}
	}
	return items
}

var gdapResource = map[string]string{
	"requests": "DelegatedAdminRelationshipRequest", "accessAssignments": "DelegatedAdminAccessAssignment",
	"operations": "DelegatedAdminRelationshipOperation",
}

func (s *Server) gdapList(kind string) graphOp {
	return func(w http.ResponseWriter, r *http.Request, c Claims) {
		s.mu.Lock()
		_, rel, fail := s.gdapRelLocked(c, r.PathValue("id"))
		var items []map[string]any
		if fail == nil {
			items = gdapItemsLocked(rel, kind)
		}
		s.mu.Unlock()
		if fail != nil {
			s.writeGraphFail(w, r, fail)
			return
		}
		s.writeGraphCollection(w, r, c, graphCollection{
			fragment: "tenantRelationships/delegatedAdminRelationships('" + r.PathValue("id") + "')/" + kind,
			resource: gdapResource[kind], paging: graphGDAPPaging, filterable: []string{"id", "status", "action", "operationType"}}, items)
	}
}

func (s *Server) gdapGetSub(kind string) graphOp {
	return func(w http.ResponseWriter, r *http.Request, c Claims) {
		s.mu.Lock()
		_, rel, fail := s.gdapRelLocked(c, r.PathValue("id"))
		var obj map[string]any
		if fail == nil {
			obj = gdapFind(gdapItemsLocked(rel, kind), r.PathValue("sub"), func(m map[string]any) string { return m["id"].(string) })
			if obj == nil {
				fail = &graphFail{status: http.StatusNotFound, code: "notFound", message: "'" + r.PathValue("sub") + "' was not found."}
			}
		}
		s.mu.Unlock()
		if fail != nil {
			s.writeGraphFail(w, r, fail)
			return
		}
		s.writeGraphEntity(w, r, http.StatusOK, "tenantRelationships/delegatedAdminRelationships('"+r.PathValue("id")+"')/"+kind, obj)
	}
}

func gdapRequestJSON(q *RelationshipRequest) map[string]any {
	return map[string]any{
		"@odata.type": "#microsoft.graph.delegatedAdminRelationshipRequest", "id": q.ID, "action": q.Action, "status": q.Status,
		"createdDateTime": graphTime(q.Created), "lastModifiedDateTime": graphTime(q.Modified),
	}
}

func gdapAssignmentJSON(a *AccessAssignment) map[string]any {
	return map[string]any{
		"@odata.type": "#microsoft.graph.delegatedAdminAccessAssignment", "@odata.etag": graphETag(fmt.Sprintf("%s/%d", a.ID, a.Version)),
		"id": a.ID, "status": a.Status,
		"accessContainer": map[string]any{"accessContainerId": a.GroupID, "accessContainerType": "securityGroup"},
		"accessDetails":   map[string]any{"unifiedRoles": gdapRolesJSON(a.RoleIDs)},
		"createdDateTime": graphTime(a.Created), "lastModifiedDateTime": graphTime(a.Modified),
	}
}

func gdapOperationJSON(op *RelationshipOperation) map[string]any {
	return map[string]any{
		"@odata.type": "#microsoft.graph.delegatedAdminRelationshipOperation", "@odata.etag": graphETag(op.ID + "/" + op.Status),
		"id": op.ID, "operationType": op.Type, "status": op.Status, "data": op.Data,
		"createdDateTime": graphTime(op.Created), "lastModifiedDateTime": graphTime(op.Modified),
	}
}

// ApproveRelationship is the customer's admin approving relationship id at
// its invitation link: approvalPending becomes active, activated now and
// ending after its duration. customer names the approving tenant when the
// invitation named none (a new customer); otherwise it may be empty or
// must match.
func (s *Server) ApproveRelationship(id, customer string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.world.Partner
	var rel *Relationship
	for _, r := range p.Relationships {
		if r.ID == id {
			rel = r
		}
	}
	customer = strings.ToLower(customer)
	switch {
	case rel == nil:
		return fmt.Errorf("testserver: no relationship %q", id)
	case rel.Status != RelApprovalPending:
		return fmt.Errorf("testserver: relationship %q is %s, not approvalPending: only a relationship locked for approval can be approved", id, rel.Status)
	case customer == "" && rel.CustomerTenantID == "":
		return fmt.Errorf("testserver: relationship %q names no customer: say which tenant approves it", id)
	case customer != "" && rel.CustomerTenantID != "" && customer != rel.CustomerTenantID:
		return fmt.Errorf("testserver: relationship %q is for customer %s, not %s", id, rel.CustomerTenantID, customer)
	}
	if customer == "" {
		customer = rel.CustomerTenantID
	}
	ct := s.world.Tenants[customer]
	if ct == nil || ct.Deleted {
		return fmt.Errorf("testserver: no customer tenant %q", customer)
	}
	now := s.clock.Now()
	days, _ := gdapDays(rel.GDAP.Duration)
	if days == 0 {
		// A seeded relationship has no requested duration: its term is
		// the span it was seeded with, two years when none.
		if days = int(rel.End.Sub(rel.Created).Hours() / 24); days <= 0 {
			days = gdapMaxDays
		}
	}
	rel.CustomerTenantID, rel.CustomerName = ct.ID, ct.DisplayName
	rel.Status, rel.GDAP.Activated = RelActive, now
	s.listCustomerLocked(ct)
	rel.End = now.Add(time.Duration(days) * 24 * time.Hour)
	gdapTouch(rel, now)
	return nil
}

// routeAdminGDAP lets a sandbox user play the customer's admin who opens
// the invitation link and approves.
func (s *Server) routeAdminGDAP(mux *http.ServeMux) {
	mux.HandleFunc("POST /_sandbox/gdap/relationships/{id}/approve", func(w http.ResponseWriter, r *http.Request) {
		id, customer := r.PathValue("id"), r.URL.Query().Get("customer")
		if customer == "new" {
			// A customer new to the partner opens the link: its tenant
			// comes to be, not yet in Partner Center, and approves.
			name := r.URL.Query().Get("name")
			if name == "" {
				s.Read(func(w *World) {
					for _, rel := range w.Partner.Relationships {
						if rel.ID == id {
							name = "Customer of " + rel.DisplayName
						}
					}
				})
			}
			if name == "" {
				writeJSON(w, http.StatusNotFound, map[string]any{"error": fmt.Sprintf("no relationship %q", id)})
				return
			}
			customer = s.AddProspect(name).ID
		}
		if err := s.ApproveRelationship(id, customer); err != nil {
			status := http.StatusConflict
			if strings.Contains(err.Error(), "no relationship") || strings.Contains(err.Error(), "no customer tenant") {
				status = http.StatusNotFound
			}
			writeJSON(w, status, map[string]any{"error": strings.TrimPrefix(err.Error(), "testserver: ")})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"approved": id, "customer": strings.ToLower(customer)})
	})
}

// gdapReassign changes the roles of an access assignment
// (https://learn.microsoft.com/graph/api/delegatedadminaccessassignment-update):
// If-Match is required; the same roles answer 200 with the assignment,
// other roles 202 with the Location of a long-running operation that sets
// them after World.GDAPDelay. The roles must be among the relationship's,
// as when the assignment was created.
func (s *Server) gdapReassign(w http.ResponseWriter, r *http.Request, c Claims) {
	var b gdapBody
	if !s.readGraphBody(w, r, &b) {
		return
	}
	var obj map[string]any
	var opURL string
	s.mu.Lock()
	rel, a, fail := s.gdapAssignmentLocked(r, c)
	roles := b.roles()
	switch {
	case fail != nil:
	case rel.Status != RelActive:
		fail = gdapFail("Access assignments can change only on an active relationship; this one is %s.", rel.Status)
	case a.Status == "deleting":
		fail = gdapFail("Access assignment %s is being deleted and cannot change.", a.ID)
	case len(roles) == 0:
		fail = gdapFail("accessDetails.unifiedRoles must name at least one role.")
	}
	for _, id := range roles {
		if fail == nil && !slices.Contains(rel.RoleIDs, id) {
			fail = gdapFail("Role %s is not part of the relationship's roles: an access assignment can hold only roles of its relationship.", id)
		}
	}
	if fail == nil {
		if slices.Equal(slices.Sorted(slices.Values(roles)), slices.Sorted(slices.Values(a.RoleIDs))) {
			obj = gdapAssignmentJSON(a)
		} else {
			now := s.clock.Now()
			op := &RelationshipOperation{ID: newID(), Type: "delegatedAdminAccessAssignmentUpdate", Status: "running",
				Created: now, Modified: now, DoneAt: now.Add(s.world.GDAPDelay), RoleIDs: roles, AssignmentID: a.ID}
			data, _ := json.Marshal(map[string]any{"accessDetails": map[string]any{"unifiedRoles": gdapRolesJSON(roles)}})
			op.Data = string(data)
			rel.GDAP.Operations = append(rel.GDAP.Operations, op)
			a.Version++
			opURL = s.URL() + "/graph" + gdapBase + "/" + rel.ID + "/operations/" + op.ID
		}
	}
	s.mu.Unlock()
	switch {
	case fail != nil:
		s.writeGraphFail(w, r, fail)
	case opURL != "":
		w.Header().Set("Location", opURL)
		w.Header().Set("Retry-After", "10")
		graphRequestIDs(w, r)
		w.WriteHeader(http.StatusAccepted)
	default:
		s.writeGraphEntity(w, r, http.StatusOK, "tenantRelationships/delegatedAdminRelationships('"+r.PathValue("id")+"')/accessAssignments", obj)
	}
}

// listCustomerLocked makes t a customer in the partner's Partner Center
// list, as the customer's approval of a GDAP invitation does: the partner
// then has a relationship with the customer, and the customer appears in
// Partner Center's Customers workspace, where CPV consent for it can be
// given (https://learn.microsoft.com/partner-center/customers/gdap-obtain-admin-permissions-to-manage-customer).
func (s *Server) listCustomerLocked(t *Tenant) {
	p := s.world.Partner
	for _, c := range p.Customers {
		if strings.EqualFold(c.TenantID, t.ID) {
			return
		}
	}
	p.Customers = append(p.Customers, &PCCustomer{ID: t.ID, TenantID: t.ID, Domain: t.DefaultDomain, CompanyName: t.DisplayName,
		Relationship: "none", Consents: map[string][]ApplicationGrant{}})
}

// AddProspect adds a tenant that is no customer of the partner yet: no
// relationship, no contract, not in Partner Center. Its admin can approve
// an invitation that names no customer (ApproveRelationship with its id),
// which makes it one.
func (s *Server) AddProspect(name string) SandboxCustomer {
	return s.addSandboxCustomer(CustomerSpec{Name: name})
}

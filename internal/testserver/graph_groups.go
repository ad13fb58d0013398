package testserver

import (
	"net/http"
	"path"
	"strings"
)

// Security groups, as far as GDAP needs them: list by name and create.
// https://learn.microsoft.com/graph/api/group-list
// https://learn.microsoft.com/graph/api/group-post-groups
var (
	permGroupsRead  = []string{"Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"}
	permGroupsWrite = []string{"Group.Create", "Group.ReadWrite.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"}
	// groupsAdminRoles may create groups besides Global Administrator:
	// Groups Administrator and User Administrator.
	groupsAdminRoles = []string{"fdd7a751-b60b-444a-984c-02652fe8fa1c", "fe930be7-5e62-47db-91af-98c3a49a38b1"}
)

func (s *Server) routeGraphGroups(api *http.ServeMux) {
	api.HandleFunc("GET /v1.0/groups", s.graphOp(permGroupsRead, s.graphListGroups))
	api.HandleFunc("GET /v1.0/groups/{id}", s.graphOp(permGroupsRead, s.graphGetGroup))
	api.HandleFunc("POST /v1.0/groups", s.graphOp(permGroupsWrite, s.graphCreateGroup))
	api.HandleFunc("POST /v1.0/groups/{id}/members/$ref", s.graphOp(permGroupsWrite, s.graphAddMember))
}

func graphGroupJSON(g *Group) map[string]any {
	return map[string]any{"id": g.ID, "displayName": g.DisplayName, "securityEnabled": true, "mailEnabled": false,
		"mailNickname": g.MailNickname, "description": g.Description}
}

func (s *Server) graphListGroups(w http.ResponseWriter, r *http.Request, c Claims) {
	items := []map[string]any{}
	s.mu.Lock()
	if t := s.graphTenantLocked(c); t != nil {
		for _, id := range graphSortedKeys(t.Groups) {
			items = append(items, graphGroupJSON(t.Groups[id]))
		}
	}
	s.mu.Unlock()
	s.writeGraphCollection(w, r, c, graphCollection{fragment: "groups", resource: "Group", paging: graphDirectoryPaging,
		filterable: []string{"id", "displayName", "mailNickname"}}, items)
}

// graphGetGroup reads one group (https://learn.microsoft.com/graph/api/group-get).
func (s *Server) graphGetGroup(w http.ResponseWriter, r *http.Request, c Claims) {
	var obj map[string]any
	s.mu.Lock()
	if t := s.graphTenantLocked(c); t != nil {
		if g := t.Groups[r.PathValue("id")]; g != nil {
			obj = graphGroupJSON(g)
		}
	}
	s.mu.Unlock()
	if obj == nil {
		s.writeGraphFail(w, r, graphFailNotFound(r.PathValue("id")))
		return
	}
	s.writeGraphEntity(w, r, http.StatusOK, "groups", obj)
}

// graphCreateGroup creates a security group: displayName, mailNickname,
// mailEnabled false and securityEnabled true are required.
func (s *Server) graphCreateGroup(w http.ResponseWriter, r *http.Request, c Claims) {
	var b struct {
		DisplayName     string `json:"displayName"`
		Description     string `json:"description"`
		MailNickname    string `json:"mailNickname"`
		MailEnabled     *bool  `json:"mailEnabled"`
		SecurityEnabled *bool  `json:"securityEnabled"`
	}
	if !s.readGraphBody(w, r, &b) {
		return
	}
	var fail *graphFail
	switch {
	case strings.TrimSpace(b.DisplayName) == "":
		fail = graphFailInvalid("displayName", "Group")
	case b.MailNickname == "" || strings.ContainsAny(b.MailNickname, " @()\\[]\";:<>,"):
		fail = graphFailInvalid("mailNickname", "Group")
	case b.MailEnabled == nil || b.SecurityEnabled == nil || *b.MailEnabled || !*b.SecurityEnabled:
		fail = graphFailBadRequest(graphCodeBadRequest, "A security group needs mailEnabled false and securityEnabled true.")
	}
	var obj map[string]any
	s.mu.Lock()
	t := s.graphTenantLocked(c)
	if fail == nil && (t == nil || !s.graphAdminMayLocked(t, c, groupsAdminRoles...)) {
		fail = graphFailDenied()
	}
	if fail == nil {
		g := &Group{ID: newID(), DisplayName: b.DisplayName, Description: b.Description, MailNickname: b.MailNickname, Members: map[string]bool{}}
		t.Groups[g.ID] = g
		s.graphReplicatingLocked(g.ID, s.clock.Now())
		obj = graphGroupJSON(g)
	}
	s.mu.Unlock()
	if fail != nil {
		s.writeGraphFail(w, r, fail)
		return
	}
	w.Header().Set("Location", s.URL()+"/graph/v1.0/groups/"+obj["id"].(string))
	s.writeGraphEntity(w, r, http.StatusCreated, "groups", obj)
}

// graphAddMember adds a directory object to a group
// (https://learn.microsoft.com/graph/api/group-post-members): 204, or 400
// with Graph's text when it is a member already.
func (s *Server) graphAddMember(w http.ResponseWriter, r *http.Request, c Claims) {
	var b struct {
		ID string `json:"@odata.id"`
	}
	if !s.readGraphBody(w, r, &b) {
		return
	}
	member := path.Base(b.ID)
	s.mu.Lock()
	t := s.graphTenantLocked(c)
	var fail *graphFail
	switch {
	case t == nil || !s.graphAdminMayLocked(t, c, groupsAdminRoles...):
		fail = graphFailDenied()
	case t.Groups[r.PathValue("id")] == nil:
		fail = graphFailNotFound(r.PathValue("id"))
	case b.ID == "" || t.Users[member] == nil:
		fail = graphFailInvalid("@odata.id", "Group")
	case t.Groups[r.PathValue("id")].Members[member]:
		fail = graphFailBadRequest(graphCodeBadRequest,
			"One or more added object references already exist for the following modified properties: 'members'.")
	default:
		t.Groups[r.PathValue("id")].Members[member] = true
	}
	s.mu.Unlock()
	if fail != nil {
		s.writeGraphFail(w, r, fail)
		return
	}
	s.writeGraphNoContent(w, r)
}

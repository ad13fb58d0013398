package testserver

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// The Exchange Online admin API, served under {URL}/exchange: the REST front
// of the Exchange cmdlets that Exchange Online PowerShell v3 calls,
// POST /adminapi/beta/{tenant}/InvokeCommand with
// {"CmdletInput":{"CmdletName","Parameters"}}.
//
// Microsoft does not document this API. The fake follows what the module
// sends (X-AnchorMailbox, Prefer: odata.maxpagesize) and what the service
// answers, as captured by tools that call it: an OData envelope
// ({"@odata.context","adminapi.warnings@odata.type","@adminapi.warnings",
// "value","@odata.nextLink"}) whose next page is fetched by POSTing the same
// body to the absolute nextLink; cmdlet failures as 400
// {"error":{"code":"BadRequest","message":"Invalid Operation","details":[{"code":"Client",
// "target":"","message":"|ExceptionType|text"}],"innererror":{…,"internalexception":{"message","type"}}}};
// token refusals as 401 with an empty body and the reason in an
// x-ms-diagnostics header (2000003 for a wrong audience, 2000004 for an
// unknown tenant, 2000008 for a token without Exchange permissions), as
// Exchange Online's other REST endpoints answer.
//
// The documented Exchange Online Admin API v2.0, which runs the same
// cmdlets on endpoints of their own, is in exchange_v2.go.
//
// X-AnchorMailbox routes the request to a mailbox server; the module sends
// APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@{tenant} for
// organization-wide cmdlets. Routing needs nothing of it in one process, so
// the fake accepts requests with or without it.
func (s *Server) routeExchange(mux *http.ServeMux) {
	mux.HandleFunc("POST /adminapi/beta/{tenant}/InvokeCommand", s.exoInvoke)
	mux.HandleFunc("POST /adminapi/v2.0/{tenant}/{endpoint}", s.exoV2)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.exoCmdletError(w, http.StatusNotFound, "NotFound", "", "The resource "+r.URL.Path+" was not found.")
	})
}

// exoRequest is the body of InvokeCommand.
type exoRequest struct {
	CmdletInput struct {
		CmdletName string         `json:"CmdletName"`
		Parameters map[string]any `json:"Parameters"`
	} `json:"CmdletInput"`
}

// exoCmdlet is one cmdlet of the fake: the parameters it binds and the rows
// it outputs for a tenant, or an error in PowerShell's words.
type exoCmdlet struct {
	params map[string]bool // lower-case parameter names
	// defaultResultSize is the cmdlet's ResultSize when none is given; 0
	// for cmdlets without the parameter.
	defaultResultSize int
	run               func(s *Server, t *Tenant, p exoParams) ([]map[string]any, *exoFailure)
}

// exoFailure is a cmdlet error: a .NET exception type and its message.
type exoFailure struct {
	Type, Message string
}

// exoParams are a request's parameters by lower-case name.
type exoParams map[string]any

func (p exoParams) str(name string) string {
	if v, ok := p[name].(string); ok {
		return v
	}
	return ""
}

var exoCmdlets = map[string]exoCmdlet{
	"get-organizationconfig": {
		params: map[string]bool{"identity": true},
		run: func(s *Server, t *Tenant, _ exoParams) ([]map[string]any, *exoFailure) {
			row := map[string]any{"Identity": t.DisplayName, "Guid": t.ID}
			for k, v := range t.ExchangeOrganization {
				row[k] = v
			}
			return []map[string]any{row}, nil
		},
	},
	"get-mailbox": {
		params:            map[string]bool{"identity": true, "resultsize": true, "recipienttypedetails": true},
		defaultResultSize: 1000,
		run:               exoGetMailbox,
	},
	"get-accepteddomain": {
		params: map[string]bool{"identity": true, "resultsize": true},
		run: func(s *Server, t *Tenant, p exoParams) ([]map[string]any, *exoFailure) {
			var rows []map[string]any
			id := p.str("identity")
			for _, d := range t.Domains {
				if id != "" && !strings.EqualFold(id, d) {
					continue
				}
				rows = append(rows, map[string]any{"Name": d, "Identity": d, "DomainName": d,
					"DomainType": "Authoritative", "Default": strings.EqualFold(d, t.DefaultDomain)})
			}
			if id != "" && len(rows) == 0 {
				return nil, exoNotFound(id, t)
			}
			return rows, nil
		},
	},
}

func exoGetMailbox(s *Server, t *Tenant, p exoParams) ([]map[string]any, *exoFailure) {
	id := p.str("identity")
	if rtd := p.str("recipienttypedetails"); rtd != "" && !strings.EqualFold(rtd, "UserMailbox") {
		// Every mailbox of the fake is a user mailbox.
		return nil, nil
	}
	var rows []map[string]any
	for _, u := range sortedUsers(t) {
		alias, _, _ := strings.Cut(u.UPN, "@")
		if id != "" && !strings.EqualFold(id, u.UPN) && !strings.EqualFold(id, alias) && !strings.EqualFold(id, u.ID) && !strings.EqualFold(id, u.DisplayName) {
			continue
		}
		rows = append(rows, map[string]any{
			"Name": alias, "Alias": alias, "Identity": alias, "DisplayName": u.DisplayName,
			"UserPrincipalName": u.UPN, "PrimarySmtpAddress": u.UPN, "WindowsEmailAddress": u.UPN,
			"RecipientTypeDetails": "UserMailbox", "ExternalDirectoryObjectId": u.ID,
		})
	}
	if id != "" && len(rows) == 0 {
		return nil, exoNotFound(id, t)
	}
	return rows, nil
}

func exoNotFound(id string, t *Tenant) *exoFailure {
	return &exoFailure{"Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException",
		fmt.Sprintf("The operation couldn't be performed because object '%s' couldn't be found on '%s'.", id, t.DefaultDomain)}
}

// sortedUsers returns t's users ordered by UPN, the stable order the fake
// pages mailboxes in.
func sortedUsers(t *Tenant) []*User {
	users := make([]*User, 0, len(t.Users))
	for _, u := range t.Users {
		users = append(users, u)
	}
	slices.SortFunc(users, func(a, b *User) int { return strings.Compare(strings.ToLower(a.UPN), strings.ToLower(b.UPN)) })
	return users
}

// exoInvoke serves POST /adminapi/beta/{tenant}/InvokeCommand.
func (s *Server) exoInvoke(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	off := s.rehearsingLocked(RehearseInvokeCommandOff)
	s.mu.Unlock()
	if off {
		s.exoCmdletError(w, http.StatusGone, "Gone", "", "The InvokeCommand (beta) endpoint of the Exchange Online admin API "+
			"has been switched off. Use the Exchange Online Admin API v2.0 (/adminapi/v2.0/{tenant}/{endpoint}).")
		return
	}
	t, ok := s.exoAuth(w, r, exoBetaPerms)
	if !ok {
		return
	}
	s.exoRun(w, r, t, "beta", "InvokeCommand", nil)
}

// exoRun runs the cmdlet of r's body in t and writes its page. api and
// endpoint are the path segments the request came to ("beta" and
// "InvokeCommand", or "v2.0" and an endpoint), which its next link
// repeats; allowed, when not nil, says whether the endpoint runs a cmdlet
// (by lower-case name).
func (s *Server) exoRun(w http.ResponseWriter, r *http.Request, t *Tenant, api, endpoint string, allowed map[string]bool) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var req exoRequest
	if err != nil || json.Unmarshal(raw, &req) != nil || req.CmdletInput.CmdletName == "" {
		s.exoCmdletError(w, http.StatusBadRequest, "BadRequest", "Microsoft.Exchange.Admin.OData.Core.ODataServiceException",
			"The request body must be {\"CmdletInput\":{\"CmdletName\":…,\"Parameters\":{…}}}.")
		return
	}
	name := req.CmdletInput.CmdletName
	cmd, known := exoCmdlets[strings.ToLower(name)]
	if allowed != nil && !allowed[strings.ToLower(name)] {
		known = false
	}
	if !known {
		s.exoCmdletError(w, http.StatusBadRequest, "BadRequest", "System.Management.Automation.CommandNotFoundException",
			"The term '"+name+"' is not recognized as the name of a cmdlet, function, script file, or operable program. "+
				"Check the spelling of the name, or if a path was included, verify that the path is correct and try again.")
		return
	}
	params := exoParams{}
	for k, v := range req.CmdletInput.Parameters {
		if !cmd.params[strings.ToLower(k)] {
			s.exoCmdletError(w, http.StatusBadRequest, "BadRequest", "System.Management.Automation.ParameterBindingException",
				"A parameter cannot be found that matches parameter name '"+k+"'.")
			return
		}
		params[strings.ToLower(k)] = v
	}
	resultSize, ok := exoResultSize(params, cmd.defaultResultSize)
	if !ok {
		s.exoCmdletError(w, http.StatusBadRequest, "BadRequest", "System.Management.Automation.ParameterBindingException",
			"Cannot bind parameter 'ResultSize'. Specify a positive number or \"Unlimited\".")
		return
	}

	// The cursor binds the page to the request it continues: the next page
	// is the same cmdlet with the same parameters.
	canon, _ := json.Marshal(req.CmdletInput)
	sum := sha256.Sum256(canon)
	bodyHash := hex.EncodeToString(sum[:8])

	page := exoPageSize
	s.mu.Lock()
	if limit := s.world.MaxPageSize; limit > 0 {
		page = min(page, limit)
	}
	rows, fail := cmd.run(s, t, params)
	s.mu.Unlock()
	if fail != nil {
		s.exoCmdletError(w, http.StatusBadRequest, "BadRequest", fail.Type, fail.Message)
		return
	}
	warnings := []string{}
	if resultSize > 0 && len(rows) > resultSize {
		rows = rows[:resultSize]
		warnings = append(warnings, "There are more results available than are currently displayed. To view them, increase the value for the ResultSize parameter.")
	}

	if n, ok := preferMaxPageSize(r.Header.Get("Prefer")); ok {
		if n < page {
			page = n
		}
		w.Header().Set("Preference-Applied", "odata.maxpagesize="+strconv.Itoa(page))
	}
	offset := 0
	if tok := r.URL.Query().Get("$skiptoken"); tok != "" {
		fields, ok := s.openCursor(tok)
		if !ok || len(fields) != 5 || fields[0] != "exo"+api || fields[1] != t.ID || fields[2] != bodyHash {
			s.exoCmdletError(w, http.StatusBadRequest, "BadRequest", "Microsoft.Exchange.Admin.OData.Core.ODataServiceException",
				"The $skiptoken is not valid for this request. Send the same CmdletInput to the @odata.nextLink that returned it.")
			return
		}
		offset, _ = strconv.Atoi(fields[3])
		page, _ = strconv.Atoi(fields[4])
	}
	end := min(offset+page, len(rows))
	value := rows[min(offset, len(rows)):end]
	base := s.ts.URL + "/exchange/adminapi/" + api + "/" + r.PathValue("tenant")
	body := map[string]any{
		"@odata.context":               base + "/$metadata#Collection(Exchange.GenericHashTable)",
		"adminapi.warnings@odata.type": "#Collection(String)",
		"@adminapi.warnings":           warnings,
		"value":                        value,
	}
	if end < len(rows) {
		body["@odata.nextLink"] = base + "/" + endpoint + "?$skiptoken=" + s.sealCursor("exo"+api, t.ID, bodyHash, strconv.Itoa(end), strconv.Itoa(page))
	}
	w.Header().Set("request-id", newID())
	writeJSON(w, http.StatusOK, body)
}

// exoPageSize is the most rows a page of the fake holds, fewer when the
// client's Prefer: odata.maxpagesize asks for fewer: a preference the
// service may honour only in part, so a client follows @odata.nextLink
// whatever it asked for (MICROSOFT-APIS.md §4).
const exoPageSize = 100

// exoResultSize reads the ResultSize parameter: a positive number or
// "Unlimited" (0 here); def when absent.
func exoResultSize(p exoParams, def int) (int, bool) {
	v, ok := p["resultsize"]
	if !ok {
		return def, true
	}
	switch v := v.(type) {
	case float64:
		if v >= 1 && v == float64(int(v)) {
			return int(v), true
		}
	case string:
		if strings.EqualFold(v, "Unlimited") {
			return 0, true
		}
		if n, err := strconv.Atoi(v); err == nil && n >= 1 {
			return n, true
		}
	}
	return 0, false
}

// preferMaxPageSize reads odata.maxpagesize from a Prefer header.
func preferMaxPageSize(h string) (int, bool) {
	for pref := range strings.SplitSeq(h, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(pref), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "odata.maxpagesize") {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
				return n, true
			}
		}
	}
	return 0, false
}

package testserver

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Partner Center, served under {URL}/partner: the customer list and the
// application consents of the Control Panel Vendor (CPV) API.
//
// Sources:
//   - https://learn.microsoft.com/partner-center/developer/get-a-list-of-customers
//     (GET /v1/customers?size=N; App and App+User credentials both accepted)
//   - https://learn.microsoft.com/partner-center/developer/control-panel-vendor-apis
//     (POST /v1/customers/{id}/applicationconsents, DELETE …/{applicationId};
//     comma-separated scopes; MS-CorrelationId and MS-RequestId headers)
//   - https://learn.microsoft.com/partner-center/developer/error-codes
//     (the error body and most codes below)
//   - https://learn.microsoft.com/partner-center/developer/partner-center-authentication
//     and Partner Center's announcements: from 1 April 2026 every App+User
//     call must carry a token with an MFA claim, else 401 with code 900421;
//     app-only calls are not affected.
func (s *Server) routePartner(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/customers", s.pcListCustomers)
	mux.HandleFunc("POST /v1/customers/{customer}/applicationconsents", s.pcCreateConsent)
	mux.HandleFunc("DELETE /v1/customers/{customer}/applicationconsents/{app}", s.pcDeleteConsent)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writePartnerError(w, r, http.StatusNotFound, pcNotFound, "Not found: no Partner Center resource at "+r.URL.Path+".")
	})
}

// Partner Center error codes the fake answers with. Codes are from the
// error-codes page unless noted.
const (
	pcNotFound               = "1000"   // 404 Not found
	pcAccessDenied           = "2032"   // 403 Access denied
	pcInvalidProperty        = "3000"   // 400 Invalid property
	pcTenantNotFound         = "60003"  // 404 Tenant not found
	pcInvalidCustomerID      = "900118" // 400 Invalid Customer ID
	pcInsufficientPrivileges = "900308" // 403 Insufficient privileges to complete the operation.
	pcAppOnlyNotSupported    = "900329" // 403 This resource does not support application-only authentication.
	// pcInvalidToken is what Partner Center answers for a token it cannot
	// accept (an audience it no longer supports, for one), as seen in
	// microsoft/Partner-Center-DotNet-Samples issue #140.
	pcInvalidToken = "900420"
	// pcMFARequired is the MFA enforcement code of App+User calls.
	pcMFARequired = "900421"
	// pcUndefined is the documented "Exception not defined" code. Partner
	// Center relays the directory's refusal of a duplicate consent
	// ("Permission entry already exists.", the text partner scripts match
	// on) without a code of its own in the public documentation.
	pcUndefined = "0"
)

// pcCustomerPageKind tags continuation tokens of the customer list.
const pcCustomerPageKind = "pc-customers"

// pcAuth authenticates a Partner Center call and reports whether it may
// proceed; when not, it has written the refusal. appOnlyOK says whether the
// operation accepts app-only tokens.
func (s *Server) pcAuth(w http.ResponseWriter, r *http.Request, appOnlyOK bool) bool {
	c, fail := s.authenticate(r, PartnerCenterResource)
	if fail != nil {
		s.writePartnerError(w, r, http.StatusUnauthorized, pcInvalidToken, "Invalid token: "+fail.Message)
		return false
	}
	s.mu.Lock()
	p := s.world.Partner
	partnerID := p.ID
	var inAgents bool
	if u := p.Users[c.String("oid")]; u != nil {
		if g := p.GroupByName(AdminAgentsGroupName); g != nil {
			inAgents = g.Members[u.ID]
		}
	}
	s.mu.Unlock()
	if !strings.EqualFold(c.String("tid"), partnerID) {
		// Partner Center identifies the partner by the token's tenant; a
		// token of any other tenant names no partner.
		s.writePartnerError(w, r, http.StatusForbidden, pcAccessDenied,
			"Access denied: the token was issued in tenant "+c.String("tid")+", which is not a partner tenant. Request the token in the partner tenant.")
		return false
	}
	if c.AppOnly() {
		if !appOnlyOK {
			s.writePartnerError(w, r, http.StatusForbidden, pcAppOnlyNotSupported, "This resource does not support application-only authentication.")
			return false
		}
		return true
	}
	if !c.Has("user_impersonation") {
		s.writePartnerError(w, r, http.StatusForbidden, pcInsufficientPrivileges, "Insufficient privileges to complete the operation.")
		return false
	}
	if !slices.Contains(c.Strings("amr"), "mfa") {
		s.writePartnerError(w, r, http.StatusUnauthorized, pcMFARequired,
			"Multifactor authentication (MFA) is required for App+User calls to Partner Center APIs, and the access token carries no MFA claim.")
		return false
	}
	if !inAgents {
		s.writePartnerError(w, r, http.StatusForbidden, pcInsufficientPrivileges,
			"Insufficient privileges to complete the operation. The user needs the Admin agent role (membership of "+AdminAgentsGroupName+") in the partner tenant.")
		return false
	}
	return true
}

// pcCustomer is a customer as Partner Center renders it.
type pcCustomer struct {
	ID             string `json:"id"`
	CompanyProfile struct {
		TenantID    string       `json:"tenantId"`
		Domain      string       `json:"domain"`
		CompanyName string       `json:"companyName"`
		Attributes  pcAttributes `json:"attributes"`
	} `json:"companyProfile"`
	RelationshipToPartner string       `json:"relationshipToPartner"`
	Links                 pcLinks      `json:"links"`
	Attributes            pcAttributes `json:"attributes"`
}

type pcAttributes struct {
	ObjectType string `json:"objectType"`
}

type pcLinks struct {
	Self *pcLink `json:"self,omitempty"`
	Next *pcLink `json:"next,omitempty"`
}

type pcLink struct {
	URI     string     `json:"uri"`
	Method  string     `json:"method"`
	Headers []pcHeader `json:"headers"`
}

type pcHeader struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// pcPageSize is the most customers a page of the fake holds, fewer when
// size asks for fewer; a client follows links.next whatever size it asked
// for (https://learn.microsoft.com/partner-center/developer/get-a-list-of-customers).
const pcPageSize = 100

// pcListCustomers serves GET /v1/customers?size=N. Pages after the first
// are asked for with seekOperation=Next and the MS-ContinuationToken header
// of the previous page's links.next, whose URI is relative to the API
// version root as in Partner Center's samples ("/customers?…"); totalCount
// counts the items of the page.
func (s *Server) pcListCustomers(w http.ResponseWriter, r *http.Request) {
	if !s.pcAuth(w, r, true) {
		return
	}
	q := r.URL.Query()
	page := pcPageSize
	s.mu.Lock()
	limit, partnerID := s.world.MaxPageSize, s.world.Partner.ID
	s.mu.Unlock()
	if limit > 0 {
		page = min(page, limit)
	}
	if v := q.Get("size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			s.writePartnerError(w, r, http.StatusBadRequest, pcInvalidProperty, "Invalid property: size must be a non-negative integer.")
			return
		}
		if n > 0 && n < page {
			page = n
		}
	}
	offset := 0
	if seek := q.Get("seekOperation"); seek != "" {
		if !strings.EqualFold(seek, "Next") {
			s.writePartnerError(w, r, http.StatusBadRequest, pcInvalidProperty, "Invalid property: unsupported seekOperation "+strconv.Quote(seek)+".")
			return
		}
		fields, ok := s.openCursor(r.Header.Get("MS-ContinuationToken"))
		if !ok || len(fields) != 4 || fields[0] != pcCustomerPageKind || fields[1] != partnerID {
			s.writePartnerError(w, r, http.StatusBadRequest, pcInvalidProperty,
				"Invalid property: the MS-ContinuationToken header is missing or is not a continuation token of this collection.")
			return
		}
		offset, _ = strconv.Atoi(fields[2])
		page, _ = strconv.Atoi(fields[3])
	}

	s.mu.Lock()
	all := s.world.Partner.Customers
	end := min(offset+page, len(all))
	items := make([]pcCustomer, 0, max(end-offset, 0))
	for _, c := range all[min(offset, len(all)):end] {
		var pc pcCustomer
		pc.ID, pc.RelationshipToPartner = c.ID, c.Relationship
		pc.CompanyProfile.TenantID, pc.CompanyProfile.Domain, pc.CompanyProfile.CompanyName = c.TenantID, c.Domain, c.CompanyName
		pc.CompanyProfile.Attributes.ObjectType = "CustomerCompanyProfile"
		pc.Links.Self = &pcLink{URI: "/customers/" + c.ID, Method: http.MethodGet, Headers: []pcHeader{}}
		pc.Attributes.ObjectType = "Customer"
		items = append(items, pc)
	}
	more := end < len(all)
	s.mu.Unlock()

	links := pcLinks{Self: &pcLink{URI: "/customers?size=" + strconv.Itoa(page), Method: http.MethodGet, Headers: []pcHeader{}}}
	if more {
		links.Next = &pcLink{
			URI:    "/customers?size=" + strconv.Itoa(page) + "&seekOperation=Next",
			Method: http.MethodGet,
			Headers: []pcHeader{{Key: "MS-ContinuationToken",
				Value: s.sealCursor(pcCustomerPageKind, partnerID, strconv.Itoa(end), strconv.Itoa(page))}},
		}
	}
	echoPartnerHeaders(w, r)
	writeJSON(w, http.StatusOK, map[string]any{
		"totalCount": len(items),
		"items":      items,
		"links":      links,
		"attributes": pcAttributes{ObjectType: "Collection"},
	})
}

// pcCustomerLocked finds the partner's customer addressed by id and its live
// tenant; s.mu must be held.
func (s *Server) pcCustomerLocked(id string) (*PCCustomer, *Tenant) {
	for _, c := range s.world.Partner.Customers {
		if strings.EqualFold(c.ID, id) {
			if t := s.world.Tenants[strings.ToLower(c.TenantID)]; t != nil && !t.Deleted {
				return c, t
			}
		}
	}
	return nil, nil
}

// pcCustomerID checks the {customer} path segment: Partner Center customer
// ids are GUIDs.
func (s *Server) pcCustomerID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("customer")
	if !isGUIDValue(id) {
		s.writePartnerError(w, r, http.StatusBadRequest, pcInvalidCustomerID, "Invalid Customer ID: "+strconv.Quote(id)+" is not a customer id.")
		return "", false
	}
	return id, true
}

// isGUIDValue reports whether s has the 8-4-4-4-12 hexadecimal form of a
// GUID.
func isGUIDValue(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

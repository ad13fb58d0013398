package sam

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/internal/httpx"
)

// GDAP role templates: named sets of Microsoft Entra roles that a GDAP
// relationship asks a customer for.

// EntraRole is a Microsoft Entra built-in role, by its role template id
// (what a GDAP relationship's unifiedRoles name) and its name.
type EntraRole struct {
	ID   string `json:"roleDefinitionId"`
	Name string `json:"name,omitempty"`
	// Why says what the role is for in the template.
	Why string `json:"why,omitempty"`
	// Group is the display name of the partner security group that
	// receives the role (Assign finds or creates it); GroupName's
	// "GDAP - <role name>" when empty. Roles may share a group.
	Group string `json:"group,omitempty"`
}

// Role template ids from "Microsoft Entra built-in roles"
// (https://learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference),
// checked there one by one.
var entraRoles = map[string]string{
	"9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
	"c4e39bd9-1100-46d3-8c65-fb160da0071f": "Authentication Administrator",
	"0526716b-113d-4c15-b2c8-68e3c22b9f80": "Authentication Policy Administrator",
	"b0f54661-2d74-4c50-afa3-1ec803f12efe": "Billing Administrator",
	"892c5842-a9a6-463a-8041-72aa08ca3cf6": "Cloud App Security Administrator",
	"158c047a-c907-4556-b7ef-446551a6b5f7": "Cloud Application Administrator",
	"7698a772-787b-4ac8-901f-60d6b08affd2": "Cloud Device Administrator",
	"17315797-102d-40b4-93e0-432062caca18": "Compliance Administrator",
	"b1be1c3e-b65d-4f19-8427-f6fa0d97feb9": "Conditional Access Administrator",
	"88d8e3e3-8f55-4a1e-953a-9b9898b8876b": "Directory Readers",
	"29232cdf-9323-42fd-ade2-1d097af3e4de": "Exchange Administrator",
	"31392ffb-586c-42d1-9346-e59415a2cc4e": "Exchange Recipient Administrator",
	"62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
	"f2ef992c-3afb-46b9-b7cf-a126ee74c451": "Global Reader",
	"fdd7a751-b60b-444a-984c-02652fe8fa1c": "Groups Administrator",
	"729827e3-9c14-49f7-bb1b-9608f156bbb8": "Helpdesk Administrator",
	"3a2c62db-5318-420d-8d74-23affee5d9d5": "Intune Administrator",
	"4d6ac14f-3453-41d0-bef9-a3e0c569773a": "License Administrator",
	"966707d0-3269-4727-9be2-8c3a10f19b9d": "Password Administrator",
	"7be44c8a-adaf-4e2a-84d6-ab2649e08a13": "Privileged Authentication Administrator",
	"e8611ab8-c189-46e8-94e1-60213ab1f814": "Privileged Role Administrator",
	"4a5d8f65-41da-4de4-8968-e035b65339cf": "Reports Reader",
	"194ae4cb-b126-40b2-bd5b-6091b380977d": "Security Administrator",
	"5d6b6bb7-de71-4623-b4af-96380a352509": "Security Reader",
	"f023fd81-a637-4b56-95fd-791ac0226033": "Service Support Administrator",
	"f28a1f50-f6e7-4571-818b-6a12f2af6b6c": "SharePoint Administrator",
	"69091246-20e8-4a56-aa4d-066075b2a7a8": "Teams Administrator",
	"fe930be7-5e62-47db-91af-98c3a49a38b1": "User Administrator",
}

// EntraRoleName returns the name of the built-in role with template id id,
// or "" when samkit does not know it.
func EntraRoleName(id string) string { return entraRoles[strings.ToLower(id)] }

// RoleTemplate is a named set of Entra roles to ask customers for.
type RoleTemplate struct {
	Name        string      `json:"name"`
	Description string      `json:"description,omitempty"`
	Roles       []EntraRole `json:"roles"`
}

// RoleIDs returns the template's role template ids.
func (t RoleTemplate) RoleIDs() []string {
	ids := make([]string, len(t.Roles))
	for i, r := range t.Roles {
		ids[i] = r.ID
	}
	return ids
}

// Groups returns the groups the template names, by role id; AssignOptions
// takes them.
func (t RoleTemplate) Groups() map[string]string {
	out := map[string]string{}
	for _, r := range t.Roles {
		if r.Group != "" {
			out[strings.ToLower(r.ID)] = r.Group
		}
	}
	return out
}

// HasGlobalAdmin reports whether the template asks for Global
// Administrator, which rules out auto-extension.
func (t RoleTemplate) HasGlobalAdmin() bool {
	return slices.ContainsFunc(t.Roles, func(r EntraRole) bool { return r.ID == graph.GlobalAdminRoleTemplateID })
}

// DefaultRoleTemplateName names DefaultRoleTemplate.
const DefaultRoleTemplateName = "samkit-least-privilege"

// DefaultRoleTemplate is the least-privileged set of roles under which
// everything samkit does in a customer tenant works. ListTenants needs no
// role in the customer: it reads the partner's own lists (GDAP
// relationships, contracts, Partner Center).
func DefaultRoleTemplate() RoleTemplate {
	return RoleTemplate{
		Name:        DefaultRoleTemplateName,
		Description: "What samkit's CheckAccess, PushConsent and Exchange calls need in a customer tenant, and no more.",
		Roles: []EntraRole{
			{ID: "88d8e3e3-8f55-4a1e-953a-9b9898b8876b", Name: "Directory Readers",
				Why: "CheckAccess reads the organization and lists users in the customer's directory: the narrowest role that reads basic directory information."},
			{ID: "158c047a-c907-4556-b7ef-446551a6b5f7", Name: "Cloud Application Administrator",
				Why: "PushConsent reads and completes the SAM app's service principal and delegated permission grants; this role manages enterprise apps and consents to delegated permissions, without App Proxy."},
			{ID: "e8611ab8-c189-46e8-94e1-60213ab1f814", Name: "Privileged Role Administrator",
				Why: "PushConsent assigns Microsoft Graph application permissions (app roles) to the SAM app; application administrators cannot consent to Microsoft Graph app roles, this role can."},
			{ID: "29232cdf-9323-42fd-ade2-1d097af3e4de", Name: "Exchange Administrator",
				Why: "The Exchange calls (CheckAccess's Get-OrganizationConfig, the Exchange admin API) need an Exchange management role in the customer."},
		},
	}
}

// builtinTemplates are the templates samkit ships: the default and common
// MSP ones.
func builtinTemplates() []RoleTemplate {
	role := func(id string) EntraRole { return EntraRole{ID: id, Name: entraRoles[id]} }
	return []RoleTemplate{
		DefaultRoleTemplate(),
		{Name: "helpdesk", Description: "First-line support: passwords, users, licences, service requests; reads everything.",
			Roles: []EntraRole{role("729827e3-9c14-49f7-bb1b-9608f156bbb8"), role("fe930be7-5e62-47db-91af-98c3a49a38b1"),
				role("4d6ac14f-3453-41d0-bef9-a3e0c569773a"), role("f023fd81-a637-4b56-95fd-791ac0226033"), role("f2ef992c-3afb-46b9-b7cf-a126ee74c451")}},
		{Name: "msp-standard", Description: "A managed service provider's usual operations staff, without Global Administrator.",
			Roles: []EntraRole{role("9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"), role("0526716b-113d-4c15-b2c8-68e3c22b9f80"),
				role("b0f54661-2d74-4c50-afa3-1ec803f12efe"), role("7698a772-787b-4ac8-901f-60d6b08affd2"), role("b1be1c3e-b65d-4f19-8427-f6fa0d97feb9"),
				role("29232cdf-9323-42fd-ade2-1d097af3e4de"), role("f2ef992c-3afb-46b9-b7cf-a126ee74c451"), role("3a2c62db-5318-420d-8d74-23affee5d9d5"),
				role("7be44c8a-adaf-4e2a-84d6-ab2649e08a13"), role("e8611ab8-c189-46e8-94e1-60213ab1f814"), role("194ae4cb-b126-40b2-bd5b-6091b380977d"),
				role("f28a1f50-f6e7-4571-818b-6a12f2af6b6c"), role("69091246-20e8-4a56-aa4d-066075b2a7a8"), role("fe930be7-5e62-47db-91af-98c3a49a38b1")}},
		{Name: "read-only", Description: "Audits and reports only.",
			Roles: []EntraRole{role("f2ef992c-3afb-46b9-b7cf-a126ee74c451"), role("4a5d8f65-41da-4de4-8968-e035b65339cf"), role("5d6b6bb7-de71-4623-b4af-96380a352509")}},
	}
}

// RoleTemplates returns samkit's built-in templates, the default first.
func RoleTemplates() []RoleTemplate { return builtinTemplates() }

// RoleTemplateByName finds a built-in template, or one of extra.
func RoleTemplateByName(name string, extra ...RoleTemplate) (RoleTemplate, error) {
	all := append(slices.Clone(extra), builtinTemplates()...)
	for _, t := range all {
		if strings.EqualFold(t.Name, name) {
			return t, nil
		}
	}
	names := make([]string, len(all))
	for i, t := range all {
		names[i] = t.Name
	}
	return RoleTemplate{}, fmt.Errorf("no GDAP role template %q: choose one of %s", name, strings.Join(names, ", "))
}

// LoadRoleTemplates reads templates from JSON: an array of
// {"name","description","roles":[{"roleDefinitionId","name","group"}]}, or one
// such object. A role may be given by id or by its built-in name; each is
// checked against Microsoft's built-in roles, and names are filled in.
func LoadRoleTemplates(r io.Reader) ([]RoleTemplate, error) {
	raw, err := io.ReadAll(io.LimitReader(r, maxManifestSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading GDAP role templates: %w", err)
	}
	if len(raw) > maxManifestSize {
		return nil, fmt.Errorf("GDAP role templates: larger than %d bytes; is this the right file?", maxManifestSize)
	}
	raw = bytes.TrimSpace(raw)
	var ts []RoleTemplate
	if len(raw) > 0 && raw[0] == '{' {
		var one RoleTemplate
		err = json.Unmarshal(raw, &one)
		ts = []RoleTemplate{one}
	} else {
		err = json.Unmarshal(raw, &ts)
	}
	if err != nil {
		return nil, fmt.Errorf("GDAP role templates: not JSON of the expected shape (%v)", err)
	}
	seen := map[string]bool{}
	for i := range ts {
		if err := ts[i].validate(); err != nil {
			return nil, fmt.Errorf("GDAP role template %d: %w", i+1, err)
		}
		key := strings.ToLower(ts[i].Name)
		if seen[key] {
			return nil, fmt.Errorf("GDAP role template %q appears twice", ts[i].Name)
		}
		seen[key] = true
	}
	return ts, nil
}

// validate checks t and fills in role ids given by name and names given
// by id.
func (t *RoleTemplate) validate() error {
	if strings.TrimSpace(t.Name) == "" {
		return fmt.Errorf("a template needs a name")
	}
	if len(t.Roles) == 0 {
		return fmt.Errorf("template %q names no role", t.Name)
	}
	var ids []string
	for j := range t.Roles {
		r := &t.Roles[j]
		r.ID = strings.ToLower(strings.TrimSpace(r.ID))
		switch {
		case r.ID == "" && r.Name != "":
			for id, name := range entraRoles {
				if strings.EqualFold(name, r.Name) {
					r.ID = id
				}
			}
			if r.ID == "" {
				return fmt.Errorf("template %q: role %q is not a Microsoft Entra built-in role samkit knows; give its roleDefinitionId", t.Name, r.Name)
			}
		case !httpx.IsGUID(r.ID):
			return fmt.Errorf("template %q: roleDefinitionId %q is not a GUID", t.Name, r.ID)
		case entraRoles[r.ID] == "":
			return fmt.Errorf("template %q: %s is not a Microsoft Entra built-in role id samkit knows (see https://learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference)", t.Name, r.ID)
		}
		if r.Name != "" && !strings.EqualFold(r.Name, entraRoles[r.ID]) {
			return fmt.Errorf("template %q: %s is %s, not %q", t.Name, r.ID, entraRoles[r.ID], r.Name)
		}
		r.Name = entraRoles[r.ID]
		if r.Group = strings.TrimSpace(r.Group); len(r.Group) > 256 {
			return fmt.Errorf("template %q: the group of %s is longer than 256 characters, Entra's limit for a group's name", t.Name, r.Name)
		}
		if slices.Contains(ids, r.ID) {
			return fmt.Errorf("template %q: %s (%s) appears twice", t.Name, r.Name, r.ID)
		}
		ids = append(ids, r.ID)
	}
	return nil
}

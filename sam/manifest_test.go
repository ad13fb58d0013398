package sam

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/samkit/samkit/internal/httpx"
)

func TestDefaultManifest(t *testing.T) {
	t.Parallel()
	m := DefaultManifest()
	if err := m.Validate(); err != nil {
		t.Fatalf("Validate() = %v, want nil", err)
	}
	tests := []struct {
		resource     string
		grantScope   string
		consentScope string
		appRoleIDs   []string
	}{
		{
			resource: GraphAppID,
			grantScope: "User.Read Directory.Read.All User.Read.All DelegatedAdminRelationship.Read.All " +
				"AppRoleAssignment.ReadWrite.All DelegatedPermissionGrant.ReadWrite.All offline_access openid profile",
			consentScope: "User.Read,Directory.Read.All,User.Read.All,DelegatedAdminRelationship.Read.All," +
				"AppRoleAssignment.ReadWrite.All,DelegatedPermissionGrant.ReadWrite.All,offline_access,openid,profile",
			appRoleIDs: []string{"7ab1d382-f21e-4acd-a863-ba3e13f7da61"},
		},
		{
			resource:     ExchangeAppID,
			grantScope:   "Exchange.Manage",
			consentScope: "Exchange.Manage",
			appRoleIDs:   []string{"dc50a0fb-09a3-484d-be87-e023b12c6440"},
		},
		{
			resource:     PartnerCenterAppID,
			grantScope:   "user_impersonation",
			consentScope: "user_impersonation",
			appRoleIDs:   []string{},
		},
	}
	if got, want := len(m.Resources), len(tests); got != want {
		t.Fatalf("len(Resources) = %d, want %d", got, want)
	}
	for i, tt := range tests {
		r := m.Resources[i]
		if r.ResourceAppID != tt.resource {
			t.Errorf("Resources[%d].ResourceAppID = %s, want %s", i, r.ResourceAppID, tt.resource)
		}
		if got := r.GrantScope(); got != tt.grantScope {
			t.Errorf("%s GrantScope() = %q, want %q", r.Name, got, tt.grantScope)
		}
		if got := r.PartnerConsentScope(); got != tt.consentScope {
			t.Errorf("%s PartnerConsentScope() = %q, want %q", r.Name, got, tt.consentScope)
		}
		if got := r.AppRoleIDs(); !reflect.DeepEqual(got, tt.appRoleIDs) {
			t.Errorf("%s AppRoleIDs() = %v, want %v", r.Name, got, tt.appRoleIDs)
		}
	}
}

// The GUIDs of the default manifest, written out once more so that a slip
// in the catalog cannot pass unnoticed by changing both sides at once.
func TestDefaultManifestIDs(t *testing.T) {
	t.Parallel()
	want := []RequiredResourceAccess{
		{ResourceAppID: "00000003-0000-0000-c000-000000000000", ResourceAccess: []AccessEntry{
			{ID: "e1fe6dd8-ba31-4d61-89e7-88639da4683d", Type: "Scope"}, // User.Read
			{ID: "06da0dbc-49e2-44d2-8312-53f166ab848a", Type: "Scope"}, // Directory.Read.All
			{ID: "a154be20-db9c-4678-8ab7-66f6cc099a59", Type: "Scope"}, // User.Read.All
			{ID: "0c0064ea-477b-4130-82a5-4c2cc4ff68aa", Type: "Scope"}, // DelegatedAdminRelationship.Read.All
			{ID: "84bccea3-f856-4a8a-967b-dbe0a3d53a64", Type: "Scope"}, // AppRoleAssignment.ReadWrite.All
			{ID: "41ce6ca6-6826-4807-84f1-1c82854f7ee5", Type: "Scope"}, // DelegatedPermissionGrant.ReadWrite.All
			{ID: "7427e0e9-2fba-42fe-b0c0-848c9e6a8182", Type: "Scope"}, // offline_access
			{ID: "37f7f235-527c-4136-accd-4a02d197296e", Type: "Scope"}, // openid
			{ID: "14dad69e-099b-42c9-810b-d002981feec1", Type: "Scope"}, // profile
			{ID: "7ab1d382-f21e-4acd-a863-ba3e13f7da61", Type: "Role"},  // Directory.Read.All
		}},
		{ResourceAppID: "00000002-0000-0ff1-ce00-000000000000", ResourceAccess: []AccessEntry{
			{ID: "ab4f2b77-0b06-4fc1-a9de-02113fc2ab7c", Type: "Scope"}, // Exchange.Manage
			{ID: "dc50a0fb-09a3-484d-be87-e023b12c6440", Type: "Role"},  // Exchange.ManageAsApp
		}},
		{ResourceAppID: "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd", ResourceAccess: []AccessEntry{
			{ID: "1cebfa2a-fb4d-419e-b5f9-839b4383e05a", Type: "Scope"}, // user_impersonation
		}},
	}
	if got := DefaultManifest().RequiredResourceAccess(); !reflect.DeepEqual(got, want) {
		t.Errorf("RequiredResourceAccess() =\n%+v\nwant\n%+v", got, want)
	}
}

func TestDefaultManifestIsACopy(t *testing.T) {
	t.Parallel()
	m := DefaultManifest()
	m.Resources[0].Delegated[0].Name = "changed"
	m.Resources = m.Resources[:1]
	if got := DefaultManifest(); got.Resources[0].Delegated[0].Name != "User.Read" || len(got.Resources) != 3 {
		t.Errorf("DefaultManifest() changed after a caller modified an earlier result")
	}
}

func TestDefaultManifestRoundTrip(t *testing.T) {
	t.Parallel()
	graphShape, err := json.Marshal(DefaultManifest().RequiredResourceAccess())
	if err != nil {
		t.Fatal(err)
	}
	extended, err := json.Marshal(DefaultManifest())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		input string
	}{
		{"bare Graph shape", string(graphShape)},
		{"inside an application manifest", `{"id":"x","displayName":"SAM","requiredResourceAccess":` + string(graphShape) + `,"web":{"redirectUris":[]}}`},
		{"with names", string(extended)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := LoadManifest(strings.NewReader(tt.input))
			if err != nil {
				t.Fatalf("LoadManifest() error = %v", err)
			}
			if want := DefaultManifest(); !reflect.DeepEqual(got, want) {
				t.Errorf("LoadManifest() =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

func TestLoadManifest(t *testing.T) {
	t.Parallel()
	const customAPI = "11111111-2222-3333-4444-555555555555"
	tests := []struct {
		name  string
		input string
		want  Manifest
	}{
		{
			name:  "ids only",
			input: `[{"resourceAppId":"00000003-0000-0000-C000-000000000000","resourceAccess":[{"id":"DF021288-BDEF-4463-88DB-98F22DE89214","type":"Role"}]}]`,
			want: Manifest{Resources: []ResourceAccess{{ResourceAppID: GraphAppID, Name: "Microsoft Graph",
				Application: []Permission{{ID: "df021288-bdef-4463-88db-98f22de89214", Name: "User.Read.All"}}}}},
		},
		{
			name: "names only, resource by name, any case",
			input: `[{"resourceName":"graph","resourceAccess":[{"name":"auditlog.read.all","type":"Scope"},{"value":"Reports.Read.All","type":"Application"}]},
			         {"resourceName":"Exchange","resourceAccess":[{"name":"Exchange.ManageAsApp","type":"role"}]}]`,
			want: Manifest{Resources: []ResourceAccess{
				{ResourceAppID: GraphAppID, Name: "Microsoft Graph",
					Delegated:   []Permission{{ID: "e4c9e354-4dc5-45b8-9e7c-e1393b0b1a20", Name: "AuditLog.Read.All"}},
					Application: []Permission{{ID: "230c1aed-a721-4c5d-9cb4-a90514e508ef", Name: "Reports.Read.All"}}},
				{ResourceAppID: ExchangeAppID, Name: "Office 365 Exchange Online",
					Application: []Permission{{ID: exchangeManageAsAppID, Name: "Exchange.ManageAsApp"}}},
			}},
		},
		{
			name: "permissions outside the catalog are kept",
			input: `{"requiredResourceAccess":[
				{"resourceAppId":"00000003-0000-0000-c000-000000000000","resourceAccess":[
					{"id":"9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30","type":"Role"},
					{"id":"c79f8feb-a9db-4090-85f9-90d820caa0eb","name":"Application.Read.All","type":"Scope"}]},
				{"resourceAppId":"` + customAPI + `","resourceName":"Line of business API","resourceAccess":[{"id":"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee","type":"Role"}]}]}`,
			want: Manifest{Resources: []ResourceAccess{
				{ResourceAppID: GraphAppID, Name: "Microsoft Graph",
					Delegated:   []Permission{{ID: "c79f8feb-a9db-4090-85f9-90d820caa0eb", Name: "Application.Read.All"}},
					Application: []Permission{{ID: "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30"}}},
				{ResourceAppID: customAPI, Name: "Line of business API",
					Application: []Permission{{ID: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"}}},
			}},
		},
		{
			name:  "byte order mark and an empty resource",
			input: "\xef\xbb\xbf[{\"resourceAppId\":\"" + ExchangeAppID + "\",\"resourceAccess\":[]}]",
			want:  Manifest{},
		},
		{
			name:  "empty application manifest",
			input: `{"requiredResourceAccess":[]}`,
			want:  Manifest{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := LoadManifest(strings.NewReader(tt.input))
			if err != nil {
				t.Fatalf("LoadManifest() error = %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("LoadManifest() =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestLoadManifestErrors(t *testing.T) {
	t.Parallel()
	const g = `"resourceAppId":"00000003-0000-0000-c000-000000000000"`
	tests := []struct {
		name  string
		input string
		want  []string // substrings of the error
	}{
		{"empty", "  ", []string{"empty input"}},
		{"syntax error with its line", "[\n{" + g + ",\n\"resourceAccess\": [}]", []string{"line 3", "invalid JSON"}},
		{"truncated", "[{" + g, []string{"ends in the middle"}},
		{"trailing data", `[] []`, []string{"unexpected data after", "column 4"}},
		{"not an array", `"hello"`, []string{"not a string"}},
		{"object without the member", `{"displayName":"x"}`, []string{`no "requiredResourceAccess" member`}},
		{"member not an array", `{"requiredResourceAccess":{}}`, []string{"requiredResourceAccess", "must be an array"}},
		{"entry not an object", `[1]`, []string{"[0]", "must be an object", "not a number"}},
		{"unknown resource member", `[{` + g + `,"resourceAcess":[]}]`, []string{"[0]", `unknown member "resourceAcess"`}},
		{"resource app id missing", `[{"resourceAccess":[]}]`, []string{"[0]", "resourceAppId is missing"}},
		{"malformed resource app id", `[{"resourceAppId":"graph","resourceAccess":[]}]`, []string{"[0]", `resourceAppId "graph" is not a GUID`}},
		{"unknown resource name", `[{"resourceName":"SharePoint","resourceAccess":[]}]`, []string{"[0]", `unknown resource "SharePoint"`, "give its resourceAppId"}},
		{"resource name contradicts id", `[{"resourceAppId":"` + ExchangeAppID + `","resourceName":"graph","resourceAccess":[]}]`, []string{"[0]", "Microsoft Graph", "not " + ExchangeAppID}},
		{"resource access missing", `[{` + g + `}]`, []string{"[0]", "resourceAccess is missing"}},
		{"resource access null", `[{` + g + `,"resourceAccess":null}]`, []string{"resourceAccess is missing"}},
		{"resource listed twice", `[{` + g + `,"resourceAccess":[]},{"resourceName":"graph","resourceAccess":[]}]`, []string{"[1]", "also listed at [0]"}},
		{"malformed permission id", `[{` + g + `,"resourceAccess":[{"id":"df021288-bdef-4463-88db","type":"Role"}]}]`, []string{"[0].resourceAccess[0]", "is not a GUID"}},
		{"non-string id", `[{` + g + `,"resourceAccess":[{"id":42,"type":"Role"}]}]`, []string{"[0].resourceAccess[0].id", "must be a string"}},
		{"unknown type", `[{` + g + `,"resourceAccess":[{"id":"df021288-bdef-4463-88db-98f22de89214","type":"Admin"}]}]`, []string{"[0].resourceAccess[0]", `unknown type "Admin"`, "Scope", "Role"}},
		{"type missing", `[{` + g + `,"resourceAccess":[{"name":"User.Read"}]}]`, []string{"type is missing"}},
		{"unknown permission member", `[{` + g + `,"resourceAccess":[{"name":"User.Read","typ":"Scope"}]}]`, []string{`unknown member "typ"`}},
		{"unknown name without id", `[{` + g + `,"resourceAccess":[{"name":"Mail.Send","type":"Role"}]}]`, []string{`unknown application permission "Mail.Send"`, `add its "id"`, "appRoles"}},
		{"name of the other kind", `[{` + g + `,"resourceAccess":[{"name":"User.Read","type":"Role"}]}]`, []string{"User.Read is a delegated permission", "check the type"}},
		{"unknown delegated id without name", `[{` + g + `,"resourceAccess":[{"id":"c79f8feb-a9db-4090-85f9-90d820caa0eb","type":"Scope"}]}]`, []string{"not in samkit's catalog", `add its "name"`}},
		{"neither id nor name", `[{` + g + `,"resourceAccess":[{"type":"Scope"}]}]`, []string{"needs an id"}},
		{"wrong id for a known name", `[{` + g + `,"resourceAccess":[{"id":"a154be20-db9c-4678-8ab7-66f6cc099a59","name":"User.Read","type":"Scope"}]}]`, []string{"User.Read", "e1fe6dd8-ba31-4d61-89e7-88639da4683d"}},
		{"known id under another name", `[{` + g + `,"resourceAccess":[{"id":"a154be20-db9c-4678-8ab7-66f6cc099a59","name":"Users.Everything","type":"Scope"}]}]`, []string{"belongs to User.Read.All"}},
		{"name and value disagree", `[{` + g + `,"resourceAccess":[{"name":"User.Read","value":"User.Read.All","type":"Scope"}]}]`, []string{"disagree"}},
		{"delegated name with a space", `[{"resourceAppId":"11111111-2222-3333-4444-555555555555","resourceAccess":[{"id":"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee","name":"a b","type":"Scope"}]}]`, []string{"spaces or commas"}},
		{"duplicate permission", `[{` + g + `,"resourceAccess":[{"name":"User.Read","type":"Scope"},{"id":"e1fe6dd8-ba31-4d61-89e7-88639da4683d","type":"Scope"}]}]`, []string{"[0].resourceAccess[1]", "also listed at [0].resourceAccess[0]"}},
		{"too large", "[" + strings.Repeat(" ", maxManifestSize) + "]", []string{"larger than"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := LoadManifest(strings.NewReader(tt.input))
			if err == nil {
				t.Fatalf("LoadManifest() error = nil, want one containing %q", tt.want)
			}
			var me *ManifestError
			if !errors.As(err, &me) {
				t.Errorf("LoadManifest() error is %T, want *ManifestError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("LoadManifest() error = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestManifestErrorPosition(t *testing.T) {
	t.Parallel()
	input := "{\n  \"requiredResourceAccess\": [\n    {\"resourceAppId\": \"" + GraphAppID + "\",\n     \"resourceAccess\": [\n       {\"name\": \"Nope.Read\", \"type\": \"Scope\"}]}]}"
	_, err := LoadManifest(strings.NewReader(input))
	var me *ManifestError
	if !errors.As(err, &me) {
		t.Fatalf("LoadManifest() error = %v, want a *ManifestError", err)
	}
	if me.Path != "requiredResourceAccess[0].resourceAccess[0]" || me.Line != 5 || me.Column != 8 {
		t.Errorf("error at %s line %d column %d, want requiredResourceAccess[0].resourceAccess[0] line 5 column 8", me.Path, me.Line, me.Column)
	}
}

func TestMerge(t *testing.T) {
	t.Parallel()
	extra, err := LoadManifest(strings.NewReader(`[
		{"resourceName":"graph","resourceAccess":[{"name":"User.Read","type":"Scope"},{"name":"AuditLog.Read.All","type":"Scope"},{"name":"User.Read.All","type":"Role"}]},
		{"resourceAppId":"11111111-2222-3333-4444-555555555555","resourceAccess":[{"id":"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee","type":"Role"}]}]`))
	if err != nil {
		t.Fatal(err)
	}
	base := DefaultManifest()
	got := base.Merge(extra)
	if err := got.Validate(); err != nil {
		t.Fatalf("merged manifest: Validate() = %v", err)
	}
	graph, _ := got.Resource(GraphAppID)
	// The default's scopes, in order, then what the file adds; User.Read,
	// in both, once.
	if want := DefaultManifest().Resources[0].GrantScope() + " AuditLog.Read.All"; graph.GrantScope() != want {
		t.Errorf("merged Graph GrantScope() = %q, want %q", graph.GrantScope(), want)
	}
	if want := []string{"7ab1d382-f21e-4acd-a863-ba3e13f7da61", "df021288-bdef-4463-88db-98f22de89214"}; !reflect.DeepEqual(graph.AppRoleIDs(), want) {
		t.Errorf("merged Graph AppRoleIDs() = %v, want %v", graph.AppRoleIDs(), want)
	}
	if len(got.Resources) != 4 || got.Resources[3].ResourceAppID != "11111111-2222-3333-4444-555555555555" {
		t.Errorf("merged resources = %+v, want the default three then the custom API", got.Resources)
	}
	if !reflect.DeepEqual(base, DefaultManifest()) {
		t.Errorf("Merge modified its receiver")
	}
	if again := got.Merge(extra).Merge(DefaultManifest()); !reflect.DeepEqual(again, got) {
		t.Errorf("merging what is already there changed the manifest")
	}
	if empty := (Manifest{}).Merge(DefaultManifest()); !reflect.DeepEqual(empty, DefaultManifest()) {
		t.Errorf("Manifest{}.Merge(default) = %+v, want the default", empty)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	perm := func(id, name string) []Permission { return []Permission{{ID: id, Name: name}} }
	tests := []struct {
		name string
		m    Manifest
		want string
	}{
		{"bad resource id", Manifest{Resources: []ResourceAccess{{ResourceAppID: "graph"}}}, "not a GUID"},
		{"resource twice", Manifest{Resources: []ResourceAccess{{ResourceAppID: GraphAppID}, {ResourceAppID: strings.ToUpper(GraphAppID)}}}, "listed twice"},
		{"bad permission id", Manifest{Resources: []ResourceAccess{{ResourceAppID: GraphAppID, Application: perm("x", "")}}}, `id "x" is not a GUID`},
		{"delegated without name", Manifest{Resources: []ResourceAccess{{ResourceAppID: GraphAppID, Delegated: perm("c79f8feb-a9db-4090-85f9-90d820caa0eb", "")}}}, "has no name"},
		{"delegated name with comma", Manifest{Resources: []ResourceAccess{{ResourceAppID: GraphAppID, Delegated: perm("c79f8feb-a9db-4090-85f9-90d820caa0eb", "a,b")}}}, "spaces or commas"},
		{"wrong id for name", Manifest{Resources: []ResourceAccess{{ResourceAppID: GraphAppID, Application: perm("06da0dbc-49e2-44d2-8312-53f166ab848a", "Directory.Read.All")}}}, "Microsoft's id for it is 7ab1d382"},
		{"duplicate", Manifest{Resources: []ResourceAccess{{ResourceAppID: GraphAppID, Application: append(perm("7ab1d382-f21e-4acd-a863-ba3e13f7da61", "Directory.Read.All"), perm("7AB1D382-F21E-4ACD-A863-BA3E13F7DA61", "")...)}}}, "listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.m.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if err := (Manifest{}).Validate(); err != nil {
		t.Errorf("Manifest{}.Validate() = %v, want nil", err)
	}
}

func TestCatalog(t *testing.T) {
	t.Parallel()
	for _, r := range catalog {
		if !httpx.IsGUID(r.appID) || r.appID != strings.ToLower(r.appID) {
			t.Errorf("%s: app id %q is not a lower-case GUID", r.name, r.appID)
		}
		if knownResourceByName(r.name) != knownResourceByID(r.appID) {
			t.Errorf("%s: its own name is not one of its aliases", r.name)
		}
		for _, kind := range []PermissionKind{DelegatedPermission, ApplicationPermission} {
			ids := map[string]string{}
			for name, id := range r.table(kind) {
				if !httpx.IsGUID(id) || id != strings.ToLower(id) {
					t.Errorf("%s %s %s: id %q is not a lower-case GUID", r.name, kind, name, id)
				}
				if other, dup := ids[id]; dup {
					t.Errorf("%s %s: %s and %s share id %s", r.name, kind, name, other, id)
				}
				ids[id] = name
				if got, ok := LookupPermission(r.appID, kind, strings.ToUpper(name)); !ok || got != id {
					t.Errorf("LookupPermission(%s, %s, %q) = %q, %v; want %q, true", r.name, kind, strings.ToUpper(name), got, ok, id)
				}
				if got, ok := PermissionName(r.appID, kind, strings.ToUpper(id)); !ok || got != name {
					t.Errorf("PermissionName(%s, %s, %s) = %q, %v; want %q, true", r.name, kind, id, got, ok, name)
				}
			}
		}
	}
	if _, ok := LookupPermission("11111111-2222-3333-4444-555555555555", DelegatedPermission, "User.Read"); ok {
		t.Errorf("LookupPermission found a permission of an unknown resource")
	}
	if _, ok := PermissionName(GraphAppID, ApplicationPermission, "e1fe6dd8-ba31-4d61-89e7-88639da4683d"); ok {
		t.Errorf("PermissionName found a delegated id among application permissions")
	}
}

func TestPermissionKindString(t *testing.T) {
	t.Parallel()
	for k, want := range map[PermissionKind]string{DelegatedPermission: "delegated", ApplicationPermission: "application", 0: "PermissionKind(0)"} {
		if got := k.String(); got != want {
			t.Errorf("PermissionKind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}

func FuzzLoadManifest(f *testing.F) {
	graphShape, _ := json.Marshal(DefaultManifest().RequiredResourceAccess())
	extended, _ := json.Marshal(DefaultManifest())
	for _, seed := range []string{
		string(graphShape),
		string(extended),
		`{"appId":"x","requiredResourceAccess":` + string(graphShape) + `}`,
		`[{"resourceName":"graph","resourceAccess":[{"name":"User.Read.All","type":"Role"},{"name":"openid","type":"Scope"}]}]`,
		`[{"resourceAppId":"11111111-2222-3333-4444-555555555555","resourceAccess":[{"id":"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee","name":"x.y","type":"Scope"}]}]`,
		`{"requiredResourceAccess":[]}`,
		`[{"resourceAppId":"00000003-0000-0000-c000-000000000000","resourceAccess":[{"id":"x","type":"Role"}]}]`,
		"\xef\xbb\xbf[]",
		`[`,
		`null`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseManifest(data)
		if err != nil {
			var me *ManifestError
			if !errors.As(err, &me) || me.Msg == "" {
				t.Fatalf("error %q (%T) is not a *ManifestError with a message", err, err)
			}
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("parsed manifest does not validate: %v", err)
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		again, err := parseManifest(b)
		if err != nil {
			t.Fatalf("the manifest's own JSON %s does not load: %v", b, err)
		}
		if !reflect.DeepEqual(again.RequiredResourceAccess(), m.RequiredResourceAccess()) {
			t.Fatalf("round trip changed the manifest:\n%+v\n%+v", m, again)
		}
	})
}

func TestRequiredResourceAccessJSON(t *testing.T) {
	t.Parallel()
	m := Manifest{Resources: []ResourceAccess{{ResourceAppID: PartnerCenterAppID}}}
	b, err := json.Marshal(m.RequiredResourceAccess())
	if err != nil {
		t.Fatal(err)
	}
	if want := `[{"resourceAppId":"` + PartnerCenterAppID + `","resourceAccess":[]}]`; string(b) != want {
		t.Errorf("JSON = %s, want %s", b, want)
	}
}

package sam

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/samkit/samkit/internal/httpx"
)

// maxManifestSize bounds what LoadManifest reads: a real manifest is a few
// KiB, and an unbounded read of a wrong file would only waste memory.
const maxManifestSize = 1 << 20

// ManifestError is a problem in a manifest file, with where it is.
type ManifestError struct {
	// Path locates the entry, as in "requiredResourceAccess[1].resourceAccess[0]";
	// empty for the document as a whole.
	Path string
	// Line and Column are 1-based positions in the input (Column counts
	// bytes); zero when not known.
	Line, Column int
	// Msg says what is wrong and, where it can, what to do.
	Msg string
}

func (e *ManifestError) Error() string {
	var b strings.Builder
	b.WriteString("manifest: ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(" ")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "(line %d, column %d)", e.Line, e.Column)
	}
	if e.Path != "" || e.Line > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// LoadManifest reads a manifest in the JSON shape of an application's
// requiredResourceAccess: either the bare array, or an object holding it as
// its "requiredResourceAccess" member (an application manifest downloaded
// from the Entra admin center, whose other members are ignored).
//
//	[{"resourceAppId": "00000003-0000-0000-c000-000000000000",
//	  "resourceAccess": [{"id": "df021288-bdef-4463-88db-98f22de89214", "type": "Role"},
//	                     {"name": "AuditLog.Read.All", "type": "Scope"}]},
//	 {"resourceName": "Exchange", "resourceAccess": [{"name": "Exchange.ManageAsApp", "type": "Role"}]}]
//
// Two extensions let people write permissions by name: "name" (or "value")
// on a permission and "resourceName" on a resource. A name is resolved
// through samkit's catalog (LookupPermission); a permission given by id is
// kept even when the catalog does not know it, because a partner may need
// permissions samkit has never heard of. A delegated permission outside the
// catalog needs both its id and its name, since grants list scopes by name.
// "type" is "Scope" or "Role" ("Delegated" and "Application" are accepted).
//
// Errors are *ManifestError values that give the entry and its line. The
// result is usually merged into DefaultManifest.
func LoadManifest(r io.Reader) (Manifest, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxManifestSize+1))
	if err != nil {
		return Manifest{}, fmt.Errorf("manifest: reading: %w", err)
	}
	if len(b) > maxManifestSize {
		return Manifest{}, &ManifestError{Msg: fmt.Sprintf("larger than %d bytes; a requiredResourceAccess list is far smaller, so this is probably the wrong file", maxManifestSize)}
	}
	return parseManifest(b)
}

// manifestParser carries the input so that every error can say where it is.
type manifestParser struct {
	data []byte
	top  string // path prefix of the entries: "requiredResourceAccess" or ""
}

func (p *manifestParser) errorf(off int, path, format string, args ...any) *ManifestError {
	e := &ManifestError{Path: path, Msg: fmt.Sprintf(format, args...)}
	if off >= 0 && off <= len(p.data) {
		e.Line, e.Column = 1, 1
		for _, c := range p.data[:off] {
			if c == '\n' {
				e.Line++
				e.Column = 1
			} else {
				e.Column++
			}
		}
	}
	return e
}

func parseManifest(data []byte) (Manifest, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // editors on Windows add a BOM
	p := &manifestParser{data: data}

	// Check the syntax of the whole input first: the walk below then never
	// meets a syntax error, and this one has the exact offset.
	dec := json.NewDecoder(bytes.NewReader(data))
	var whole json.RawMessage
	if err := dec.Decode(&whole); err != nil {
		var se *json.SyntaxError
		switch {
		case errors.Is(err, io.EOF):
			return Manifest{}, p.errorf(-1, "", "empty input: want a requiredResourceAccess array or an application manifest")
		case errors.As(err, &se):
			return Manifest{}, p.errorf(int(se.Offset), "", "invalid JSON: %s", strings.TrimPrefix(se.Error(), "json: "))
		case errors.Is(err, io.ErrUnexpectedEOF):
			return Manifest{}, p.errorf(len(data), "", "invalid JSON: the input ends in the middle of a value")
		}
		return Manifest{}, p.errorf(-1, "", "invalid JSON: %v", err)
	}
	if off := int(dec.InputOffset()); skipSpace(data, off) < len(data) {
		return Manifest{}, p.errorf(skipSpace(data, off), "", "unexpected data after the manifest")
	}

	start := skipSpace(data, 0)
	arr := start
	switch data[start] {
	case '[':
	case '{':
		arr = -1
		err := members(data, start, func(key string, off int, _ json.RawMessage) error {
			if arr < 0 && strings.EqualFold(key, "requiredResourceAccess") {
				arr = off
			}
			return nil
		})
		if err != nil {
			return Manifest{}, p.errorf(start, "", "invalid JSON: %v", err)
		}
		if arr < 0 {
			return Manifest{}, p.errorf(start, "", `the object has no "requiredResourceAccess" member: give an application manifest or a bare requiredResourceAccess array`)
		}
		p.top = "requiredResourceAccess"
		if data[arr] != '[' {
			return Manifest{}, p.errorf(arr, p.top, "must be an array")
		}
	default:
		return Manifest{}, p.errorf(start, "", "want a requiredResourceAccess array or an application manifest object, not %s", jsonKind(data[start]))
	}

	var m Manifest
	where := map[string]string{} // resource app id -> path of its entry
	err := elements(data, arr, func(i, off int, raw json.RawMessage) error {
		path := fmt.Sprintf("%s[%d]", p.top, i)
		r, err := p.resource(path, off, raw)
		if err != nil {
			return err
		}
		if prev, ok := where[r.ResourceAppID]; ok {
			return p.errorf(off, path, "resource %s is also listed at %s; list each resource once", r.label(), prev)
		}
		where[r.ResourceAppID] = path
		if len(r.Delegated)+len(r.Application) > 0 {
			m.Resources = append(m.Resources, r)
		}
		return nil
	})
	if err != nil {
		return Manifest{}, err
	}
	if err := m.Validate(); err != nil {
		return Manifest{}, &ManifestError{Msg: strings.TrimPrefix(err.Error(), "manifest: ")}
	}
	return m, nil
}

// resource reads one requiredResourceAccess entry.
func (p *manifestParser) resource(path string, off int, raw json.RawMessage) (ResourceAccess, error) {
	if raw[0] != '{' {
		return ResourceAccess{}, p.errorf(off, path, "must be an object with resourceAppId and resourceAccess, not %s", jsonKind(raw[0]))
	}
	var appID, name string
	access := -1
	err := members(p.data, off, func(key string, moff int, v json.RawMessage) error {
		switch {
		case strings.EqualFold(key, "resourceAppId"):
			return p.str(path+".resourceAppId", moff, v, &appID)
		case strings.EqualFold(key, "resourceName"):
			return p.str(path+".resourceName", moff, v, &name)
		case strings.EqualFold(key, "resourceAccess"):
			access = moff
			return nil
		}
		return p.errorf(moff, path, "unknown member %q (want resourceAppId, resourceName, resourceAccess)", key)
	})
	if err != nil {
		return ResourceAccess{}, err
	}

	var r ResourceAccess
	switch {
	case appID != "":
		if !httpx.IsGUID(appID) {
			return r, p.errorf(off, path, "resourceAppId %q is not a GUID", appID)
		}
		r.ResourceAppID = strings.ToLower(appID)
		known := knownResourceByID(appID)
		if byName := knownResourceByName(name); name != "" && byName != nil && byName != known {
			return r, p.errorf(off, path, "resourceName %q is %s, whose app id is %s, not %s", name, byName.name, byName.appID, appID)
		}
		r.Name = name
		if known != nil {
			r.Name = known.name
		}
	case name != "":
		known := knownResourceByName(name)
		if known == nil {
			return r, p.errorf(off, path, "unknown resource %q: give its resourceAppId (the appId of its service principal); names samkit knows are %s", name, knownResourceNames())
		}
		r.ResourceAppID, r.Name = known.appID, known.name
	default:
		return r, p.errorf(off, path, "resourceAppId is missing")
	}

	if access < 0 || p.data[access] == 'n' {
		return r, p.errorf(off, path, "resourceAccess is missing: list the permissions asked of %s", r.label())
	}
	if p.data[access] != '[' {
		return r, p.errorf(access, path+".resourceAccess", "must be an array, not %s", jsonKind(p.data[access]))
	}
	seen := map[string]string{} // kind+id -> path
	err = elements(p.data, access, func(j, eoff int, v json.RawMessage) error {
		epath := fmt.Sprintf("%s.resourceAccess[%d]", path, j)
		kind, perm, err := p.permission(r, epath, eoff, v)
		if err != nil {
			return err
		}
		key := kind.String() + "/" + perm.ID
		if prev, ok := seen[key]; ok {
			return p.errorf(eoff, epath, "%s permission %s is also listed at %s", kind, perm, prev)
		}
		seen[key] = epath
		if kind == DelegatedPermission {
			r.Delegated = append(r.Delegated, perm)
		} else {
			r.Application = append(r.Application, perm)
		}
		return nil
	})
	return r, err
}

// permission reads one resourceAccess entry of resource r.
func (p *manifestParser) permission(r ResourceAccess, path string, off int, raw json.RawMessage) (PermissionKind, Permission, error) {
	if raw[0] != '{' {
		return 0, Permission{}, p.errorf(off, path, "must be an object with id and type, not %s", jsonKind(raw[0]))
	}
	var id, name, value, typ string
	typeOff := off
	err := members(p.data, off, func(key string, moff int, v json.RawMessage) error {
		switch {
		case strings.EqualFold(key, "id"):
			return p.str(path+".id", moff, v, &id)
		case strings.EqualFold(key, "name"):
			return p.str(path+".name", moff, v, &name)
		case strings.EqualFold(key, "value"):
			return p.str(path+".value", moff, v, &value)
		case strings.EqualFold(key, "type"):
			typeOff = moff
			return p.str(path+".type", moff, v, &typ)
		}
		return p.errorf(moff, path, "unknown member %q (want id, name, type)", key)
	})
	if err != nil {
		return 0, Permission{}, err
	}
	switch {
	case name == "":
		name = value
	case value != "" && value != name:
		return 0, Permission{}, p.errorf(off, path, "name %q and value %q disagree; give one", name, value)
	}

	var kind PermissionKind
	switch strings.ToLower(typ) {
	case "scope", "delegated":
		kind = DelegatedPermission
	case "role", "application":
		kind = ApplicationPermission
	case "":
		return 0, Permission{}, p.errorf(off, path, "type is missing: want Scope (delegated) or Role (application)")
	default:
		return 0, Permission{}, p.errorf(typeOff, path, "unknown type %q: want Scope (delegated) or Role (application)", typ)
	}

	perm := Permission{ID: strings.ToLower(id), Name: name}
	switch {
	case id != "" && !httpx.IsGUID(id):
		return 0, Permission{}, p.errorf(off, path, "id %q is not a GUID", id)
	case id == "" && name == "":
		return 0, Permission{}, p.errorf(off, path, "needs an id, or the name of a permission samkit knows")
	case id == "":
		canonical, known, ok := lookupName(r.ResourceAppID, kind, name)
		if !ok {
			hint := ""
			other := ApplicationPermission
			if kind == ApplicationPermission {
				other = DelegatedPermission
			}
			if _, ok := LookupPermission(r.ResourceAppID, other, name); ok {
				hint = fmt.Sprintf(" (%s is a %s permission: check the type)", name, other)
			}
			return 0, Permission{}, p.errorf(off, path, `unknown %s permission %q of %s%s: add its "id", the GUID from the resource's %s or from Microsoft's permissions reference`,
				kind, name, r.label(), hint, map[PermissionKind]string{DelegatedPermission: "oauth2PermissionScopes", ApplicationPermission: "appRoles"}[kind])
		}
		perm = Permission{ID: known, Name: canonical}
	case name == "":
		if known, ok := PermissionName(r.ResourceAppID, kind, id); ok {
			perm.Name = known
		} else if kind == DelegatedPermission {
			return 0, Permission{}, p.errorf(off, path, `delegated permission %s of %s is not in samkit's catalog: add its "name" (the scope's value), which admin-consent grants need`, id, r.label())
		}
	default:
		if canonical, _, ok := lookupName(r.ResourceAppID, kind, name); ok {
			perm.Name = canonical
		}
	}
	if err := checkPermission(r.ResourceAppID, kind, perm); err != nil {
		return 0, Permission{}, p.errorf(off, path, "%v", err)
	}
	return kind, perm, nil
}

// str decodes a JSON string member into *dst.
func (p *manifestParser) str(path string, off int, v json.RawMessage, dst *string) error {
	if err := json.Unmarshal(v, dst); err != nil {
		return p.errorf(off, path, "must be a string, not %s", jsonKind(v[0]))
	}
	*dst = strings.TrimSpace(*dst)
	return nil
}

func knownResourceNames() string {
	names := make([]string, 0, len(catalog))
	for _, r := range catalog {
		names = append(names, fmt.Sprintf("%q", r.name))
	}
	return strings.Join(names, ", ")
}

// jsonKind names the kind of JSON value that starts with c, for messages.
func jsonKind(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func skipSpace(data []byte, off int) int {
	for off < len(data) && (data[off] == ' ' || data[off] == '\t' || data[off] == '\n' || data[off] == '\r') {
		off++
	}
	return off
}

// skipSeparators moves off past whitespace and one separator (',' or ':'),
// onto the start of the next value.
func skipSeparators(data []byte, off int) int {
	off = skipSpace(data, off)
	if off < len(data) && (data[off] == ',' || data[off] == ':') {
		off++
	}
	return skipSpace(data, off)
}

// elements calls fn with each element of the JSON array at data[off] and
// the element's offset in data. The input must be valid JSON.
func elements(data []byte, off int, fn func(i, off int, raw json.RawMessage) error) error {
	dec := json.NewDecoder(bytes.NewReader(data[off:]))
	if _, err := dec.Token(); err != nil {
		return err
	}
	for i := 0; dec.More(); i++ {
		start := skipSeparators(data, off+int(dec.InputOffset()))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		if err := fn(i, start, raw); err != nil {
			return err
		}
	}
	return nil
}

// members calls fn with each member of the JSON object at data[off] and the
// offset of the member's value in data. The input must be valid JSON.
func members(data []byte, off int, fn func(key string, off int, raw json.RawMessage) error) error {
	dec := json.NewDecoder(bytes.NewReader(data[off:]))
	if _, err := dec.Token(); err != nil {
		return err
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := t.(string)
		start := skipSeparators(data, off+int(dec.InputOffset()))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		if err := fn(key, start, raw); err != nil {
			return err
		}
	}
	return nil
}

package graph

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"net/url"
	"strings"

	"github.com/samkit/samkit/internal/httpx"
)

// Group is a directory group; GDAP access assignments name security groups
// of the partner tenant.
type Group struct {
	ID              string `json:"id"`
	DisplayName     string `json:"displayName"`
	Description     string `json:"description,omitempty"`
	MailNickname    string `json:"mailNickname,omitempty"`
	SecurityEnabled bool   `json:"securityEnabled"`
	MailEnabled     bool   `json:"mailEnabled"`
}

// GroupsByDisplayName lists the groups called name (there may be several).
//
// See https://learn.microsoft.com/graph/api/group-list.
func (c *Client) GroupsByDisplayName(ctx context.Context, name string) iter.Seq2[Group, error] {
	if name == "" {
		return fail[Group](invalidArg("empty group display name"))
	}
	return list[Group](ctx, c, "/groups", url.Values{"$filter": {"displayName eq " + Quote(name)}})
}

// CreateSecurityGroup creates a security group (not mail-enabled) in the
// client's tenant. mailNickname is required by Graph even for groups
// without mail: letters, digits and - . _ only.
//
// See https://learn.microsoft.com/graph/api/group-post-groups.
func (c *Client) CreateSecurityGroup(ctx context.Context, displayName, mailNickname, description string) (Group, error) {
	if displayName == "" || mailNickname == "" {
		return Group{}, invalidArg("a security group needs a display name and a mail nickname")
	}
	in := Group{DisplayName: displayName, MailNickname: mailNickname, Description: description, SecurityEnabled: true}
	var out Group
	if err := c.do(ctx, request{method: http.MethodPost, path: "/groups", body: in, class: httpx.RetryThrottleOnly}, &out); err != nil {
		return Group{}, err
	}
	c.MarkCreated(out.ID)
	return out, nil
}

// AddGroupMember adds directory object memberID (a user) to group groupID.
// Adding a member again succeeds: Graph's "already exist" answer counts as
// done.
//
// See https://learn.microsoft.com/graph/api/group-post-members.
func (c *Client) AddGroupMember(ctx context.Context, groupID, memberID string) error {
	if err := checkGUID("group id", groupID); err != nil {
		return err
	}
	if err := checkGUID("member id", memberID); err != nil {
		return err
	}
	body := map[string]string{"@odata.id": c.base + "/directoryObjects/" + memberID}
	err := c.do(ctx, request{method: http.MethodPost, path: "/groups/" + groupID + "/members/$ref", body: body,
		class: httpx.RetryThrottleOnly, refs: []string{groupID}}, nil)
	var e *Error
	if errors.As(err, &e) && e.StatusCode == http.StatusBadRequest && strings.Contains(e.Message, "already exist") {
		return nil
	}
	return err
}

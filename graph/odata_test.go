package graph

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                       "''",
		"plain":                  "'plain'",
		"O'Brien's app":          "'O''Brien''s app'",
		"x' or displayName ne '": "'x'' or displayName ne '''",
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestHostileIDsRefused checks that ids read from elsewhere cannot steer a
// request to another path or smuggle a query: each is refused before
// anything is sent.
func TestHostileIDsRefused(t *testing.T) {
	t.Parallel()
	const ok = "11111111-2222-3333-4444-555555555555"
	hostile := []string{"../../applications", "x?$filter=displayName eq 'a'", "a/b", "x#y", "%2e%2e", "..", "", "id with space"}
	ops := map[string]func(ctx context.Context, c *Client, id string) error{
		"GetApplication": func(ctx context.Context, c *Client, id string) error { _, err := c.GetApplication(ctx, id); return err },
		"ApplicationByAppID": func(ctx context.Context, c *Client, id string) error {
			_, err := c.ApplicationByAppID(ctx, id)
			return err
		},
		"UpdateApplication": func(ctx context.Context, c *Client, id string) error {
			return c.UpdateApplication(ctx, id, Application{DisplayName: "x"})
		},
		"DeleteApplication": func(ctx context.Context, c *Client, id string) error { return c.DeleteApplication(ctx, id) },
		"AddPassword": func(ctx context.Context, c *Client, id string) error {
			_, err := c.AddPassword(ctx, id, PasswordCredential{})
			return err
		},
		"RemovePassword app": func(ctx context.Context, c *Client, id string) error { return c.RemovePassword(ctx, id, ok) },
		"RemovePassword key": func(ctx context.Context, c *Client, id string) error { return c.RemovePassword(ctx, ok, id) },
		"CreateSP": func(ctx context.Context, c *Client, id string) error {
			_, err := c.CreateServicePrincipal(ctx, id)
			return err
		},
		"GetSP": func(ctx context.Context, c *Client, id string) error {
			_, err := c.GetServicePrincipal(ctx, id)
			return err
		},
		"DeleteSP": func(ctx context.Context, c *Client, id string) error { return c.DeleteServicePrincipal(ctx, id) },
		"SPByAppID": func(ctx context.Context, c *Client, id string) error {
			_, err := c.ServicePrincipalByAppID(ctx, id)
			return err
		},
		"OAuth2PermissionGrants": func(ctx context.Context, c *Client, id string) error {
			_, err := Collect(c.OAuth2PermissionGrants(ctx, id))
			return err
		},
		"CreateGrant client": func(ctx context.Context, c *Client, id string) error {
			_, err := c.CreateOAuth2PermissionGrant(ctx, OAuth2PermissionGrant{ClientID: id, ResourceID: ok, ConsentType: ConsentAllPrincipals, Scope: "a"})
			return err
		},
		"CreateGrant principal": func(ctx context.Context, c *Client, id string) error {
			_, err := c.CreateOAuth2PermissionGrant(ctx, OAuth2PermissionGrant{ClientID: ok, ResourceID: ok, ConsentType: ConsentPrincipal, PrincipalID: id, Scope: "a"})
			return err
		},
		"UpdateGrantScope": func(ctx context.Context, c *Client, id string) error {
			return c.UpdateOAuth2PermissionGrantScope(ctx, id, "a")
		},
		"DeleteGrant": func(ctx context.Context, c *Client, id string) error { return c.DeleteOAuth2PermissionGrant(ctx, id) },
		"AssignAppRole resource": func(ctx context.Context, c *Client, id string) error {
			_, err := c.AssignAppRole(ctx, id, AppRoleAssignment{PrincipalID: ok, AppRoleID: ok})
			return err
		},
		"AssignAppRole principal": func(ctx context.Context, c *Client, id string) error {
			_, err := c.AssignAppRole(ctx, ok, AppRoleAssignment{PrincipalID: id, AppRoleID: ok})
			return err
		},
		"AppRoleAssignments": func(ctx context.Context, c *Client, id string) error {
			_, err := Collect(c.AppRoleAssignments(ctx, id))
			return err
		},
		"DeleteAppRoleAssignment sp": func(ctx context.Context, c *Client, id string) error {
			return c.DeleteAppRoleAssignment(ctx, id, "abc")
		},
		"DeleteAppRoleAssignment id": func(ctx context.Context, c *Client, id string) error { return c.DeleteAppRoleAssignment(ctx, ok, id) },
		"DelegatedAdminRelationships status": func(ctx context.Context, c *Client, id string) error {
			_, err := Collect(c.DelegatedAdminRelationships(ctx, id+"x"))
			return err
		},
	}
	m := newMini(t)
	c, _ := m.client(&counter{})
	for name, op := range ops {
		for _, id := range hostile {
			err := op(t.Context(), c, id)
			if !errors.Is(err, ErrInvalidArgument) {
				t.Errorf("%s(%q): err = %v, want ErrInvalidArgument", name, id, err)
			}
		}
	}
	if calls := m.requests(); len(calls) != 0 {
		t.Errorf("server saw %d requests (first %s %s?%s), want none", len(calls), calls[0].Method, calls[0].Path, calls[0].RawQuery)
	}
	// The refusal quotes the value, shortened.
	err := c.DeleteApplication(t.Context(), strings.Repeat("x", 500))
	if len(err.Error()) > 200 {
		t.Errorf("error for a long id is %d bytes, want it shortened", len(err.Error()))
	}
}

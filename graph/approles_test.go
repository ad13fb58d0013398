package graph

import (
	"errors"
	"testing"
)

func TestAppRoleAssignments(t *testing.T) {
	t.Parallel()
	f := newFake(t, nil)
	ctx := t.Context()
	client, graphSP := newClientSP(t, f)
	const directoryReadAll = "7ab1d382-f21e-4acd-a863-ba3e13f7da61"

	a, err := f.c.AssignAppRole(ctx, graphSP.ID, AppRoleAssignment{PrincipalID: client.ID, AppRoleID: directoryReadAll})
	if err != nil {
		t.Fatalf("AssignAppRole: %v", err)
	}
	if a.ID == "" || a.PrincipalID != client.ID || a.ResourceID != graphSP.ID || a.AppRoleID != directoryReadAll {
		t.Errorf("AssignAppRole = %+v", a)
	}
	if _, err := f.c.AssignAppRole(ctx, graphSP.ID, AppRoleAssignment{PrincipalID: client.ID, AppRoleID: directoryReadAll}); !errors.Is(err, ErrBadRequest) {
		t.Errorf("repeated assignment: err = %v, want Graph's 400", err)
	}
	if _, err := f.c.AssignAppRole(ctx, graphSP.ID, AppRoleAssignment{PrincipalID: client.ID, ResourceID: client.ID, AppRoleID: directoryReadAll}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("mismatched resource: err = %v, want ErrInvalidArgument", err)
	}

	got := collect(t, f.c.AppRoleAssignments(ctx, client.ID))
	if len(got) != 1 || got[0].ID != a.ID || got[0].AppRoleID != directoryReadAll || got[0].ResourceID != graphSP.ID {
		t.Errorf("AppRoleAssignments = %+v, want the assignment", got)
	}

	if err := f.c.DeleteAppRoleAssignment(ctx, client.ID, a.ID); err != nil {
		t.Fatalf("DeleteAppRoleAssignment: %v", err)
	}
	if got := collect(t, f.c.AppRoleAssignments(ctx, client.ID)); len(got) != 0 {
		t.Errorf("after delete: %+v, want none", got)
	}
}

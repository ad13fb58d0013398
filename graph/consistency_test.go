package graph

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/samkit/samkit/internal/testserver"
)

func TestConsistencyRetry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		budget    time.Duration // 0: the default
		lag       int
		created   bool // the client created the app (or was told with MarkCreated)
		byAppID   bool
		wantErr   bool
		wantWaits string
	}{
		{"own creation read through lag", 0, 2, true, false, false, "[500ms 1s]"},
		{"lookup by appId through lag", 0, 3, true, true, false, "[500ms 1s 2s]"},
		{"waits capped at 5s", 0, 6, true, false, false, "[500ms 1s 2s 4s 5s 5s]"},
		{"budget spent", 1200 * time.Millisecond, 10, true, false, true, "[500ms 700ms]"},
		{"retry turned off", -1, 1, true, false, true, "[]"},
		{"someone else's object answered at once", 0, 1, false, false, true, "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMini(t)
			var opts []Option
			if tt.budget != 0 {
				opts = append(opts, WithConsistencyRetry(max(tt.budget, 0)))
			}
			c, sl := m.client(&counter{}, opts...)
			creator, _ := m.client(&counter{})
			creatorOf := c
			if !tt.created {
				creatorOf = creator
			}
			app, err := creatorOf.CreateApplication(t.Context(), Application{DisplayName: "new"})
			if err != nil {
				t.Fatalf("CreateApplication: %v", err)
			}
			m.mu.Lock()
			m.lag[app.ID] = tt.lag
			m.mu.Unlock()
			before := len(m.requests())
			var got Application
			if tt.byAppID {
				got, err = c.ApplicationByAppID(t.Context(), app.AppID)
			} else {
				got, err = c.GetApplication(t.Context(), app.ID)
			}
			if tt.wantErr {
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("err = %v, want ErrNotFound", err)
				}
			} else if err != nil || got.ID != app.ID {
				t.Fatalf("read = %+v, %v; want the new app", got, err)
			}
			if w := fmt.Sprint(sl.all()); w != tt.wantWaits {
				t.Errorf("waits = %s, want %s", w, tt.wantWaits)
			}
			if n, want := len(m.requests())-before, len(sl.all())+1; n != want {
				t.Errorf("server saw %d reads, want %d", n, want)
			}
		})
	}
}

func TestConsistencyMarkCreated(t *testing.T) {
	t.Parallel()
	m := newMini(t)
	c, sl := m.client(&counter{})
	other, _ := m.client(&counter{})
	app, err := other.CreateApplication(t.Context(), Application{DisplayName: "made elsewhere"})
	if err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	m.lag[app.ID] = 1
	m.mu.Unlock()
	c.MarkCreated(app.ID)
	if _, err := c.GetApplication(t.Context(), app.ID); err != nil {
		t.Fatalf("GetApplication: %v", err)
	}
	if n := len(sl.all()); n != 1 {
		t.Errorf("%d waits, want 1", n)
	}
}

func TestConsistencyWaitEndsWithContext(t *testing.T) {
	t.Parallel()
	m := newMini(t)
	c, _ := m.client(&counter{})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	c.sleep = func(ctx context.Context, _ time.Duration) error { cancel(); return ctx.Err() }
	app, err := c.CreateApplication(ctx, Application{DisplayName: "new"})
	if err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	m.lag[app.ID] = 5
	m.mu.Unlock()
	if _, err := c.GetApplication(ctx, app.ID); err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestConsistencyAgainstFake runs SAM's creation sequence against a
// directory that takes seconds to replicate each new object.
func TestConsistencyAgainstFake(t *testing.T) {
	t.Parallel()
	setup := func(f *fake) error {
		ctx := t.Context()
		app, err := f.c.CreateApplication(ctx, samApp("replicating"))
		if err != nil {
			return fmt.Errorf("CreateApplication: %w", err)
		}
		if _, err := f.c.AddPassword(ctx, app.ID, PasswordCredential{DisplayName: "s"}); err != nil {
			return fmt.Errorf("AddPassword: %w", err)
		}
		sp, err := f.c.CreateServicePrincipal(ctx, app.AppID)
		if err != nil {
			return fmt.Errorf("CreateServicePrincipal: %w", err)
		}
		graphSP, err := f.c.ServicePrincipalByAppID(ctx, testserver.GraphAppID)
		if err != nil {
			return fmt.Errorf("ServicePrincipalByAppID: %w", err)
		}
		if _, err := f.c.CreateOAuth2PermissionGrant(ctx, OAuth2PermissionGrant{ClientID: sp.ID, ResourceID: graphSP.ID,
			ConsentType: ConsentAllPrincipals, Scope: "User.Read"}); err != nil {
			return fmt.Errorf("CreateOAuth2PermissionGrant: %w", err)
		}
		if _, err := f.c.AssignAppRole(ctx, graphSP.ID, AppRoleAssignment{PrincipalID: sp.ID, AppRoleID: "7ab1d382-f21e-4acd-a863-ba3e13f7da61"}); err != nil {
			return fmt.Errorf("AssignAppRole: %w", err)
		}
		return nil
	}
	t.Run("retried through the delay", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, nil)
		f.s.Mutate(func(w *testserver.World) { w.ReplicationDelay = 3 * time.Second })
		if err := setup(f); err != nil {
			t.Fatal(err)
		}
		var total time.Duration
		for _, w := range f.waits.all() {
			total += w
		}
		// AddPassword waits out the new app (500ms+1s+2s), by when the app
		// has replicated for CreateServicePrincipal; the grant waits out
		// the new service principal likewise, by when the assignment finds
		// it.
		if total != 7*time.Second {
			t.Errorf("waited %v in all (%v), want 7s", total, f.waits.all())
		}
	})
	t.Run("without the retry", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, nil, WithConsistencyRetry(0))
		f.s.Mutate(func(w *testserver.World) { w.ReplicationDelay = 3 * time.Second })
		err := setup(f)
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "AddPassword") {
			t.Fatalf("err = %v, want AddPassword to meet the 404", err)
		}
	})
}

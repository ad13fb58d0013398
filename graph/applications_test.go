package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/samkit/samkit/internal/testserver"
)

func ptr[T any](v T) *T { return &v }

// samApp is an application like the one SAM setup registers.
func samApp(name string) Application {
	return Application{
		DisplayName:    name,
		SignInAudience: SignInAudienceMultipleOrgs,
		RequiredResourceAccess: []RequiredResourceAccess{{
			ResourceAppID:  testserver.GraphAppID,
			ResourceAccess: []ResourceAccess{{ID: "7ab1d382-f21e-4acd-a863-ba3e13f7da61", Type: ResourceAccessRole}, {ID: "0e263e50-5827-48a4-b97c-d940288653c7", Type: ResourceAccessScope}},
		}},
		Web:                    WebApplication{RedirectURIs: []string{"http://localhost:8400"}},
		PublicClient:           PublicClientApplication{RedirectURIs: []string{"http://localhost"}},
		IsFallbackPublicClient: ptr(true),
	}
}

func TestApplicationLifecycle(t *testing.T) {
	t.Parallel()
	f := newFake(t, nil)
	ctx := t.Context()
	want := samApp("O'Brien's SAM app")

	app, err := f.c.CreateApplication(ctx, want)
	if err != nil {
		t.Fatalf("CreateApplication: %v", err)
	}
	if app.ID == "" || app.AppID == "" || app.CreatedDateTime.IsZero() {
		t.Fatalf("created app lacks ids or date: %+v", app)
	}
	check := func(what string, got Application) {
		t.Helper()
		if got.ID != app.ID || got.AppID != app.AppID || got.DisplayName != want.DisplayName ||
			got.SignInAudience != want.SignInAudience || fmt.Sprint(got.RequiredResourceAccess) != fmt.Sprint(want.RequiredResourceAccess) ||
			fmt.Sprint(got.Web.RedirectURIs) != fmt.Sprint(want.Web.RedirectURIs) ||
			fmt.Sprint(got.PublicClient.RedirectURIs) != fmt.Sprint(want.PublicClient.RedirectURIs) ||
			got.IsFallbackPublicClient == nil || !*got.IsFallbackPublicClient {
			t.Errorf("%s = %+v\nwant %+v", what, got, want)
		}
	}
	check("CreateApplication", app)

	got, err := f.c.GetApplication(ctx, app.ID)
	if err != nil {
		t.Fatalf("GetApplication: %v", err)
	}
	check("GetApplication", got)

	got, err = f.c.ApplicationByAppID(ctx, app.AppID)
	if err != nil {
		t.Fatalf("ApplicationByAppID: %v", err)
	}
	check("ApplicationByAppID", got)

	byName := collect(t, f.c.ApplicationsByDisplayName(ctx, want.DisplayName))
	if len(byName) != 1 || byName[0].ID != app.ID {
		t.Errorf("ApplicationsByDisplayName = %+v, want the app", byName)
	}
	if other := collect(t, f.c.ApplicationsByDisplayName(ctx, "O'Brien")); len(other) != 0 {
		t.Errorf("ApplicationsByDisplayName(prefix) = %+v, want none", other)
	}

	// PATCH changes what is set and clears an emptied list.
	err = f.c.UpdateApplication(ctx, app.ID, Application{DisplayName: "renamed", Web: WebApplication{RedirectURIs: []string{}}})
	if err != nil {
		t.Fatalf("UpdateApplication: %v", err)
	}
	got, err = f.c.GetApplication(ctx, app.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.DisplayName != "renamed" || len(got.Web.RedirectURIs) != 0 || len(got.PublicClient.RedirectURIs) != 1 || len(got.RequiredResourceAccess) != 1 {
		t.Errorf("after UpdateApplication: %+v, want renamed, web URIs cleared, the rest kept", got)
	}
	patches := 0
	for _, r := range f.graphRequests() {
		if r.Method == "PATCH" && r.Path == "/graph/v1.0/applications/"+app.ID {
			patches++
		}
	}
	if patches != 1 {
		t.Errorf("%d PATCH requests to the app, want 1", patches)
	}

	if err := f.c.DeleteApplication(ctx, app.ID); err != nil {
		t.Fatalf("DeleteApplication: %v", err)
	}
	if _, err := f.c.GetApplication(ctx, app.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetApplication after delete: err = %v, want ErrNotFound", err)
	}
	if _, err := f.c.ApplicationByAppID(ctx, app.AppID); !errors.Is(err, ErrNotFound) {
		t.Errorf("ApplicationByAppID after delete: err = %v, want ErrNotFound", err)
	}
}

func TestPasswords(t *testing.T) {
	t.Parallel()
	f := newFake(t, nil)
	ctx := t.Context()
	app, err := f.c.CreateApplication(ctx, samApp("secrets"))
	if err != nil {
		t.Fatal(err)
	}
	end := time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)
	pw, err := f.c.AddPassword(ctx, app.ID, PasswordCredential{DisplayName: "samkit", EndDateTime: end})
	if err != nil {
		t.Fatalf("AddPassword: %v", err)
	}
	secret := pw.SecretText.Reveal()
	if len(secret) < 16 || pw.Hint != secret[:3] || pw.DisplayName != "samkit" || !pw.EndDateTime.Equal(end) || pw.StartDateTime.IsZero() {
		t.Errorf("AddPassword = %+v (secret %d chars), want the secret with its hint, name and dates", pw, len(secret))
	}
	if s := fmt.Sprintf("%v %+v", pw, pw); strings.Contains(s, secret) {
		t.Errorf("printing the credential shows the secret: %s", s)
	}
	if b, _ := json.Marshal(pw); strings.Contains(string(b), secret) {
		t.Errorf("marshalling the credential shows the secret: %s", b)
	}
	var stored []string
	f.s.Read(func(w *testserver.World) {
		for _, p := range w.Apps[app.AppID].Passwords {
			stored = append(stored, p.KeyID+"="+p.Secret)
		}
	})
	if len(stored) != 1 || stored[0] != pw.KeyID+"="+secret {
		t.Errorf("fake holds %d secrets, want the one returned", len(stored))
	}

	got, err := f.c.GetApplication(ctx, app.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.PasswordCredentials) != 1 || got.PasswordCredentials[0].KeyID != pw.KeyID || !got.PasswordCredentials[0].SecretText.IsZero() {
		t.Errorf("app's credentials = %+v, want the new one without its text", got.PasswordCredentials)
	}

	if err := f.c.RemovePassword(ctx, app.ID, pw.KeyID); err != nil {
		t.Fatalf("RemovePassword: %v", err)
	}
	f.s.Read(func(w *testserver.World) {
		if n := len(w.Apps[app.AppID].Passwords); n != 0 {
			t.Errorf("fake holds %d secrets after RemovePassword, want 0", n)
		}
	})
	if err := f.c.RemovePassword(ctx, app.ID, pw.KeyID); !errors.Is(err, ErrBadRequest) {
		t.Errorf("second RemovePassword: err = %v, want ErrBadRequest", err)
	}
}

func TestCreateApplicationRefused(t *testing.T) {
	t.Parallel()
	f := newFake(t, nil)
	if _, err := f.c.CreateApplication(t.Context(), Application{}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("CreateApplication without a name: err = %v, want ErrInvalidArgument", err)
	}
	_, err := f.c.CreateApplication(t.Context(), Application{DisplayName: "x", SignInAudience: "Everyone"})
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 400 || e.Code != "Request_BadRequest" || !strings.Contains(e.Message, "signInAudience") {
		t.Errorf("CreateApplication with a bad audience: err = %v, want Graph's 400", err)
	}
	if n := len(f.graphRequests()); n != 1 {
		t.Errorf("%d requests, want 1 (the bad audience)", n)
	}
	if slices.ContainsFunc(f.graphRequests(), func(r testserver.Request) bool { return r.Status == 0 }) {
		t.Error("a request failed in transport")
	}
}

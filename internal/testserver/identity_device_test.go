package testserver

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// startDevice asks /devicecode for a code.
func startDevice(t *testing.T, s *Server, tenant, clientID, scope string) tokenReply {
	t.Helper()
	r := postForm(t, s, "/"+tenant+"/oauth2/v2.0/devicecode", url.Values{"client_id": {clientID}, "scope": {scope}})
	if r.Status != 200 {
		t.Fatalf("devicecode: got %d %v", r.Status, r.Body)
	}
	return r
}

func poll(t *testing.T, s *Server, tenant, clientID, device string) tokenReply {
	t.Helper()
	return postToken(t, s, tenant, url.Values{"grant_type": {grantDeviceCode}, "client_id": {clientID}, "device_code": {device}})
}

func TestDeviceCodeFlow(t *testing.T) {
	t.Parallel()
	type step struct {
		code   string // "" for success
		aadsts int
	}
	pending := step{"authorization_pending", 70016}
	declined := step{"authorization_declined", 65004}
	for _, tc := range []struct {
		name   string
		policy DeviceCodePolicy
		steps  []step
	}{
		{"approved after one pending poll", DeviceCodePolicy{PendingPolls: 1}, []step{pending, {}, {"invalid_grant", 70000}}},
		{"approved at once", DeviceCodePolicy{}, []step{{}}},
		// The device code page lists no slow_down: SlowDown changes nothing.
		// https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code#expected-errors
		{"never slow_down", DeviceCodePolicy{PendingPolls: 1, SlowDown: true}, []step{pending, {}}},
		{"declined", DeviceCodePolicy{PendingPolls: 1, Decline: true}, []step{pending, declined, declined}},
		{"manual leaves it pending", DeviceCodePolicy{Manual: true}, []step{pending, pending, pending}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := New()
			defer s.Close()
			s.Mutate(func(w *World) { w.DeviceCode = tc.policy })
			p := s.Partner()
			d := startDevice(t, s, p.TenantID, s.BootstrapClientID, samScope)
			for i, st := range tc.steps {
				r := poll(t, s, p.TenantID, s.BootstrapClientID, d.str("device_code"))
				if st.code != "" {
					if r.str("error") != st.code || !slices.Equal(r.codes(), []int{st.aadsts}) || r.Status != 400 {
						t.Fatalf("poll %d: got %d %s %v, want 400 %s [%d]", i+1, r.Status, r.str("error"), r.codes(), st.code, st.aadsts)
					}
					continue
				}
				if r.Status != 200 {
					t.Fatalf("poll %d: got %d %v, want the tokens", i+1, r.Status, r.Body)
				}
				c := claimsOf(t, s, r.str("access_token"))
				if c.String("tid") != p.TenantID || c.String("aud") != GraphResource || c.String("appid") != s.BootstrapClientID ||
					!slices.Contains(c.Strings("scp"), "Application.ReadWrite.All") || c.String("appidacr") != "0" {
					t.Errorf("claims %v: want the bootstrap client's Graph token in the partner tenant", c)
				}
				if r.str("refresh_token") == "" || r.str("id_token") == "" {
					t.Errorf("response %v: want a refresh token and an ID token", r.Body)
				}
			}
		})
	}
}

func TestDeviceCodeResponse(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	d := startDevice(t, s, "organizations", s.BootstrapClientID, "User.Read")
	uc := d.str("user_code")
	if d.str("device_code") == "" || len(uc) != 9 || d.str("verification_uri") != s.URL()+"/devicelogin" ||
		d.Body["expires_in"] != float64(900) || d.Body["interval"] != float64(1) {
		t.Errorf("got %v, want device_code, a 9-letter user_code, verification_uri, expires_in 900, interval 1", d.Body)
	}
	if _, ok := d.Body["verification_uri_complete"]; ok {
		t.Error("the identity platform sends no verification_uri_complete")
	}
	if msg := d.str("message"); !strings.Contains(msg, uc) || !strings.Contains(msg, s.URL()+"/devicelogin") {
		t.Errorf("message = %q, want the code and the page", msg)
	}
}

func TestApproveDeviceCode(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	s.Mutate(func(w *World) { w.DeviceCode.Manual = true })
	cust := s.AddCustomer(CustomerSpec{GDAP: true})
	d := startDevice(t, s, cust, s.BootstrapClientID, "User.Read offline_access openid")
	if r := poll(t, s, cust, s.BootstrapClientID, d.str("device_code")); r.str("error") != "authorization_pending" {
		t.Fatalf("got %v, want pending", r.Body)
	}
	if err := s.ApproveDeviceCode(strings.ToLower(d.str("user_code"))); err != nil {
		t.Fatal(err)
	}
	if err := s.ApproveDeviceCode(d.str("user_code")); err == nil {
		t.Error("a code approved twice: got no error")
	}
	if err := s.ApproveDeviceCode("NOSUCHCOD"); err == nil {
		t.Error("an unknown code: got no error")
	}
	r := poll(t, s, cust, s.BootstrapClientID, d.str("device_code"))
	if r.Status != 200 || claimsOf(t, s, r.str("access_token")).String("tid") != cust {
		t.Fatalf("got %d %v, want a token in the customer, consented by the admin through GDAP", r.Status, r.Body)
	}

	stranger := s.AddCustomer(CustomerSpec{Contract: true})
	d = startDevice(t, s, stranger, s.BootstrapClientID, samScope)
	if err := s.ApproveDeviceCode(d.str("user_code")); err == nil || !strings.Contains(err.Error(), "AADSTS50020") {
		t.Errorf("approval in a tenant without GDAP: got %v, want AADSTS50020", err)
	}
}

func TestDeviceCodeErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		run    func(t *testing.T, s *Server) tokenReply
		status int
		code   string
		aadsts int
	}{
		{"expired", func(t *testing.T, s *Server) tokenReply {
			d := startDevice(t, s, "organizations", s.BootstrapClientID, samScope)
			s.Clock().Advance(16 * time.Minute)
			if err := s.ApproveDeviceCode(d.str("user_code")); err == nil {
				t.Error("approving an expired code: got no error")
			}
			return poll(t, s, "organizations", s.BootstrapClientID, d.str("device_code"))
		}, 400, "expired_token", 70019},
		{"unknown device code", func(t *testing.T, s *Server) tokenReply {
			return poll(t, s, "organizations", s.BootstrapClientID, "DAQABnothing")
		}, 400, "bad_verification_code", 70018},
		{"confidential client without a secret", func(t *testing.T, s *Server) tokenReply {
			app := registerSAM(t, s, AppSpec{})
			d := startDevice(t, s, "organizations", app.AppID, samScope)
			return poll(t, s, "organizations", app.AppID, d.str("device_code"))
		}, 401, "invalid_client", 7000218},
		{"public client with a secret", func(t *testing.T, s *Server) tokenReply {
			d := startDevice(t, s, "organizations", s.BootstrapClientID, samScope)
			return postToken(t, s, "organizations", url.Values{"grant_type": {grantDeviceCode}, "client_id": {s.BootstrapClientID},
				"device_code": {d.str("device_code")}, "client_secret": {"x"}})
		}, 401, "invalid_client", 700025},
		{"devicecode for an unknown app", func(t *testing.T, s *Server) tokenReply {
			return postForm(t, s, "/organizations/oauth2/v2.0/devicecode", url.Values{"client_id": {newID()}, "scope": {samScope}})
		}, 400, "unauthorized_client", 700016},
		{"devicecode without scope", func(t *testing.T, s *Server) tokenReply {
			return postForm(t, s, "/organizations/oauth2/v2.0/devicecode", url.Values{"client_id": {s.BootstrapClientID}})
		}, 400, "invalid_request", 900144},
		{"devicecode with a scope of no resource", func(t *testing.T, s *Server) tokenReply {
			return postForm(t, s, "/organizations/oauth2/v2.0/devicecode", url.Values{"client_id": {s.BootstrapClientID},
				"scope": {"https://api.example.com/.default"}})
		}, 400, "invalid_scope", 70011},
		{"devicecode in an unknown tenant", func(t *testing.T, s *Server) tokenReply {
			return postForm(t, s, "/"+newID()+"/oauth2/v2.0/devicecode", url.Values{"client_id": {s.BootstrapClientID}, "scope": {samScope}})
		}, 400, "invalid_request", 90002},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := New()
			defer s.Close()
			s.Mutate(func(w *World) { w.DeviceCode.PendingPolls = 0 })
			wantError(t, tc.run(t, s), tc.status, tc.code, tc.aadsts)
		})
	}
}

func TestDeviceCodePublicSAMApp(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	app := registerSAM(t, s, AppSpec{PublicClient: true})
	s.Mutate(func(w *World) { w.DeviceCode.PendingPolls = 0 })
	d := startDevice(t, s, "organizations", app.AppID, "https://api.partnercenter.microsoft.com/.default offline_access")
	r := poll(t, s, "organizations", app.AppID, d.str("device_code"))
	if r.Status != 200 {
		t.Fatalf("got %d %v", r.Status, r.Body)
	}
	refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {app.AppID}, "refresh_token": {r.str("refresh_token")},
		"scope": {"https://graph.microsoft.com/.default"}}
	if r := postToken(t, s, "organizations", refresh); r.Status != 200 {
		t.Errorf("the public refresh token without a secret: got %d %v", r.Status, r.Body)
	}
}

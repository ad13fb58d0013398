package testserver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Each rehearsal makes the fake answer as its description says, and the
// switches stop.
func TestRehearsals(t *testing.T) {
	t.Parallel()
	graph := "https://graph.microsoft.com/.default"
	for _, tc := range []struct {
		r      Rehearsal
		status int
		code   string
		aadsts int
		form   func(f refreshFixture) (tenant string, form url.Values)
	}{
		{RehearseRefreshTokenIdle, 400, "invalid_grant", 700082, func(f refreshFixture) (string, url.Values) { return f.partner.TenantID, f.form(graph) }},
		{RehearseRefreshTokenRevoked, 400, "invalid_grant", 50173, func(f refreshFixture) (string, url.Values) { return f.partner.TenantID, f.form(graph) }},
		{RehearseSecretExpired, 401, "invalid_client", 7000222, func(f refreshFixture) (string, url.Values) { return f.partner.TenantID, f.form(graph) }},
		{RehearseMFARequired, 400, "invalid_grant", 50076, func(f refreshFixture) (string, url.Values) { return f.partner.TenantID, f.form(graph) }},
		{RehearseExchangePowerShellRetired, 400, "unauthorized_client", 7000112, func(f refreshFixture) (string, url.Values) {
			rt, err := f.s.MintRefreshToken(ExchangePowerShellID, MintPublic(), MintScope("https://outlook.office365.com/.default"))
			if err != nil {
				panic(err)
			}
			return f.consented, url.Values{"grant_type": {"refresh_token"}, "client_id": {ExchangePowerShellID}, "refresh_token": {rt},
				"scope": {"https://outlook.office365.com/.default"}}
		}},
	} {
		t.Run(string(tc.r), func(t *testing.T) {
			t.Parallel()
			f := newRefreshFixture(t)
			tenant, form := tc.form(f)
			require.NoError(t, f.s.Rehearse(tc.r))
			wantError(t, postToken(t, f.s, tenant, form), tc.status, tc.code, tc.aadsts)
			info, _ := rehearsalInfo(tc.r)
			if info.OneWay {
				assert.Error(t, f.s.StopRehearsal(tc.r), "a one-way rehearsal cannot be stopped")
				return
			}
			require.NoError(t, f.s.StopRehearsal(tc.r))
			r := postToken(t, f.s, tenant, form)
			assert.Equal(t, http.StatusOK, r.Status, "stopped, the request works again: %v", r.Body)
		})
	}
}

// Partner Center's MFA enforcement meets tokens redeemed without MFA.
func TestRehearsePartnerCenterMFA(t *testing.T) {
	t.Parallel()
	f := newRefreshFixture(t)
	require.NoError(t, f.s.Rehearse(RehearsePartnerCenterMFA))
	r := postToken(t, f.s, f.partner.TenantID, f.form("https://api.partnercenter.microsoft.com/.default"))
	require.Equal(t, http.StatusOK, r.Status, "%v", r.Body)
	tok := r.str("access_token")
	assert.NotContains(t, claimsOf(t, f.s, tok).Strings("amr"), "mfa")
	var e pcErrorBody
	resp := pcDo(t, f.s, "GET", "/v1/customers", tok, nil, nil, &e)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, "900421", string(e.Code))
}

// A Conditional Access policy blocking the device code flow: one
// authorization_pending, then AADSTS53003.
func TestRehearseDeviceCodeBlocked(t *testing.T) {
	t.Parallel()
	s, _ := NewSandbox(SandboxSpec{Customers: 1, Healthy: true})
	defer s.Close()
	require.NoError(t, s.Rehearse(RehearseDeviceCodeBlocked))
	d := startDevice(t, s, "organizations", s.BootstrapClientID, "https://graph.microsoft.com/.default offline_access")
	device := d.str("device_code")
	wantError(t, poll(t, s, "organizations", s.BootstrapClientID, device), http.StatusBadRequest, "authorization_pending", 70016)
	wantError(t, poll(t, s, "organizations", s.BootstrapClientID, device), http.StatusBadRequest, "invalid_grant", 53003)
}

// The InvokeCommand beta endpoint switched off answers 410 Gone; the
// throttled and hung rehearsals hold every API request.
func TestRehearseServices(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	cust := s.AddCustomer(CustomerSpec{GDAP: true})
	require.NoError(t, s.Rehearse(RehearseInvokeCommandOff))
	resp, _ := exoPost(t, s, exoURL(s, cust), exoToken(s, cust), cmdlet("Get-OrganizationConfig", nil), nil)
	assert.Equal(t, http.StatusGone, resp.StatusCode)

	tok := graphAdminToken(s, "", graphAllScopes...)
	require.NoError(t, s.Rehearse(RehearseThrottled))
	status, body, hdr := graphDo(t, s, tok, http.MethodGet, "/users", nil)
	assert.Equal(t, http.StatusTooManyRequests, status)
	assert.Equal(t, "1", hdr.Get("Retry-After"))
	assert.Equal(t, "TooManyRequests", graphErrCode(body))
	require.NoError(t, s.StopRehearsal(RehearseThrottled))

	require.NoError(t, s.Rehearse(RehearseHung))
	// Over HTTP/1.1 the handler runs once the request is read: cancelling
	// after the request is written always leaves a record of what the
	// fake did with it.
	tr := s.Client().Transport.(*http.Transport).Clone()
	tr.ForceAttemptHTTP2, tr.TLSClientConfig.NextProtos = false, []string{"http/1.1"}
	client := &http.Client{Transport: tr}
	ctx, cancel := context.WithCancel(t.Context())
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { cancel() }})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+"/graph/v1.0/users", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	_, err = client.Do(req)
	assert.ErrorIs(t, err, context.Canceled)
	var recs []Request
	for len(recs) == 0 && t.Context().Err() == nil {
		time.Sleep(time.Millisecond) // the handler records the request when it returns
		for _, r := range s.Requests() {
			if r.Service == "graph" && r.Fault != "throttle" {
				recs = append(recs, r)
			}
		}
	}
	require.Len(t, recs, 1)
	assert.Equal(t, "hang", recs[0].Fault, "the request was held, not answered")
}

// The loopback admin endpoint lists, stages and stops rehearsals.
func TestRehearsalAdminEndpoint(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	call := func(method, path string) (int, map[string]any) { return adminCall(t, s, method, path) }
	status, body := call(http.MethodGet, "/_sandbox/rehearsals")
	require.Equal(t, http.StatusOK, status)
	assert.Len(t, body["rehearsals"], len(RehearsalNames()))

	status, _ = call(http.MethodPost, "/_sandbox/rehearsals/throttled")
	assert.Equal(t, http.StatusOK, status)
	active := func() []string {
		var out []string
		for _, r := range s.Rehearsals() {
			if r.Active {
				out = append(out, string(r.Name))
			}
		}
		return out
	}
	assert.Equal(t, []string{"throttled"}, active())
	status, _ = call(http.MethodDelete, "/_sandbox/rehearsals/throttled")
	assert.Equal(t, http.StatusOK, status)
	assert.Empty(t, active())

	status, body = call(http.MethodPost, "/_sandbox/rehearsals/nonsense")
	assert.Equal(t, http.StatusNotFound, status)
	assert.Contains(t, body["error"], "the rehearsals are")
	status, _ = call(http.MethodPost, "/_sandbox/rehearsals/refresh-token-revoked")
	assert.Equal(t, http.StatusOK, status)
	status, _ = call(http.MethodDelete, "/_sandbox/rehearsals/refresh-token-revoked")
	assert.Equal(t, http.StatusConflict, status, "one-way rehearsals cannot be stopped")
}

// The admin endpoint refuses callers that are not on loopback.
func TestRehearsalAdminLoopbackOnly(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	for _, tc := range []struct {
		remote string
		want   int
	}{{"203.0.113.7:40000", http.StatusForbidden}, {"[::1]:40000", http.StatusOK}, {"127.0.0.1:40000", http.StatusOK}} {
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/_sandbox/rehearsals/throttled", nil)
		req.RemoteAddr = tc.remote
		rec := httptest.NewRecorder()
		s.handler().ServeHTTP(rec, req)
		assert.Equal(t, tc.want, rec.Code, tc.remote)
	}
}

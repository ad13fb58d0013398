package graph

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkGraphOverhead measures what the client adds to one Graph read
// (a GET decoding a small object, with a cached token): "bare" is the same
// request made with net/http alone, through the same transport and
// in-process handler.
func BenchmarkGraphOverhead(b *testing.B) {
	body := []byte(`{"id":"87d349ed-44d7-43e1-9a83-5f2406dee5bd","displayName":"Adele Vance",` +
		`"userPrincipalName":"AdeleV@contoso.onmicrosoft.com","mail":"AdeleV@contoso.onmicrosoft.com","accountEnabled":true}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	b.Cleanup(srv.Close)
	hc := srv.Client()
	ctx := b.Context()

	b.Run("bare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/v1.0/me", nil)
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer tok")
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			raw, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Fatal(resp.StatusCode, err)
			}
			var u User
			if err := json.Unmarshal(raw, &u); err != nil || u.ID == "" {
				b.Fatal(err)
			}
		}
	})
	b.Run("graph", func(b *testing.B) {
		c, err := New(fixed("tok"), WithBaseURL(srv.URL+"/v1.0"), WithHTTPClient(hc))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			u, err := c.Me(ctx)
			if err != nil || u.ID == "" {
				b.Fatal(err)
			}
		}
	})
}

package testserver

import (
	"fmt"
	"net/http"
	"time"
)

// The sandbox's clock on its admin endpoint, so that expiry can be
// rehearsed against a running sandbox: move it forward past a refresh
// token's 90 idle days or a secret's end, and the identity platform of the
// fake refuses them as Entra ID would.
//
//	GET  /_sandbox/clock                 the fake's now and how far it was moved
//	POST /_sandbox/clock?advance=2160h   move it forward (a Go duration)
//
// The clock only moves forward: what was issued stays issued.

func (s *Server) routeClock(mux *http.ServeMux) {
	mux.HandleFunc("GET /_sandbox/clock", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.clockJSON())
	})
	mux.HandleFunc("POST /_sandbox/clock", func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.URL.Query().Get("advance"))
		if err != nil || d <= 0 {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": fmt.Sprintf("advance=%q: give a positive Go duration, such as 2160h for 90 days", r.URL.Query().Get("advance"))})
			return
		}
		s.clock.Advance(d)
		writeJSON(w, http.StatusOK, s.clockJSON())
	})
}

func (s *Server) clockJSON() map[string]any {
	return map[string]any{"now": s.clock.Now().Format(time.RFC3339), "advanced": s.clock.Offset().String()}
}

// Offset returns how far Advance has moved the clock.
func (c *Clock) Offset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset
}

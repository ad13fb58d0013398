package testserver

import "net/http"

// Handler returns the fake's HTTP handler, faults included, for tests that
// serve it without a network (in a testing/synctest bubble, where a real
// socket would keep the bubble's clock from moving).
func (s *Server) Handler() http.Handler { return s.ts.Config.Handler }

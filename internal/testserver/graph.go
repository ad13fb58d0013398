package testserver

import "net/http"

func (s *Server) routeGraph(mux *http.ServeMux) {}

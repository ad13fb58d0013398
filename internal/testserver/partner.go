package testserver

import "net/http"

func (s *Server) routePartner(mux *http.ServeMux) {}

package testserver

import "net/http"

func (s *Server) routeExchange(mux *http.ServeMux) {}

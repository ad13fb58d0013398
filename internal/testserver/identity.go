package testserver

import "net/http"

func (s *Server) routeLogin(mux *http.ServeMux) {}

package server

import "net/http"

// OriginAllowed applies the server's origin policy to r, for endpoints
// mounted next to it with Handle (the Socket.IO endpoint, for instance).
func (s *Server) OriginAllowed(r *http.Request) bool { return s.originAllowed(r) }

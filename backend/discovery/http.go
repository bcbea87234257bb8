package discovery

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
)

// PeersJSON is the body of GET /api/peers.
type PeersJSON struct {
	Peers []Peer `json:"peers"`
}

// AddJSON is the body of POST /api/peers.
type AddJSON struct {
	Addr string `json:"addr"` // "host:port" or "http://host:port/"
}

// ErrNoAnswer is the error of POST /api/peers when the address did not
// answer as a lanchat host, whatever the cause.
const ErrNoAnswer = "no lanchat host answered at that address"

// ErrorJSON is the body of a failed request.
type ErrorJSON struct {
	Error string `json:"error"`
}

// Register adds the discovery routes through handle (server.Server.Handle).
// originAllowed is the host's origin policy (server.Server.OriginAllowed):
// a page it refuses cannot make this host add peers.
func (s *Service) Register(handle func(pattern string, h http.Handler), originAllowed func(*http.Request) bool) {
	s.originAllowed = originAllowed
	handle("GET /api/peers", http.HandlerFunc(s.servePeers))
	handle("POST /api/peers", http.HandlerFunc(s.serveAdd))
	handle("GET /api/discovery", http.HandlerFunc(s.serveDiagnosis))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Service) servePeers(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, PeersJSON{Peers: s.Peers()})
}

func (s *Service) serveDiagnosis(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Diagnosis())
}

func (s *Service) serveAdd(w http.ResponseWriter, r *http.Request) {
	if !s.originAllowed(r) {
		writeJSON(w, http.StatusForbidden, ErrorJSON{"origin not allowed"})
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeJSON(w, http.StatusUnsupportedMediaType, ErrorJSON{"send JSON: {\"addr\": \"host:port\"}"})
		return
	}
	var body AddJSON
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&body); err != nil {
		writeJSON(w, http.StatusBadRequest, ErrorJSON{"bad JSON: " + err.Error()})
		return
	}
	if _, err := ParseAddr(body.Addr); err != nil {
		writeJSON(w, http.StatusBadRequest, ErrorJSON{err.Error()})
		return
	}
	p, err := s.AddManual(r.Context(), body.Addr)
	switch {
	case errors.Is(err, ErrSelf):
		writeJSON(w, http.StatusConflict, ErrorJSON{err.Error()})
	case err != nil:
		// The cause (refused, timed out, not lanchat…) goes to the log only:
		// in the answer it would make this route a port scanner.
		s.log.Info("discovery: host added by address did not answer", "addr", body.Addr, "err", err)
		writeJSON(w, http.StatusBadGateway, ErrorJSON{ErrNoAnswer})
	default:
		writeJSON(w, http.StatusOK, p)
	}
}

// Package socketio is lanchat's Socket.IO-compatible endpoint: an Engine.IO
// v4 / Socket.IO v5 server at /socket.io/ (HTTP long-polling, WebSocket, and
// the upgrade from one to the other) that speaks the course chat's event
// contract. It keeps no rooms of its own: every client that gives a name
// becomes a member of the chat hub, and the hub's frames are translated into
// the course's events. It also serves the course's chat page at /course/.
package socketio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"lanchat/backend/chat"
	"lanchat/backend/sendq"
	"lanchat/backend/server/pending"
)

// Path is where the endpoint is mounted.
const Path = "/socket.io/"

// Config sets up a Server. Zero fields take the defaults noted.
type Config struct {
	Hub *chat.Hub
	// OriginAllowed is the host's origin policy; nil accepts every origin.
	OriginAllowed func(*http.Request) bool

	PingInterval time.Duration // default 25 s (the Engine.IO default)
	PingTimeout  time.Duration // default 20 s
	MaxPayload   int           // bytes per HTTP payload or WebSocket message; default 100 000
	// QueueBytes is the budget of bytes queued for one client; default
	// 4 MiB. A client that stays over it for QueueGrace (default 5 s)
	// without a break, or goes over QueueHardBytes (default 16 MiB), does
	// not keep up: it gets error_message and is disconnected (WebSocket
	// close code 4008).
	QueueBytes     int
	QueueHardBytes int
	QueueGrace     time.Duration
	MaxBatch       int // bytes written per WebSocket write; default 64 KiB
	// MaxSessions is how many clients that gave a name (members of the
	// hub) may be connected; default 1000. A handshake when that many are
	// named gets 503. Clients that have not given a name yet do not count:
	// Pending bounds them (see pending.Limits) by closing, when over a
	// limit, the one that has waited longest.
	MaxSessions int
	Pending     pending.Limits
	WriteWait   time.Duration // default 10 s

	Logger *slog.Logger
}

// Server is the endpoint. Run it with Run; serve it with ServeHTTP.
type Server struct {
	cfg      Config
	hub      *chat.Hub
	ctx      context.Context // ends when Run's context ends
	cancel   context.CancelFunc
	upgrader websocket.Upgrader

	mu       sync.Mutex
	sessions map[string]*session
	pending  *pending.Set                // sessions that have not given a name yet
	waiting  map[*session]*pending.Entry // their entries, under mu
	closed   bool
	wg       sync.WaitGroup // session and WebSocket goroutines
}

// New creates the endpoint for cfg.Hub.
func New(cfg Config) *Server {
	dur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	dur(&cfg.PingInterval, 25*time.Second)
	dur(&cfg.PingTimeout, 20*time.Second)
	dur(&cfg.WriteWait, 10*time.Second)
	def(&cfg.MaxPayload, 100_000)
	def(&cfg.QueueBytes, sendq.DefaultSoft)
	def(&cfg.QueueHardBytes, sendq.DefaultHard)
	if cfg.QueueHardBytes < cfg.QueueBytes {
		cfg.QueueHardBytes = cfg.QueueBytes
	}
	dur(&cfg.QueueGrace, sendq.DefaultGrace)
	def(&cfg.MaxBatch, 64<<10)
	def(&cfg.MaxSessions, 1000)
	if cfg.OriginAllowed == nil {
		cfg.OriginAllowed = func(*http.Request) bool { return true }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{cfg: cfg, hub: cfg.Hub, ctx: ctx, cancel: cancel, sessions: map[string]*session{},
		pending: pending.New(cfg.Pending), waiting: map[*session]*pending.Entry{}}
	s.upgrader = websocket.Upgrader{
		// An idle connection holds no write buffer (it comes from the pool
		// while a batch is written) and reuses the HTTP server's read buffer.
		WriteBufferSize: 4096,
		WriteBufferPool: writeBuffers,
		CheckOrigin:     cfg.OriginAllowed,
	}
	return s
}

// Run waits for ctx to end, then closes every client (so that the official
// clients reconnect to the next run of the host) and waits for all of the
// endpoint's goroutines.
func (s *Server) Run(ctx context.Context) error {
	select {
	case <-ctx.Done():
	case <-s.ctx.Done():
	}
	s.mu.Lock()
	s.closed = true
	open := make([]*session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		open = append(open, ss)
	}
	s.mu.Unlock()
	for _, ss := range open {
		ss.terminate(reasonShutdown)
	}
	s.cancel()
	s.wg.Wait()
	return nil
}

// Sessions is the number of open Engine.IO sessions.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Engine.IO error codes sent with HTTP 400/403.
const (
	errTransportUnknown = 0
	errUnknownSID       = 1
	errBadHandshake     = 2
	errBadRequest       = 3
	errForbidden        = 4
	errUnsupported      = 5
)

var errMessages = map[int]string{
	errTransportUnknown: "Transport unknown",
	errUnknownSID:       "Session ID unknown",
	errBadHandshake:     "Bad handshake method",
	errBadRequest:       "Bad request",
	errForbidden:        "Forbidden",
	errUnsupported:      "Unsupported protocol version",
}

func httpError(w http.ResponseWriter, status, code int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "message": errMessages[code]})
}

// ServeHTTP answers Engine.IO requests.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.cfg.OriginAllowed(r) {
		httpError(w, http.StatusForbidden, errForbidden)
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		w.Header().Add("Vary", "Origin")
	}
	if r.Method == http.MethodOptions {
		w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	q := r.URL.Query()
	if q.Get("EIO") != "4" {
		httpError(w, http.StatusBadRequest, errUnsupported)
		return
	}
	sid := q.Get("sid")
	switch q.Get("transport") {
	case "websocket":
		if r.Method != http.MethodGet || !websocket.IsWebSocketUpgrade(r) {
			httpError(w, http.StatusBadRequest, errBadRequest)
			return
		}
		s.serveWebSocket(w, r, sid)
	case "polling":
		if q.Has("j") {
			httpError(w, http.StatusBadRequest, errBadRequest) // JSONP is not offered
			return
		}
		if sid == "" {
			if r.Method != http.MethodGet {
				httpError(w, http.StatusBadRequest, errBadHandshake)
				return
			}
			s.handshakePolling(w, r)
			return
		}
		ss := s.session(sid)
		if ss == nil {
			httpError(w, http.StatusBadRequest, errUnknownSID)
			return
		}
		switch r.Method {
		case http.MethodGet:
			ss.poll(w, r)
		case http.MethodPost:
			ss.post(w, r)
		default:
			httpError(w, http.StatusBadRequest, errBadRequest)
		}
	default:
		httpError(w, http.StatusBadRequest, errTransportUnknown)
	}
}

func (s *Server) session(sid string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[sid]
}

// openSession registers a new session and starts its heartbeat. It returns
// nil when the endpoint is closing or full.
//
// A session waits among the pending ones until it gives a name (the hub's
// welcome reaches its socket); until then it counts against Pending, not
// MaxSessions. The course page connects before its user types a name, so
// there is no deadline for the name: a session that answers its pings may
// wait, unless newer ones need its place.
func (s *Server) openSession(transport string, r *http.Request) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || len(s.sessions)-s.pending.Len() >= s.cfg.MaxSessions {
		return nil
	}
	ss := newSession(s, newID(), transport)
	ss.remote = r.RemoteAddr
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	ss.origin = scheme + "://" + r.Host
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		ss.remote = host
	}
	named := func() bool { return ss.sock.self.Load() != nil }
	s.waiting[ss], _ = s.pending.Add(ss.remote, func() {
		if !named() {
			ss.terminate(reasonCrowded)
		}
	}, func() bool { return ss.ctx.Err() == nil && !named() })
	s.sessions[ss.id] = ss
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ss.run()
	}()
	return ss
}

func (s *Server) removeSession(ss *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions[ss.id] == ss {
		delete(s.sessions, ss.id)
	}
	s.pending.Remove(s.waiting[ss])
	delete(s.waiting, ss)
}

// reasonCrowded ends a session that gave no name while too many others
// waited to give theirs (see Config.Pending). The client sees an ordinary
// close and reconnects.
const reasonCrowded closeReason = 64

// Pending returns the counters of sessions that have not given a name yet.
func (s *Server) Pending() pending.Stats { return s.pending.Stats() }

// handshake is the JSON of the Engine.IO open packet.
type handshake struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int64    `json:"pingInterval"`
	PingTimeout  int64    `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

func (s *Server) openPacket(sid string, upgrades []string) []byte {
	b, _ := json.Marshal(handshake{
		SID: sid, Upgrades: upgrades,
		PingInterval: s.cfg.PingInterval.Milliseconds(),
		PingTimeout:  s.cfg.PingTimeout.Milliseconds(),
		MaxPayload:   s.cfg.MaxPayload,
	})
	return append([]byte{eioOpen}, b...)
}

func (s *Server) handshakePolling(w http.ResponseWriter, r *http.Request) {
	ss := s.openSession(transportPolling, r)
	if ss == nil {
		http.Error(w, "the host is full or shutting down", http.StatusServiceUnavailable)
		return
	}
	writePayload(w, s.openPacket(ss.id, []string{"websocket"}))
}

func writePayload(w http.ResponseWriter, payload []byte) {
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(payload)
}

// newID returns a random, URL-safe id of 20 characters (like Engine.IO's).
func newID() string {
	b := make([]byte, 15)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// writeBuffers lends WebSocket write buffers to sessions while they write.
var writeBuffers = &sync.Pool{}

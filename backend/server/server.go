// Package server is lanchat's HTTP and WebSocket transport: /ws speaks
// protocol v1 to the chat hub, /api/info describes the host, and / serves the
// web UI. It enforces the origin policy and the connection limits.
package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
	"lanchat/backend/sendq"
	"lanchat/backend/server/netwait"
	"lanchat/backend/server/pending"
	"lanchat/backend/server/sniff"
)

// Config sets up a Server. Zero fields take the defaults noted.
type Config struct {
	Hub     *chat.Hub
	Version string // the application's version, for /api/info

	MaxConns int // default 10000
	// QueueBytes is the budget of encoded bytes queued for one connection;
	// default 4 MiB. A connection that stays over it for QueueGrace
	// (default 5 s) without a break, or goes over QueueHardBytes (default
	// 16 MiB), does not keep up: it gets slow_consumer and close code 4008.
	// Shorter bursts are absorbed, and a queued rooms list or presence
	// frame is superseded by a newer one rather than queued twice.
	QueueBytes     int
	QueueHardBytes int
	QueueGrace     time.Duration

	MaxFrame     int           // bytes read per frame; default the hub's MaxFrame
	MaxBatch     int           // bytes coalesced per written message; default 64 KiB
	PingInterval time.Duration // default 20 s
	PongWait     time.Duration // a silent connection is dead after this; default 45 s
	WriteWait    time.Duration // default 10 s
	HelloWait    time.Duration // default 10 s
	// ParkAfter is how long a member's reader waits for its next frame on a
	// goroutine before the wait is parked (see parking.go); default 2 s. A
	// member who has just sent a frame often sends the next soon.
	ParkAfter time.Duration
	// HelloWaitBusy is the hello deadline of a connection that arrives
	// while more than half of Pending.Total connections wait for theirs;
	// default 2 s.
	HelloWaitBusy time.Duration
	// Pending bounds the connections that have not said hello yet. They do
	// not count against MaxConns (only members do); over a limit, the one
	// that has waited longest is closed (see pending.Limits).
	Pending pending.Limits

	// ReadHeaderTimeout bounds reading a request's headers (default 10 s),
	// ReadTimeout its headers and body (default 30 s), and IdleTimeout how
	// long a keep-alive connection waits for its next request (default
	// 60 s). There is no write timeout: long-polls are held open up to
	// Socket.IO's ping interval, and WebSocket connections keep their own
	// deadlines.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	IdleTimeout       time.Duration

	// AllowedHosts are host names the server answers to besides its own
	// addresses, loopback, localhost, its .local names and the webview's
	// (lanchat serve --allow-host). Every other Host gets 421.
	AllowedHosts []string

	// AllowedOrigins are accepted besides same-origin, the Wails webviews and
	// requests with no Origin (for example "http://localhost:34115" for wails dev).
	AllowedOrigins []string
	// MoreOrigins, when set, accepts further origins: the pages of a
	// cluster's other boxes, whose members fail over to this one.
	MoreOrigins func(origin string) bool
	// Assets is the built web UI; nil serves a placeholder page.
	Assets fs.FS
	// JoinURLs returns the links people use to reach this host.
	JoinURLs func() []string
	// JoinCodeRequired reports whether a join code is needed, for /api/info.
	JoinCodeRequired func() bool

	// TLS, when set, serves HTTPS and WSS on the same port as plain HTTP:
	// the first byte a client sends tells the two apart. Fingerprint is
	// the served key's fingerprint, given in /api/info.
	TLS         *tls.Config
	Fingerprint string

	Logger *slog.Logger
}

// WebviewOrigins are the page origins of the desktop app's webview:
// Linux and macOS use wails://wails, Windows http://wails.localhost.
var WebviewOrigins = []string{"wails://wails", "http://wails.localhost", "https://wails.localhost"}

// Server serves one host.
type Server struct {
	cfg      Config
	hub      *chat.Hub
	mux      *http.ServeMux
	upgrader websocket.Upgrader
	conns    atomic.Int64 // members: connections whose hello the hub accepted
	pending  *pending.Set // connections still waiting for their hello
	hosts    *hostPolicy
	handler  http.Handler   // the mux behind the Host check
	wg       sync.WaitGroup // connection goroutines
	port     atomic.Int64
	pollOnce sync.Once
	poller   atomic.Pointer[netwait.Poller] // parks idle readers (nil: not started, or unsupported)
	pollWG   sync.WaitGroup                 // its Run

	mu       sync.Mutex
	live     map[*wsConn]struct{}
	stopping bool
	pollCtx  context.Context // Serve's, for the poller
}

// parker is the poller that parks idle readers, started with the first
// socket to park (Serve stops it after the last connection). It is nil
// where the platform has none and outside Serve: readers then wait on
// goroutines. Sockets without a descriptor (in-memory pipes in tests) never
// start it.
func (s *Server) parker() *netwait.Poller {
	s.pollOnce.Do(func() {
		s.mu.Lock()
		ctx := s.pollCtx
		s.mu.Unlock()
		if ctx == nil {
			return
		}
		p, err := netwait.New()
		if err != nil {
			s.cfg.Logger.Debug("idle readers wait on goroutines", "err", err)
			return
		}
		s.poller.Store(p)
		s.pollWG.Go(func() {
			if err := p.Run(ctx); err != nil {
				s.cfg.Logger.Warn("poller", "err", err)
			}
		})
	})
	return s.poller.Load()
}

// New creates a server for cfg.Hub.
func New(cfg Config) *Server {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&cfg.MaxConns, 10000)
	def(&cfg.QueueBytes, sendq.DefaultSoft)
	def(&cfg.QueueHardBytes, sendq.DefaultHard)
	if cfg.QueueHardBytes < cfg.QueueBytes {
		cfg.QueueHardBytes = cfg.QueueBytes
	}
	def(&cfg.MaxFrame, cfg.Hub.Config().MaxFrame)
	def(&cfg.MaxBatch, 64<<10)
	dur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	dur(&cfg.PingInterval, 20*time.Second)
	dur(&cfg.PongWait, 45*time.Second)
	dur(&cfg.WriteWait, 10*time.Second)
	dur(&cfg.ParkAfter, 2*time.Second)
	dur(&cfg.HelloWait, 10*time.Second)
	dur(&cfg.HelloWaitBusy, 2*time.Second)
	dur(&cfg.ReadHeaderTimeout, 10*time.Second)
	dur(&cfg.ReadTimeout, 30*time.Second)
	dur(&cfg.IdleTimeout, 60*time.Second)
	dur(&cfg.QueueGrace, sendq.DefaultGrace)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.JoinURLs == nil {
		cfg.JoinURLs = func() []string { return nil }
	}
	if cfg.JoinCodeRequired == nil {
		cfg.JoinCodeRequired = func() bool { return false }
	}
	s := &Server{cfg: cfg, hub: cfg.Hub, mux: http.NewServeMux(), live: map[*wsConn]struct{}{},
		pending: pending.New(cfg.Pending)}
	s.cfg.Pending = s.pending.Limits()
	s.hosts = newHostPolicy(cfg.Hub.Config().HostID, cfg.AllowedHosts)
	s.handler = s.checkHost(s.mux)
	s.upgrader = websocket.Upgrader{
		// An idle connection holds no write buffer (it comes from the pool
		// while a batch is written) and a small read buffer, which upgrade
		// makes (ReadBufferSize 0 has the library read through it).
		ReadBufferSize:  0,
		WriteBufferSize: 4096,
		WriteBufferPool: writeBuffers,
		CheckOrigin:     s.originAllowed,
	}
	s.mux.HandleFunc("GET /ws", s.handleWS)
	s.mux.HandleFunc("GET /api/info", s.handleInfo)
	s.mux.Handle("GET /", s.uiHandler())
	return s
}

// Handle adds a route, for the packages wired next to the server
// (discovery's /api/peers, for instance). Like every route, it answers only
// requests whose Host names this host.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// ServeHTTP makes the server an http.Handler: the Host check, then the routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Pending returns the counters of connections waiting for their hello.
func (s *Server) Pending() pending.Stats { return s.pending.Stats() }

// originAllowed is the origin policy: no Origin (a native client),
// same-origin, the Wails webviews and configured extras. Anything else,
// such as a foreign web page in someone's browser, is refused with 403.
func (s *Server) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	for _, o := range WebviewOrigins {
		if strings.EqualFold(origin, o) {
			return true
		}
	}
	for _, o := range s.cfg.AllowedOrigins {
		if strings.EqualFold(origin, o) {
			return true
		}
	}
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	return strings.EqualFold(u.Host, r.Host) || (s.cfg.MoreOrigins != nil && s.cfg.MoreOrigins(origin))
}

func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) {
	if !s.originAllowed(r) {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	ws, br, err := upgrade(&s.upgrader, w, r)
	if err != nil {
		return // the upgrader has answered
	}
	c := newWSConn(s, ws, br)
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		c.writeFinal(protocol.Errorf(protocol.CodeShuttingDown, "the host is shutting down"))
		ws.Close()
		return
	}
	s.live[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	// The connection runs on a goroutine of its own and the handler
	// returns, so net/http's goroutine (and what it holds for a request
	// cycle an upgraded connection never has again) ends now.
	go c.serve(func() {
		s.mu.Lock()
		delete(s.live, c)
		s.mu.Unlock()
		s.wg.Done()
	})
}

// admitConn takes a member's place under MaxConns, once a hello has come.
func (s *Server) admitConn() bool {
	if s.conns.Add(1) > int64(s.cfg.MaxConns) {
		s.conns.Add(-1)
		return false
	}
	return true
}

// Info is the JSON of GET /api/info.
type Info struct {
	ID       string              `json:"id"`
	Name     string              `json:"name"`
	Version  string              `json:"version"`
	Protocol int                 `json:"protocol"`
	Port     int                 `json:"port"`
	URLs     []string            `json:"urls"`
	Members  int                 `json:"members"`
	Rooms    []protocol.RoomInfo `json:"rooms"`
	JoinCode bool                `json:"join_code"`
	// Fingerprint identifies the key the host serves TLS with; TLS says
	// whether it does (on the same port as plain HTTP).
	Fingerprint string `json:"fingerprint,omitempty"`
	TLS         bool   `json:"tls"`
}

// Info describes the host.
func (s *Server) Info() Info {
	st := s.hub.Stats()
	cfg := s.hub.Config()
	urls := s.cfg.JoinURLs()
	if urls == nil {
		urls = []string{}
	}
	return Info{
		ID: cfg.HostID, Name: s.hub.HostName(), Version: s.cfg.Version, Protocol: protocol.Version,
		Port: int(s.port.Load()), URLs: urls, Members: st.Members, Rooms: st.Rooms,
		JoinCode: s.cfg.JoinCodeRequired(), Fingerprint: s.cfg.Fingerprint, TLS: s.cfg.TLS != nil,
	}
}

func (s *Server) handleInfo(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, s.Info())
}

// WriteJSON answers with v as JSON, uncached.
func WriteJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}

const placeholder = `<!doctype html><html lang="en"><meta charset="utf-8"><title>lanchat</title>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto"><h1>lanchat</h1>
<p>This host is running. The web interface is not built into this binary; run <code>make build</code>.</p>
<p>Host information: <a href="/api/info">/api/info</a></p></body></html>`

func (s *Server) uiHandler() http.Handler {
	if s.cfg.Assets != nil {
		if _, err := fs.Stat(s.cfg.Assets, "index.html"); err == nil {
			files := http.FileServerFS(s.cfg.Assets)
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Content-Type-Options", "nosniff")
				if r.URL.Path == "/" || r.URL.Path == "/index.html" {
					w.Header().Set("Cache-Control", "no-cache")
				}
				// Not every system's MIME table knows the web app manifest.
				if strings.HasSuffix(r.URL.Path, ".webmanifest") {
					w.Header().Set("Content-Type", "application/manifest+json")
				}
				files.ServeHTTP(w, r)
			})
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, placeholder)
	})
}

// Listen opens addr. If its port is taken it tries the next 20 ports, then
// any free port. The caller learns the port from the listener.
func Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil || !errors.Is(err, syscall.EADDRINUSE) {
		return ln, err
	}
	host, portStr, splitErr := net.SplitHostPort(addr)
	if splitErr != nil {
		return nil, err
	}
	port, _ := strconv.Atoi(portStr)
	for p := port + 1; port > 0 && p <= port+20 && p < 65536; p++ {
		if ln, err2 := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p))); err2 == nil {
			return ln, nil
		}
	}
	return net.Listen("tcp", net.JoinHostPort(host, "0"))
}

// Serve serves on ln until ctx ends, then shuts down: members are told the
// host is going away (close code 1001) and every connection goroutine is
// waited for.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.port.Store(int64(ln.Addr().(*net.TCPAddr).Port))
	hs := &http.Server{Handler: s, ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout: s.cfg.ReadTimeout, IdleTimeout: s.cfg.IdleTimeout,
		ErrorLog: slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelDebug)}
	pollCtx, stopPoll := context.WithCancel(context.Background())
	defer stopPoll()
	s.mu.Lock()
	s.pollCtx = pollCtx
	s.mu.Unlock()
	errc := make(chan error, 2)
	serving := 1
	splitCtx, stopSplit := context.WithCancel(context.Background())
	defer stopSplit()
	splitDone := make(chan error, 1)
	if s.cfg.TLS != nil {
		// HTTPS and plain HTTP on the same port, told apart by their first byte.
		split := sniff.New(ln, s.cfg.ReadHeaderTimeout)
		go func() { splitDone <- split.Run(splitCtx) }()
		serving = 2
		go func() { errc <- hs.Serve(split.Plain()) }()
		go func() { errc <- hs.Serve(tls.NewListener(split.TLS(), s.cfg.TLS)) }()
	} else {
		splitDone <- nil
		go func() { errc <- hs.Serve(ln) }()
	}
	var failed error
	select {
	case failed = <-errc:
		serving--
	case <-ctx.Done():
	}
	s.mu.Lock()
	s.stopping = true
	s.hub.Close()
	for c := range s.live {
		c.stopBeforeHello()
	}
	s.mu.Unlock()
	shutCtx, cancel := context.WithTimeout(context.Background(), s.cfg.WriteWait)
	defer cancel()
	err := hs.Shutdown(shutCtx)
	for ; serving > 0; serving-- {
		<-errc
	}
	stopSplit()
	<-splitDone
	s.wg.Wait()
	stopPoll() // no connection is left to park
	s.pollWG.Wait()
	if failed != nil {
		return failed
	}
	return err
}

// Port is the port Serve listens on (0 before Serve).
func (s *Server) Port() int { return int(s.port.Load()) }

// writeBuffers lends WebSocket write buffers to connections while they write.
var writeBuffers = &sync.Pool{}

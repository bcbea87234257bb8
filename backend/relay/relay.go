// Package relay carries the desktop app's WebSocket connections to other
// hosts over TLS pinned to the key each host proved when it was first met.
//
// The webview cannot pin a self-signed certificate, so it does not dial
// other hosts itself: it opens ws://127.0.0.1:<own port>/relay?addr=…&fp=…
// on its own host, which dials wss://addr/ws, checks the key against fp (a
// key remembered in the pin store, never one the page makes up) and then
// copies messages both ways, close codes included.
package relay

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"lanchat/backend/identity"
)

// Config sets up a Relay.
type Config struct {
	// Pins are the keys of the hosts met; only hosts holding one of them
	// are relayed to.
	Pins *identity.Pins
	// OriginAllowed is the host's origin policy for the webview's request.
	OriginAllowed func(*http.Request) bool
	// MaxMessage bounds a message from the remote host (default 64 MiB);
	// a message from the webview is bounded at 1 MiB.
	MaxMessage int64
	// PongWait is how long the remote host may stay silent (no message,
	// no ping) before the relayed connection counts as lost; default 60 s,
	// above the server's ping interval.
	PongWait time.Duration
	Logger   *slog.Logger
	// Dial overrides how the remote host is reached (tests); default TCP.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Relay is the /relay endpoint. Close ends every relayed connection and
// waits for their goroutines.
type Relay struct {
	cfg      Config
	upgrader websocket.Upgrader

	mu     sync.Mutex
	closed bool
	live   map[*pair]struct{}
	wg     sync.WaitGroup
	files  transports // the files relay's pinned HTTPS transports
}

// New makes a relay.
func New(cfg Config) *Relay {
	if cfg.MaxMessage <= 0 {
		cfg.MaxMessage = 64 << 20
	}
	if cfg.PongWait <= 0 {
		cfg.PongWait = 60 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Dial == nil {
		cfg.Dial = (&net.Dialer{Timeout: 5 * time.Second}).DialContext
	}
	r := &Relay{cfg: cfg, live: map[*pair]struct{}{}}
	r.upgrader = websocket.Upgrader{CheckOrigin: cfg.OriginAllowed}
	return r
}

// pair is one relayed connection: the webview's side and the host's.
type pair struct {
	local, remote *websocket.Conn
	once          sync.Once
}

func (p *pair) close() {
	p.once.Do(func() {
		_ = p.local.Close()
		_ = p.remote.Close()
	})
}

// ServeHTTP relays one connection. Only the computer itself may use it
// (a loopback peer), only for a remembered key, and only from a page the
// host's origin policy allows.
func (r *Relay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if !r.admit(w, req) {
		return
	}
	q := req.URL.Query()
	addr, fp := q.Get("addr"), identity.Normalize(q.Get("fp"))
	if !r.known(w, addr, fp) {
		return
	}
	ctx, cancel := context.WithTimeout(req.Context(), 10*time.Second)
	remote, err := r.dial(ctx, addr, fp)
	cancel()
	if err != nil {
		r.cfg.Logger.Info("relay: host not reached", "addr", addr, "err", err)
		badGateway(w, err)
		return
	}
	local, err := r.upgrader.Upgrade(w, req, nil)
	if err != nil {
		_ = remote.Close()
		return // the upgrader has answered
	}
	p := &pair{local: local, remote: remote}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		_ = local.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "shutting down"), time.Now().Add(time.Second))
		p.close()
		return
	}
	r.live[p] = struct{}{}
	r.wg.Add(2)
	r.mu.Unlock()
	go func() { defer r.wg.Done(); r.pump(p, remote, local, r.cfg.MaxMessage, true) }()
	go func() { defer r.wg.Done(); r.pump(p, local, remote, 1<<20, false) }()
}

// admit lets only the computer itself (a loopback peer) use the relay,
// from a page the host's origin policy allows; it answers a refusal.
func (r *Relay) admit(w http.ResponseWriter, req *http.Request) bool {
	if !loopback(req.RemoteAddr) {
		http.Error(w, "the relay serves this computer's own app only", http.StatusForbidden)
		return false
	}
	if r.cfg.OriginAllowed != nil && !r.cfg.OriginAllowed(req) {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return false
	}
	return true
}

// known checks addr is host:port and fp a remembered key (never one the
// page makes up); it answers a refusal.
func (r *Relay) known(w http.ResponseWriter, addr, fp string) bool {
	if _, _, err := net.SplitHostPort(addr); err != nil || addr == "" {
		http.Error(w, "addr must be host:port", http.StatusBadRequest)
		return false
	}
	if !identity.ValidFingerprint(fp) || r.cfg.Pins == nil || !r.cfg.Pins.Known(fp) {
		http.Error(w, "that key is not one of a host met before", http.StatusForbidden)
		return false
	}
	return true
}

// dial opens wss://addr/ws, checking the host's key against fp.
func (r *Relay) dial(ctx context.Context, addr, fp string) (*websocket.Conn, error) {
	d := websocket.Dialer{
		NetDialContext:   r.cfg.Dial,
		TLSClientConfig:  identity.ClientConfig(fp),
		HandshakeTimeout: 10 * time.Second,
	}
	u := url.URL{Scheme: "wss", Host: addr, Path: "/ws"}
	c, resp, err := d.DialContext(ctx, u.String(), nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// pump copies messages from src to dst until either side ends, then
// passes the close code on and closes both.
func (r *Relay) pump(p *pair, src, dst *websocket.Conn, limit int64, fromHost bool) {
	defer func() {
		p.close()
		r.mu.Lock()
		delete(r.live, p)
		r.mu.Unlock()
	}()
	src.SetReadLimit(limit)
	if fromHost {
		// The host pings; every ping (and message) proves it is there.
		_ = src.SetReadDeadline(time.Now().Add(r.cfg.PongWait))
		src.SetPingHandler(func(data string) error {
			_ = src.SetReadDeadline(time.Now().Add(r.cfg.PongWait))
			err := src.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(10*time.Second))
			if errors.Is(err, websocket.ErrCloseSent) {
				return nil
			}
			return err
		})
	}
	for {
		kind, msg, err := src.ReadMessage()
		if err != nil {
			code, text := websocket.CloseAbnormalClosure, ""
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				code, text = ce.Code, ce.Text
			}
			if code == websocket.CloseAbnormalClosure || code == websocket.CloseNoStatusReceived {
				// The webview learns that the other side was lost, not
				// that it left: it reconnects.
				code, text = websocket.CloseInternalServerErr, "relayed connection lost"
			}
			_ = dst.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
			return
		}
		if fromHost {
			_ = src.SetReadDeadline(time.Now().Add(r.cfg.PongWait))
		}
		_ = dst.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if err := dst.WriteMessage(kind, msg); err != nil {
			return
		}
	}
}

// Close ends every relayed connection (close code 1001) and waits for
// their goroutines.
func (r *Relay) Close() {
	r.mu.Lock()
	r.closed = true
	for p := range r.live {
		_ = p.local.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "shutting down"), time.Now().Add(time.Second))
		p.close()
	}
	r.mu.Unlock()
	r.wg.Wait()
	r.closeTransports()
}

// Live is the number of connections being relayed.
func (r *Relay) Live() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.live)
}

func loopback(remoteAddr string) bool {
	h, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// URL is the relay address the webview dials for the host at addr with key
// fp, given the own host's ws URL (ws://127.0.0.1:port/ws).
func URL(ownWS, addr, fp string) string {
	u, err := url.Parse(ownWS)
	if err != nil {
		return ""
	}
	u.Path = "/relay"
	u.RawQuery = url.Values{"addr": {addr}, "fp": {fp}}.Encode()
	return u.String()
}

// badGateway answers 502 for a host the relay could not reach, saying
// whether it presented another key than the remembered one.
func badGateway(w http.ResponseWriter, err error) {
	text := "the host did not answer"
	var mismatch *identity.MismatchError
	if errors.As(err, &mismatch) {
		text = "the host presented another key than the one remembered"
	}
	http.Error(w, text, http.StatusBadGateway)
}

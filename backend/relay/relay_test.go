package relay

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"lanchat/backend/identity"
)

// farHost is another host: a TLS WebSocket server with a key of its own
// that echoes text and closes with the code a message asks for.
func farHost(t *testing.T) (addr string, id *identity.Identity) {
	t.Helper()
	id, err := identity.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	up := websocket.Upgrader{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ws" || r.Header.Get("Origin") != "" {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if string(msg) == "kick me" {
				_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4001, "kicked"), time.Now().Add(time.Second))
				return
			}
			if err := c.WriteMessage(websocket.TextMessage, append([]byte("echo "), msg...)); err != nil {
				return
			}
		}
	}))
	srv.TLS = id.ServerConfig()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), id
}

// ownHost serves the relay on loopback, as the desktop app's host does.
func ownHost(t *testing.T, pins *identity.Pins) (*Relay, string) {
	t.Helper()
	r := New(Config{Pins: pins, OriginAllowed: func(req *http.Request) bool {
		o := req.Header.Get("Origin")
		return o == "" || o == "wails://wails"
	}})
	mux := http.NewServeMux()
	mux.Handle("GET /relay", r)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { r.Close(); srv.Close() })
	return r, "ws://" + srv.Listener.Addr().String() + "/ws"
}

func dialRelay(t *testing.T, own, addr, fp string, origin string) (*websocket.Conn, int, error) {
	t.Helper()
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	c, resp, err := websocket.DefaultDialer.Dial(URL(own, addr, fp), h)
	code := 0
	if resp != nil {
		code = resp.StatusCode
	}
	return c, code, err
}

func TestRelayCarriesMessagesAndCloseCodes(t *testing.T) {
	addr, far := farHost(t)
	pins := identity.NewMemoryPins()
	if _, err := pins.Check("far-id", "far", far.Fingerprint); err != nil {
		t.Fatal(err)
	}
	r, own := ownHost(t, pins)
	c, code, err := dialRelay(t, own, addr, identity.Short(far.Fingerprint)+strings.ToUpper(far.Fingerprint[16:]), "wails://wails")
	if err != nil {
		t.Fatalf("dial: %v (HTTP %d)", err, code)
	}
	defer c.Close()
	for _, text := range []string{"hello", strings.Repeat("x", 100_000)} {
		if err := c.WriteMessage(websocket.TextMessage, []byte(text)); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, got, err := c.ReadMessage()
		if err != nil || string(got) != "echo "+text {
			t.Fatalf("got %.40q, %v", got, err)
		}
	}
	if r.Live() != 1 {
		t.Errorf("live %d", r.Live())
	}
	if err := c.WriteMessage(websocket.TextMessage, []byte("kick me")); err != nil {
		t.Fatal(err)
	}
	_, _, err = c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4001 || ce.Text != "kicked" {
		t.Fatalf("the host's close reached the webview as %v", err)
	}
}

func TestRelayRefuses(t *testing.T) {
	addr, far := farHost(t)
	impostorAddr, _ := farHost(t) // another key
	pins := identity.NewMemoryPins()
	if _, err := pins.Check("far-id", "far", far.Fingerprint); err != nil {
		t.Fatal(err)
	}
	unknown, err := identity.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, own := ownHost(t, pins)
	for _, tc := range []struct {
		name, addr, fp, origin string
		status                 int
	}{
		{"a key never met", addr, unknown.Fingerprint, "", http.StatusForbidden},
		{"not a fingerprint", addr, "hello", "", http.StatusForbidden},
		{"a remembered key at a host holding another", impostorAddr, far.Fingerprint, "", http.StatusBadGateway},
		{"nobody there", "127.0.0.1:1", far.Fingerprint, "", http.StatusBadGateway},
		{"no port", "127.0.0.1", far.Fingerprint, "", http.StatusBadRequest},
		{"a foreign page", addr, far.Fingerprint, "http://evil.example", http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, status, err := dialRelay(t, own, tc.addr, tc.fp, tc.origin)
			if err == nil {
				c.Close()
				t.Fatal("relayed")
			}
			if status != tc.status {
				t.Errorf("HTTP %d, want %d (%v)", status, tc.status, err)
			}
		})
	}
}

func TestRelayServesThisComputerOnly(t *testing.T) {
	_, far := farHost(t)
	pins := identity.NewMemoryPins()
	_, _ = pins.Check("far-id", "far", far.Fingerprint)
	r := New(Config{Pins: pins})
	defer r.Close()
	req := httptest.NewRequest(http.MethodGet, URL("ws://127.0.0.1:1/ws", "127.0.0.1:1", far.Fingerprint), nil)
	req.RemoteAddr = "192.168.1.50:40000"
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	if w.Code != http.StatusForbidden {
		t.Errorf("a LAN caller got %d", w.Code)
	}
}

func TestRelayCloseEndsConnections(t *testing.T) {
	addr, far := farHost(t)
	pins := identity.NewMemoryPins()
	_, _ = pins.Check("far-id", "far", far.Fingerprint)
	r, own := ownHost(t, pins)
	c, _, err := dialRelay(t, own, addr, far.Fingerprint, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r.Close()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Fatalf("after Close: %v", err)
	}
	if r.Live() != 0 {
		t.Errorf("live %d", r.Live())
	}
	// And a new one is refused with a close, not relayed.
	c2, _, err := dialRelay(t, own, addr, far.Fingerprint, "")
	if err == nil {
		_ = c2.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := c2.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseGoingAway) {
			t.Errorf("after Close, a new connection: %v", err)
		}
		c2.Close()
	}
}
